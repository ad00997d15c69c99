// The injection and validation webhooks as store admission hooks: a new pod goes through the injection webhooks
// its namespace and labels select (one MutatingWebhookConfiguration per revision and revision tag); Istio
// objects are validated. Once an istiod has been up, its webhooks fail closed while its Service has no ready
// endpoints, with the API server's webhook error text (ISTIO-FACTS.md "Control plane outage").

import { parse as parseYaml } from 'yaml';
import type { ObjectStore, ResourceKey, StoredObject } from '../../store/types.js';
import { StoreError } from '../../store/types.js';
import { asArray, asRecord, asString, type Json } from '../model/read.js';
import { type InjectionOptions, injectSidecar, podOptsOut } from './inject.js';
import { validateIstioObject } from './validate.js';
import { injectorValues, WEBHOOK_CONFIGURATIONS, webhooksFor } from './webhooks.js';

export interface MeshAdmissionOptions extends InjectionOptions {
  rootNamespace?: string;
}

export interface MeshAdmission {
  /** Whether istiod has had ready endpoints at least once (from then on the webhooks fail closed). */
  istiodHasBeenUp(): boolean;
  stop(): void;
}

// The store keys hooks by storage, so one version per kind covers v1, v1beta1 and v1alpha3 alike.
const ISTIO_KINDS: ResourceKey[] = [
  ...['virtualservices', 'destinationrules', 'gateways', 'serviceentries', 'sidecars'].map((resource) => ({
    group: 'networking.istio.io',
    version: 'v1',
    resource,
  })),
  ...['peerauthentications', 'authorizationpolicies'].map((resource) => ({
    group: 'security.istio.io',
    version: 'v1',
    resource,
  })),
];

function webhookUnavailable(webhook: string, service: string, path: string, why?: string): StoreError {
  return new StoreError(
    500,
    'InternalError',
    `Internal error occurred: failed calling webhook "${webhook}": failed to call webhook: Post "https://${service}.istio-system.svc:443/${path}?timeout=10s": ${why ?? `no endpoints available for service "${service}"`}`,
  );
}

function hasContainer(pod: Json, name: string): boolean {
  const spec = asRecord(pod.spec);
  return [...asArray(spec.containers), ...asArray(spec.initContainers)].some(
    (c) => asString(asRecord(c).name) === name,
  );
}

/** Endpoints readiness per istiod Service, and which have been ready once (from then on they fail closed). */
function trackIstiodEndpoints(store: ObjectStore, rootNamespace: string) {
  const endpointsKey: ResourceKey = { group: '', version: 'v1', resource: 'endpoints' };
  const ready = (name: string): boolean => {
    const eps = store.get(endpointsKey, rootNamespace, name);
    return asArray(eps?.subsets).some((s) => asArray(asRecord(s).addresses).length > 0);
  };
  const everUp = new Set<string>();
  for (const eps of store.list(endpointsKey, { namespace: rootNamespace }).items) {
    if (ready(eps.metadata.name ?? '')) everUp.add(eps.metadata.name ?? '');
  }
  const watch = store.watch(endpointsKey, { namespace: rootNamespace }, (event) => {
    const name = event.object.metadata.name ?? '';
    if (ready(name)) everUp.add(name);
  });
  return { ready, everUp, stop: () => watch.stop() };
}

/**
 * The API server calling the injection webhooks that select the pod (./webhooks.ts): the first to answer
 * injects with its revision's values; the others see an injected pod and leave it. A webhook whose istiod has
 * been up and has no ready endpoints now fails the create (failurePolicy Fail), as does one whose Service is gone.
 */
function injectPod(
  store: ObjectStore,
  object: StoredObject,
  options: MeshAdmissionOptions,
  endpoints: ReturnType<typeof trackIstiodEndpoints>,
): void {
  const namespacesKey: ResourceKey = { group: '', version: 'v1', resource: 'namespaces' };
  const ns = store.get(namespacesKey, undefined, object.metadata.namespace ?? 'default');
  const pod = object as unknown as Json;
  for (const hook of webhooksFor(store, ns, pod)) {
    if (hasContainer(pod, 'istio-proxy')) return;
    const service = hook.service.name;
    const values = injectorValues(store, hook.service);
    if (!values) throw webhookUnavailable(hook.name, service, 'inject', `service "${service}" not found`);
    if (endpoints.everUp.has(service) && !endpoints.ready(service)) {
      throw webhookUnavailable(hook.name, service, 'inject');
    }
    if (podOptsOut(pod)) return;
    const injected = injectSidecar(
      pod,
      {
        ...options,
        ...(values.tag ? { version: values.tag } : {}),
        revision: values.revision,
        discoveryAddress: `${service}.${hook.service.namespace}.svc:15012`,
      },
      parseYaml,
    );
    object.metadata = injected.metadata as StoredObject['metadata'];
    object.spec = injected.spec;
  }
}

/**
 * The istiod behind `istiod-default-validator`: the default revision's (`istiod`), or the revision the `default`
 * tag points at (`istioctl tag set default` regenerates the validator from the tag's webhook).
 */
function validatingService(store: ObjectStore): string {
  const tag = store.get(WEBHOOK_CONFIGURATIONS, undefined, 'istio-revision-tag-default');
  const hook = asRecord(asArray((tag as unknown as Json | undefined)?.webhooks)[0]);
  return asString(asRecord(asRecord(hook.clientConfig).service).name) ?? 'istiod';
}

export function registerMeshAdmission(store: ObjectStore, options: MeshAdmissionOptions = {}): MeshAdmission {
  const rootNamespace = options.rootNamespace ?? 'istio-system';
  const podsKey: ResourceKey = { group: '', version: 'v1', resource: 'pods' };
  const endpoints = trackIstiodEndpoints(store, rootNamespace);
  const failClosed = (): boolean => {
    const service = validatingService(store);
    const exists = store.get({ group: '', version: 'v1', resource: 'services' }, rootNamespace, service);
    return exists !== undefined && endpoints.everUp.has(service) && !endpoints.ready(service);
  };

  store.addAdmissionHook(podsKey, (operation, object: StoredObject) => {
    if (operation !== 'CREATE') return;
    injectPod(store, object, options, endpoints);
  });

  for (const key of ISTIO_KINDS) {
    store.addAdmissionHook(key, (_operation, object: StoredObject) => {
      // The validator calls the default revision's istiod (or the one the `default` tag points at).
      if (failClosed()) throw webhookUnavailable('validation.istio.io', validatingService(store), 'validate');
      const problems = validateIstioObject(object.kind, asRecord(object.spec));
      if (problems.length > 0) {
        throw new StoreError(
          400,
          'BadRequest',
          `admission webhook "validation.istio.io" denied the request: configuration is invalid: ${problems.join(', ')}`,
        );
      }
    });
  }

  return { istiodHasBeenUp: () => endpoints.everUp.has('istiod'), stop: () => endpoints.stop() };
}
