// Installing the emulated Istio like `istioctl install`: objects in `istio-system` created through the store
// (the istiod Deployment runs image istio/pilot, the ingress gateway istio/proxyv2 in router mode behind a
// LoadBalancer Service), the images mapped to the emulation's programs, and the admission webhooks.

import { DRILL_STATS_INCLUSION_REGEXPS } from '../../shared/index.js';
import { parseImageReference } from '../programs/image-reference.js';
import type { ImageRegistry } from '../programs/registry.js';
import { programEntry } from '../programs/default-images.js';
import type { ObjectStore, ResourceKey, StoredObject } from '../store/types.js';
import { StoreError } from '../store/types.js';
import { ISTIO_VERSION } from './injection/inject.js';
import {
  chartRevision,
  DEFAULT_REVISION,
  discoveryAddress,
  istiodName,
  REV_LABEL,
  revisionedName,
  revisionLabel,
  revisionWebhookConfiguration,
  tagWebhookConfiguration,
} from './revisions.js';

export const ISTIO_NAMESPACE = 'istio-system';

export interface InstallOptions {
  version?: string;
  /** Readiness period of the gateway proxy (Istio: 15 s); drills on the local target may shorten it. */
  readinessPeriodSeconds?: number;
  /** Extra env for istiod (e.g. PILOT_DEBOUNCE_AFTER). */
  istiodEnv?: Record<string, string>;
  labels?: Record<string, string>;
  /**
   * The control-plane revision (`istioctl install --revision <rev>`): `istiod-<rev>` and its injection webhook
   * beside the others, no gateway (as a control-plane-only install). Absent or `default`: today's names.
   */
  revision?: string;
  /**
   * Install the ingress gateway too (`istioctl install --set revision=R` with the default profile does): by
   * default only the default revision does, a revision being a control-plane-only install beside it.
   */
  gateway?: boolean;
}

const KEYS = {
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  serviceaccounts: { group: '', version: 'v1', resource: 'serviceaccounts' },
  configmaps: { group: '', version: 'v1', resource: 'configmaps' },
  services: { group: '', version: 'v1', resource: 'services' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  webhooks: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    resource: 'mutatingwebhookconfigurations',
  },
} satisfies Record<string, ResourceKey>;

type Manifest = { key: ResourceKey; object: Record<string, unknown> };

/** What every object's builder reads: the options, the proxy and pilot image tag, the labels on everything. */
interface InstallContext {
  options: InstallOptions;
  version: string;
  labels: Record<string, string>;
  /** The chart's revision value ('' for the default revision). */
  revision: string;
}

function metaOf(ctx: InstallContext, name: string, extra: Record<string, string> = {}) {
  return { name, namespace: ISTIO_NAMESPACE, labels: { ...ctx.labels, ...extra } };
}

/** Fresh on every use, so that no two install objects share a labels object. */
function istiodLabels(ctx: InstallContext): Record<string, string> {
  return { app: 'istiod', istio: 'pilot', [REV_LABEL]: revisionLabel(ctx.revision) };
}

/** The chart's Service and Deployment selector: the revision's istiod pods only. */
function istiodSelector(ctx: InstallContext): Record<string, string> {
  return { app: 'istiod', [REV_LABEL]: revisionLabel(ctx.revision) };
}

function gatewayLabels(): Record<string, string> {
  return { app: 'istio-ingressgateway', istio: 'ingressgateway' };
}

/**
 * The gateway chart's labels on its objects: its revision (so `istioctl uninstall --revision` prunes it with its
 * control plane, after a warning) and its own component.
 */
function gatewayMetaLabels(ctx: InstallContext): Record<string, string> {
  return {
    ...gatewayLabels(),
    [REV_LABEL]: revisionLabel(ctx.revision),
    'operator.istio.io/component': 'IngressGateways',
  };
}

/** An env entry from the downward API. */
function fieldEnv(name: string, fieldPath: string) {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

function buildNamespace(): Manifest {
  return {
    key: KEYS.namespaces,
    object: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ISTIO_NAMESPACE, labels: { 'topology.istio.io/network': '' } },
    },
  };
}

function buildServiceAccount(ctx: InstallContext, name: string): Manifest {
  return {
    key: KEYS.serviceaccounts,
    object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metaOf(ctx, name) },
  };
}

