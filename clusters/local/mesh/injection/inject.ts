// Sidecar injection (pure): the istio-proxy container Istio's injector adds, with its env, probes, resources
// from the `sidecar.istio.io/*` annotations, `proxy.istio.io/config` passed as PROXY_CONFIG, native-sidecar
// placement, the prometheus.io scrape annotations, and HTTP_PROXY for app containers (standing in for iptables).

import { asArray, asRecord, asString, asStringMap, type Json } from '../model/read.js';
import { DEFAULT_ISTIO_VERSION } from '../versions.js';

export const PROXY_IMAGE = 'docker.io/istio/proxyv2';
/** The proxy image tag when no version is given (the served versions: ../versions.ts). */
export const ISTIO_VERSION = DEFAULT_ISTIO_VERSION;

export interface InjectionOptions {
  /** Proxy image tag. */
  version?: string;
  /** Istio 1.27+ on Kubernetes ≥ 1.33 injects a native sidecar by default; the local API reports 1.31. */
  nativeSidecarDefault?: boolean;
  /** Readiness probe period (Istio: 15 s). Drills on the local target may shorten it. */
  readinessPeriodSeconds?: number;
  discoveryAddress?: string;
  /** The injecting revision (the `istio.io/rev` annotation and the status annotation's `revision`). */
  revision?: string;
}

/** Whether a namespace asks for injection: `istio-injection=enabled`, or an `istio.io/rev` label. */
export function namespaceWantsInjection(labels: Record<string, string>): boolean {
  if (labels['istio-injection'] === 'disabled') return false;
  return labels['istio-injection'] === 'enabled' || labels['istio.io/rev'] !== undefined;
}

export function podOptsOut(pod: Json): boolean {
  const meta = asRecord(pod.metadata);
  const flag =
    asStringMap(meta.labels)['sidecar.istio.io/inject'] ??
    asStringMap(meta.annotations)['sidecar.istio.io/inject'];
  return flag === 'false';
}

function resources(annotations: Record<string, string>): Json {
  return {
    requests: {
      cpu: annotations['sidecar.istio.io/proxyCPU'] ?? '100m',
      memory: annotations['sidecar.istio.io/proxyMemory'] ?? '128Mi',
    },
    limits: {
      cpu: annotations['sidecar.istio.io/proxyCPULimit'] ?? '2',
      memory: annotations['sidecar.istio.io/proxyMemoryLimit'] ?? '1Gi',
    },
  };
}

/** `proxy.istio.io/config` is YAML or JSON in the annotation; PROXY_CONFIG carries it as JSON. */
function proxyConfigOf(annotations: Record<string, string>, parseYaml: (text: string) => unknown): Json {
  const text = annotations['proxy.istio.io/config'];
  if (!text) return {};
  try {
    return asRecord(JSON.parse(text));
  } catch {
    return asRecord(parseYaml(text));
  }
}

function workloadName(pod: Json): string {
  const meta = asRecord(pod.metadata);
  const owner = asArray(meta.ownerReferences).map(asRecord)[0];
  const name =
    asString(owner?.name) ?? asString(meta.generateName)?.replace(/-$/, '') ?? asString(meta.name) ?? '';
  const hash = asStringMap(meta.labels)['pod-template-hash'];
  return hash && name.endsWith(`-${hash}`) ? name.slice(0, -hash.length - 1) : name;
}

/** What the sidecar is built from, read once from the pod being injected (the copy, never the input). */
interface InjectionInput {
  pod: Json;
  annotations: Record<string, string>;
  containers: Json[];
  proxyConfig: Json;
  /** Placed as a native sidecar (an init container with restartPolicy Always) rather than a container. */
  native: boolean;
  options: InjectionOptions;
}

function readInjectionInput(
  pod: Json,
  options: InjectionOptions,
  parseYaml: (text: string) => unknown,
): InjectionInput {
  const annotations = { ...asStringMap(asRecord(pod.metadata).annotations) };
  const nativeAnnotation = annotations['sidecar.istio.io/nativeSidecar'];
  return {
    pod,
    annotations,
    containers: asArray(asRecord(pod.spec).containers).map(asRecord),
    proxyConfig: proxyConfigOf(annotations, parseYaml),
    native:
      nativeAnnotation === undefined ? options.nativeSidecarDefault === true : nativeAnnotation === 'true',
    options,
  };
}

