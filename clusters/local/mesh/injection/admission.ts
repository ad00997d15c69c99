// The injection and validation webhooks as store admission hooks: pods in injected namespaces get the
// sidecar; Istio objects are validated. Once istiod has been up, both fail closed while `istio-system/istiod`
// has no ready endpoints, with the API server's webhook error text (ISTIO-FACTS.md "Control plane outage").

import { parse as parseYaml } from 'yaml';
import type { ObjectStore, ResourceKey, StoredObject } from '../../store/types.js';
import { StoreError } from '../../store/types.js';
import { asArray, asRecord, asString, asStringMap, type Json } from '../model/read.js';
import { type InjectionOptions, injectSidecar, namespaceWantsInjection, podOptsOut } from './inject.js';
import { validateIstioObject } from './validate.js';

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

function webhookUnavailable(webhook: string, path: string): StoreError {
  return new StoreError(
    500,
    'InternalError',
    `Internal error occurred: failed calling webhook "${webhook}": failed to call webhook: Post "https://istiod.istio-system.svc:443/${path}?timeout=10s": no endpoints available for service "istiod"`,
  );
}

export function registerMeshAdmission(store: ObjectStore, options: MeshAdmissionOptions = {}): MeshAdmission {
  const rootNamespace = options.rootNamespace ?? 'istio-system';
  const endpointsKey: ResourceKey = { group: '', version: 'v1', resource: 'endpoints' };
  const namespacesKey: ResourceKey = { group: '', version: 'v1', resource: 'namespaces' };
  const podsKey: ResourceKey = { group: '', version: 'v1', resource: 'pods' };

  const istiodReady = (): boolean => {
    const eps = store.get(endpointsKey, rootNamespace, 'istiod');
    return asArray(eps?.subsets).some((s) => asArray(asRecord(s).addresses).length > 0);
  };
  let everUp = istiodReady();
  const watch = store.watch(endpointsKey, { namespace: rootNamespace }, (event) => {
    if (event.object.metadata.name === 'istiod' && istiodReady()) everUp = true;
  });
  const failClosed = (): boolean => everUp && !istiodReady();

  store.addAdmissionHook(podsKey, (operation, object: StoredObject) => {
    if (operation !== 'CREATE') return;
    const namespace = object.metadata.namespace ?? 'default';
    const ns = store.get(namespacesKey, undefined, namespace);
    if (!namespaceWantsInjection(asStringMap(ns?.metadata.labels))) return;
    const pod = object as unknown as Json;
    if (podOptsOut(pod)) return;
    const spec = asRecord(pod.spec);
    const already = [...asArray(spec.containers), ...asArray(spec.initContainers)].some(
      (c) => asString(asRecord(c).name) === 'istio-proxy',
    );
    if (already) return;
    if (failClosed()) throw webhookUnavailable('namespace.sidecar-injector.istio.io', 'inject');
    const injected = injectSidecar(pod, options, parseYaml);
    object.metadata = injected.metadata as StoredObject['metadata'];
    object.spec = injected.spec;
  });

  for (const key of ISTIO_KINDS) {
    store.addAdmissionHook(key, (_operation, object: StoredObject) => {
      if (failClosed()) throw webhookUnavailable('validation.istio.io', 'validate');
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

  return { istiodHasBeenUp: () => everUp, stop: () => watch.stop() };
}