/** The `istio` ConfigMap: the mesh config istiod and the proxies read. */
function buildMeshConfigMap(ctx: InstallContext): Manifest {
  return {
    key: KEYS.configmaps,
    object: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metaOf(ctx, revisionedName('istio', ctx.revision), {
        [REV_LABEL]: revisionLabel(ctx.revision),
      }),
      data: {
        mesh: `defaultConfig:\n  discoveryAddress: ${discoveryAddress(ctx.revision)}\nenablePrometheusMerge: true\nrootNamespace: istio-system\ntrustDomain: cluster.local\n`,
      },
    },
  };
}

/**
 * `istio-sidecar-injector[-<rev>]`: the values the revision's injector renders sidecars with (its revision,
 * the proxy image's hub and tag). The admission emulation reads them when this revision's webhook is called.
 */
function buildInjectorConfigMap(ctx: InstallContext): Manifest {
  const values = { revision: ctx.revision, global: { hub: 'docker.io/istio', tag: ctx.version } };
  return {
    key: KEYS.configmaps,
    object: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metaOf(ctx, revisionedName('istio-sidecar-injector', ctx.revision), {
        [REV_LABEL]: revisionLabel(ctx.revision),
      }),
      data: { values: JSON.stringify(values, null, 2) },
    },
  };
}

function buildWebhookConfiguration(ctx: InstallContext): Manifest {
  const object = revisionWebhookConfiguration(ctx.revision, ISTIO_NAMESPACE);
  object.metadata.labels = { ...ctx.labels, ...object.metadata.labels };
  return { key: KEYS.webhooks, object };
}

function buildIstiodContainer(ctx: InstallContext): Record<string, unknown> {
  return {
    name: 'discovery',
    image: `docker.io/istio/pilot:${ctx.version}`,
    args: [
      'discovery',
      '--monitoringAddr=:15014',
      '--log_output_level=default:info',
      '--domain',
      'cluster.local',
      '--keepaliveMaxServerConnectionAge',
      '30m',
    ],
    ports: [
      { containerPort: 8080, name: 'http-debug', protocol: 'TCP' },
      { containerPort: 15010, name: 'grpc-xds', protocol: 'TCP' },
      { containerPort: 15012, name: 'tls-xds', protocol: 'TCP' },
      { containerPort: 15017, name: 'https-webhooks', protocol: 'TCP' },
      { containerPort: 15014, name: 'http-monitoring', protocol: 'TCP' },
    ],
    readinessProbe: {
      httpGet: { path: '/ready', port: 8080 },
      initialDelaySeconds: 1,
      periodSeconds: 3,
      timeoutSeconds: 5,
    },
    env: [
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('POD_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      { name: 'REVISION', value: revisionLabel(ctx.revision) },
      { name: 'PILOT_DEBOUNCE_AFTER', value: '100ms' },
      ...Object.entries(ctx.options.istiodEnv ?? {}).map(([name, value]) => ({ name, value })),
    ],
    resources: { requests: { cpu: '500m', memory: '2048Mi' } },
  };
}

function buildIstiodDeployment(ctx: InstallContext): Manifest {
  return {
    key: KEYS.deployments,
    object: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metaOf(ctx, istiodName(ctx.revision), istiodLabels(ctx)),
      spec: {
        replicas: 1,
        selector: { matchLabels: istiodSelector(ctx) },
        template: {
          metadata: {
            labels: { ...istiodLabels(ctx), 'sidecar.istio.io/inject': 'false' },
            annotations: {
              'prometheus.io/scrape': 'true',
              'prometheus.io/port': '15014',
              'prometheus.io/path': '/metrics',
            },
          },
          spec: { serviceAccountName: istiodName(ctx.revision), containers: [buildIstiodContainer(ctx)] },
        },
      },
    },
  };
}

function buildIstiodService(ctx: InstallContext): Manifest {
  return {
    key: KEYS.services,
    object: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metaOf(ctx, istiodName(ctx.revision), istiodLabels(ctx)),
      spec: {
        selector: istiodSelector(ctx),
        ports: [
          { name: 'grpc-xds', port: 15010, targetPort: 15010, protocol: 'TCP' },
          { name: 'https-dns', port: 15012, targetPort: 15012, protocol: 'TCP' },
          { name: 'https-webhook', port: 443, targetPort: 15017, protocol: 'TCP' },
          { name: 'http-monitoring', port: 15014, targetPort: 15014, protocol: 'TCP' },
        ],
      },
    },
  };
}