function fieldEnv(name: string, fieldPath: string): Json {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

/** The agent's environment: identity from the downward API, the pod's ports and app containers as metadata. */
function proxyEnv(input: InjectionInput): Json[] {
  const { containers, proxyConfig } = input;
  const discoveryAddress = input.options.discoveryAddress ?? 'istiod.istio-system.svc:15012';
  const metadataEnv = Object.entries(asStringMap(proxyConfig.proxyMetadata)).map(([name, value]) => ({
    name,
    value,
  }));
  const appPorts = containers.flatMap((c) => asArray(c.ports).map(asRecord));
  return [
    { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
    { name: 'CA_ADDR', value: discoveryAddress },
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('INSTANCE_IP', 'status.podIP'),
    fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    fieldEnv('HOST_IP', 'status.hostIP'),
    { name: 'PROXY_CONFIG', value: JSON.stringify({ discoveryAddress, ...proxyConfig }) },
    { name: 'ISTIO_META_POD_PORTS', value: JSON.stringify(appPorts) },
    { name: 'ISTIO_META_APP_CONTAINERS', value: containers.map((c) => asString(c.name)).join(',') },
    { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
    { name: 'ISTIO_META_WORKLOAD_NAME', value: workloadName(input.pod) },
    { name: 'ISTIO_META_MESH_ID', value: 'cluster.local' },
    { name: 'TRUST_DOMAIN', value: 'cluster.local' },
    ...metadataEnv,
  ];
}

function buildProxyContainer(input: InjectionInput): Json {
  return {
    name: 'istio-proxy',
    image: `${PROXY_IMAGE}:${input.options.version ?? ISTIO_VERSION}`,
    args: [
      'proxy',
      'sidecar',
      '--domain',
      '$(POD_NAMESPACE).svc.cluster.local',
      '--proxyLogLevel=warning',
      '--log_output_level=default:info',
    ],
    env: proxyEnv(input),
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    readinessProbe: {
      httpGet: { path: '/healthz/ready', port: 15021 },
      failureThreshold: 4,
      periodSeconds: input.options.readinessPeriodSeconds ?? 15,
      timeoutSeconds: 3,
    },
    startupProbe: {
      httpGet: { path: '/healthz/ready', port: 15021 },
      failureThreshold: 600,
      periodSeconds: 1,
      timeoutSeconds: 3,
    },
    resources: resources(input.annotations),
    securityContext: { runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true, readOnlyRootFilesystem: true },
  };
}

/** Apps reach their sidecar through HTTP_PROXY: the emulation's stand-in for iptables outbound capture. */
function withProxyCapture(container: Json): Json {
  return {
    ...container,
    env: [
      ...asArray(container.env),
      fieldEnv('MESHDRILL_SIDECAR_IP', 'status.podIP'),
      { name: 'HTTP_PROXY', value: 'http://$(MESHDRILL_SIDECAR_IP):15001' },
      { name: 'NO_PROXY', value: 'localhost,127.0.0.1' },
    ],
  };
}

/** The injector's status annotation, the scrape annotations, the revision, and the mesh's labels. */
function markInjected(input: InjectionInput, meta: Json): void {
  const { annotations, native } = input;
  annotations['sidecar.istio.io/status'] = JSON.stringify({
    initContainers: native ? ['istio-proxy'] : [],
    containers: native ? [] : ['istio-proxy'],
    volumes: [],
    imagePullSecrets: null,
    revision: input.options.revision ?? 'default',
  });
  annotations['prometheus.io/scrape'] = 'true';
  annotations['prometheus.io/port'] = '15020';
  annotations['prometheus.io/path'] = '/stats/prometheus';
  // The injection template's annotations win over the pod's: the revision that injected it.
  annotations['istio.io/rev'] = input.options.revision ?? 'default';
  meta.annotations = annotations;
  meta.labels = {
    ...asStringMap(meta.labels),
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name': asStringMap(meta.labels).app ?? workloadName(input.pod),
    'service.istio.io/canonical-revision': asStringMap(meta.labels).version ?? 'latest',
  };
}

/** Returns the injected pod (a new object); the input is not modified. */
export function injectSidecar(
  pod: Json,
  options: InjectionOptions,
  parseYaml: (text: string) => unknown,
): Json {
  const out = structuredClone(pod);
  const meta = asRecord(out.metadata);
  const spec = asRecord(out.spec);
  const input = readInjectionInput(out, options, parseYaml);
  const proxy = buildProxyContainer(input);
  spec.containers = input.containers.map(withProxyCapture);
  if (input.native) {
    spec.initContainers = [...asArray(spec.initContainers), { ...proxy, restartPolicy: 'Always' }];
  } else {
    spec.containers = [...asArray(spec.containers), proxy];
  }
  markInjected(input, meta);
  out.metadata = meta;
  out.spec = spec;
  return out;
}