/** The ingress gateway's proxy: the proxy image in router mode. */
function buildGatewayContainer(ctx: InstallContext): Record<string, unknown> {
  return {
    name: 'istio-proxy',
    image: `docker.io/istio/proxyv2:${ctx.version}`,
    args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning'],
    ports: [
      { containerPort: 15021, name: 'status-port', protocol: 'TCP' },
      { containerPort: 8080, name: 'http2', protocol: 'TCP' },
      { containerPort: 8443, name: 'https', protocol: 'TCP' },
      { containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' },
    ],
    readinessProbe: {
      httpGet: { path: '/healthz/ready', port: 15021 },
      failureThreshold: 30,
      periodSeconds: ctx.options.readinessPeriodSeconds ?? 2,
      timeoutSeconds: 1,
    },
    env: [
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('INSTANCE_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      { name: 'ISTIO_META_WORKLOAD_NAME', value: 'istio-ingressgateway' },
      { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
      {
        name: 'PROXY_CONFIG',
        // The gateway chart points the proxy at its revision's istiod. The stats matcher is the one meshdrill's
        // mesh config gives every proxy on kind (defaultConfig.proxyStatsMatcher): the gateway is the caller in
        // drills whose first hop fails (retries, TLS handshakes).
        value: JSON.stringify({
          discoveryAddress: discoveryAddress(ctx.revision),
          proxyStatsMatcher: { inclusionRegexps: [...DRILL_STATS_INCLUSION_REGEXPS] },
        }),
      },
    ],
    resources: {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '2', memory: '1Gi' },
    },
  };
}

function buildGatewayDeployment(ctx: InstallContext): Manifest {
  return {
    key: KEYS.deployments,
    object: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metaOf(ctx, 'istio-ingressgateway', gatewayMetaLabels(ctx)),
      spec: {
        replicas: 1,
        selector: { matchLabels: gatewayLabels() },
        template: {
          metadata: {
            labels: {
              ...gatewayLabels(),
              [REV_LABEL]: revisionLabel(ctx.revision),
              'sidecar.istio.io/inject': 'false',
              'service.istio.io/canonical-name': 'istio-ingressgateway',
            },
            annotations: {
              'prometheus.io/scrape': 'true',
              'prometheus.io/port': '15020',
              'prometheus.io/path': '/stats/prometheus',
            },
          },
          spec: {
            serviceAccountName: 'istio-ingressgateway-service-account',
            containers: [buildGatewayContainer(ctx)],
          },
        },
      },
    },
  };
}

function buildGatewayService(ctx: InstallContext): Manifest {
  return {
    key: KEYS.services,
    object: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metaOf(ctx, 'istio-ingressgateway', gatewayMetaLabels(ctx)),
      spec: {
        type: 'LoadBalancer',
        selector: gatewayLabels(),
        ports: [
          { name: 'status-port', port: 15021, targetPort: 15021, protocol: 'TCP' },
          { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
        ],
      },
    },
  };
}

/** The objects of an install, in apply order (pure). */
export function buildInstallManifests(options: InstallOptions = {}): Manifest[] {
  const revision = chartRevision(options.revision);
  const ctx: InstallContext = {
    options,
    version: options.version ?? ISTIO_VERSION,
    labels: {
      'app.kubernetes.io/part-of': 'istio',
      'operator.istio.io/component': 'Pilot',
      ...options.labels,
    },
    revision,
  };
  const controlPlane = [
    buildServiceAccount(ctx, istiodName(revision)),
    buildMeshConfigMap(ctx),
    buildInjectorConfigMap(ctx),
    buildIstiodDeployment(ctx),
    buildIstiodService(ctx),
    buildWebhookConfiguration(ctx),
  ];
  if (revision && !options.gateway) return [buildNamespace(), ...controlPlane];
  return [
    buildNamespace(),
    buildServiceAccount(ctx, 'istio-ingressgateway-service-account'),
    ...controlPlane,
    buildGatewayDeployment(ctx),
    buildGatewayService(ctx),
  ];
}

/** Creates (or replaces) every install object through the store, as `istioctl install` does through the API. */
export async function installIstio(
  store: ObjectStore,
  options: InstallOptions = {},
): Promise<StoredObject[]> {
  const created: StoredObject[] = [];
  for (const { key, object } of buildInstallManifests(options)) {
    const metadata = object.metadata as { name: string; namespace?: string };
    const existing = store.get(key, metadata.namespace, metadata.name);
    try {
      created.push(
        existing
          ? await store.update(key, { ...object, metadata: { ...existing.metadata, ...metadata } })
          : await store.create(key, object),
      );
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      throw new StoreError(
        error.code,
        error.reason,
        `installing Istio: ${object.kind as string} ${metadata.namespace ?? ''}/${metadata.name}: ${error.message}`,
      );
    }
  }
  return created;
}

/**
 * The `default` revision tag pointing at `revision`: `istioctl install --set revision=R` on a cluster with no
 * Istio yet makes it the default for cluster-wide operations (istio/istio operator/pkg/webhook/webhook.go,
 * detectIfTagWebhookIsNeeded: no previous injector webhook), as `istioctl tag set default --revision R` does —
 * so namespaces labelled `istio-injection=enabled` are injected by R, and R validates Istio objects.
 */
export async function installDefaultTag(store: ObjectStore, revision: string): Promise<void> {
  const object = tagWebhookConfiguration(DEFAULT_REVISION, revision, ISTIO_NAMESPACE);
  const existing = store.get(KEYS.webhooks, undefined, object.metadata.name);
  if (existing)
    await store.update(KEYS.webhooks, { ...object, metadata: { ...existing.metadata, ...object.metadata } });
  else await store.create(KEYS.webhooks, object);
}

/** Deletes what `installIstio` created (the namespace last; a revision's own objects only). Idempotent. */
export async function uninstallIstio(
  store: ObjectStore,
  options: { revision?: string; gateway?: boolean } = {},
): Promise<void> {
  const manifests = buildInstallManifests(options)
    .filter((m) => !chartRevision(options.revision) || m.object.kind !== 'Namespace')
    .reverse();
  for (const { key, object } of manifests) {
    const metadata = object.metadata as { name: string; namespace?: string };
    if (!store.get(key, metadata.namespace, metadata.name)) continue;
    await store.delete(key, metadata.namespace, metadata.name).catch(() => undefined);
  }
}

/** Maps the Istio images to the emulation's programs (pilot-agent → the proxy, pilot-discovery → istiod). */
export function registerMeshImages(registry: ImageRegistry): void {
  registry.registerImage('istio/proxyv2', {
    entrypoint: ['/usr/local/bin/pilot-agent'],
    cmd: [],
    executables: { 'pilot-agent': { kind: 'bundle', entry: programEntry('../mesh/proxy/main.ts') } },
    // The real image has a shell and curl, which runbooks use through `kubectl exec -c istio-proxy`.
    hostFallback: true,
  });
  registry.registerImage('istio/pilot', {
    entrypoint: ['/usr/local/bin/pilot-discovery'],
    cmd: [],
    executables: { 'pilot-discovery': { kind: 'bundle', entry: programEntry('../mesh/istiod/main.ts') } },
    hostFallback: false,
  });
}

/**
 * Extra container environment for the kubelet's `extraEnv` hook: istiod needs a token to watch the API
 * (a real pod gets a projected service-account token).
 */
export function meshContainerEnv(
  pod: { spec?: { containers?: { name: string; image?: string }[] } },
  container: string,
  apiToken: string,
): Record<string, string> {
  const image = pod.spec?.containers?.find((c) => c.name === container)?.image ?? '';
  return /(^|\/)istio\/pilot(:|@|$)/.test(image) ? { MESHDRILL_KUBE_TOKEN: apiToken } : {};
}

type PodImages = { spec?: { containers?: ContainerImage[]; initContainers?: ContainerImage[] } };
type ContainerImage = { name: string; image?: string };

/**
 * The environment an Istio image gives its container, for the kubelet's `extraEnv` hook: the version comes
 * from the image the container runs, as on a real cluster, so a proxy left on an older image after an upgrade
 * still reports the older version. The real proxyv2 image sets ISTIO_META_ISTIO_VERSION (the version the proxy
 * sends istiod); pilot-discovery has its version built in, which MESHDRILL_ISTIO_VERSION stands in for.
 */
export function meshImageEnv(pod: PodImages, container: string): Record<string, string> {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const image = all.find((c) => c.name === container)?.image;
  if (!image) return {};
  const ref = parseImageReference(image);
  // A digest without a tag names no version; the program then reports its default.
  if (ref.digest && !/:[^/@]+@/.test(image)) return {};
  if (/(^|\/)istio\/proxyv2$/.test(ref.repository)) return { ISTIO_META_ISTIO_VERSION: ref.tag };
  if (/(^|\/)istio\/pilot$/.test(ref.repository)) return { MESHDRILL_ISTIO_VERSION: ref.tag };
  return {};
}
