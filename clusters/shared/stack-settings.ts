// The settings shared by the kind and existing targets for what meshdrill installs (Istio, Prometheus, Chaos
// Mesh, k6-operator): documented here once, read strictly, resolved into complete configs.

import { isAbsolute, resolve } from 'node:path';
import {
  type ChaosMeshConfig,
  DEFAULT_CHAOS_MESH_VERSION,
  K6_OPERATOR_CHART_VERSION,
  type K6OperatorConfig,
} from './addons.js';
import { DEFAULT_INGRESS_NODE_PORT, type IstioInstallConfig } from './istio/config.js';
import type { IstioInstallRequest } from './istio/install.js';
import type { PluginCaConfig } from './istio/plugin-ca.js';
import { checkIstioVersion } from './istio/release.js';
import type { SettingDoc, SettingsReader } from './settings.js';

export const DEFAULT_ISTIO_VERSION = '1.30.3';

export const STACK_SETTING_DOCS: readonly SettingDoc[] = [
  {
    key: 'istio-installer',
    description: '`istioctl` (fetched per version and cached) or `helm` (charts base, istiod, gateway)',
    default: 'istioctl',
  },
  { key: 'istio-profile', description: 'istioctl profile', default: 'default' },
  { key: 'revision', description: 'install Istio as this revision (canary upgrades), e.g. `1-30-3`' },
  {
    key: 'revision-default',
    description: 'make the revision the default, so `istio-injection=enabled` namespaces use it',
    default: 'true',
  },
  {
    key: 'istioctl-versions',
    description:
      'more istioctl releases to provide, comma-separated (fetched per version and cached): runbook and `command` steps run each as `istioctl-<version>`, e.g. `1.29.9,1.30.3` for the istio-upgrade drill',
  },
  {
    key: 'secret-ttl',
    description: 'workload certificate lifetime (`SECRET_TTL`), e.g. `10m`, for rotation drills',
  },
  {
    key: 'plugin-ca',
    description:
      '`generate` (root + intermediate made with openssl) or a directory holding ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem',
  },
  {
    key: 'plugin-ca-days',
    description: 'lifetime of the generated intermediate CA, in days',
    default: '365',
  },
  {
    key: 'ingress-node-port',
    description: "the ingress gateway's HTTP NodePort",
    default: String(DEFAULT_INGRESS_NODE_PORT),
  },
  {
    key: 'scrape-interval',
    description: "Prometheus scrape interval (meshdrill's Prometheus)",
    default: '5s',
  },
  { key: 'evaluation-interval', description: 'Prometheus rule evaluation interval', default: '5s' },
  {
    key: 'prometheus-port',
    description: 'local port of the Prometheus port-forward (0 = a free port)',
    default: '0',
  },
  { key: 'chaos-mesh', description: 'install Chaos Mesh with Helm', default: 'true on kind' },
  { key: 'chaos-mesh-version', description: 'Chaos Mesh chart version', default: DEFAULT_CHAOS_MESH_VERSION },
  { key: 'chaos-daemon-runtime', description: "Chaos Mesh's container runtime", default: 'containerd' },
  {
    key: 'chaos-daemon-socket',
    description: "the runtime's socket on the nodes",
    default: '/run/containerd/containerd.sock',
  },
  {
    key: 'k6-operator',
    description: 'install k6-operator with Helm (distributed load as TestRun objects)',
    default: 'false',
  },
  {
    key: 'k6-mode',
    description:
      "where the `k6` load driver runs: `local` (the k6 binary on this machine) or `in-cluster` (a k6-operator TestRun of `k6-runners` pods aimed at the ingress gateway's in-cluster Service; installs k6-operator on kind)",
    default: 'local',
  },
  {
    key: 'k6-runners',
    description: 'runner pods of an in-cluster TestRun (its parallelism): each sends 1/N of the arrival rate',
    default: '1',
  },
  {
    key: 'k6-operator-version',
    description:
      'k6-operator Helm chart version (4.6.0: k6-operator 1.6.0, whose TestRun CRD the local target serves)',
    default: K6_OPERATOR_CHART_VERSION,
  },
  { key: 'wait-timeout', description: 'how long to wait for each component to become ready', default: '5m' },
];

export interface StackSettings {
  istio: IstioInstallRequest;
  prometheus: { scrapeIntervalMs: number; evaluationIntervalMs: number; localPort: number };
  chaosMesh: ChaosMeshConfig & { enabled: boolean };
  k6Operator: K6OperatorConfig & { enabled: boolean };
  /** Where the k6 driver runs: here, or in the cluster as a TestRun of `runners` pods. */
  k6: { mode: 'local' | 'in-cluster'; runners: number };
  waitTimeoutMs: number;
}

/** The most runner pods a TestRun may ask for (a bound, not a recommendation: each runner is a pod). */
export const MAX_K6_RUNNERS = 64;

export function readStackSettings(
  reader: SettingsReader,
  istioVersion: string | undefined,
  defaults: {
    ingressServiceType: IstioInstallConfig['ingressServiceType'];
    chaosMesh: boolean;
    /** Intervals to assume when meshdrill does not run the Prometheus (Istio's addon uses 15s). */
    intervalMs?: number;
  },
): StackSettings {
  // The reads stay in this order: problems are reported in the order they were found.
  const istio = readIstioConfig(reader, istioVersion, defaults.ingressServiceType);
  const intervals = readPrometheusIntervals(reader, defaults.intervalMs ?? 5000);
  const k6 = {
    mode: reader.oneOf('k6-mode', ['local', 'in-cluster'] as const, 'local'),
    runners: reader.int('k6-runners', 1, 1, MAX_K6_RUNNERS),
  };
  return {
    istio: {
      config: istio.config,
      installer: reader.oneOf('istio-installer', ['istioctl', 'helm'] as const, 'istioctl'),
      ...(istio.pluginCa ? { pluginCa: istio.pluginCa } : {}),
      istioctlVersions: istio.istioctlVersions,
    },
    prometheus: { ...intervals, localPort: reader.int('prometheus-port', 0, 0, 65535) },
    chaosMesh: {
      enabled: reader.bool('chaos-mesh', defaults.chaosMesh),
      version: reader.string('chaos-mesh-version', DEFAULT_CHAOS_MESH_VERSION),
      runtime: reader.string('chaos-daemon-runtime', 'containerd'),
      socketPath: reader.string('chaos-daemon-socket', '/run/containerd/containerd.sock'),
    },
    k6,
    // In-cluster load needs the operator: installed unless the user says it is there already.
    k6Operator: {
      enabled: reader.bool('k6-operator', k6.mode === 'in-cluster'),
      version: reader.string('k6-operator-version', K6_OPERATOR_CHART_VERSION),
    },
    waitTimeoutMs: reader.duration('wait-timeout', 5 * 60_000),
  };
}

function readIstioConfig(
  reader: SettingsReader,
  istioVersion: string | undefined,
  ingressServiceType: IstioInstallConfig['ingressServiceType'],
): { config: IstioInstallConfig; pluginCa: PluginCaConfig | undefined; istioctlVersions: string[] } {
  const version = istioVersion ?? DEFAULT_ISTIO_VERSION;
  const istioctlVersions = [...new Set(reader.list('istioctl-versions'))];
  try {
    checkIstioVersion(version);
  } catch (error) {
    reader.problem(error instanceof Error ? error.message : String(error));
  }
  for (const v of istioctlVersions.filter((v) => !/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(v))) {
    reader.problem(`--target-opt istioctl-versions: expected Istio releases such as "1.30.3", got "${v}"`);
  }
  const revision = reader.name('revision');
  const secretTtlMs = reader.duration('secret-ttl');
  const ingressNodePort = reader.int('ingress-node-port', DEFAULT_INGRESS_NODE_PORT, 30000, 32766);
  const pluginCa = readPluginCa(reader);
  const config: IstioInstallConfig = {
    version,
    profile: reader.string('istio-profile', 'default'),
    ...(revision ? { revision } : {}),
    revisionIsDefault: reader.bool('revision-default', true),
    ...(secretTtlMs === undefined ? {} : { secretTtlMs }),
    ingressServiceType,
    ingressNodePort,
    ingressHttpsNodePort: ingressNodePort + 1,
  };
  return { config, pluginCa, istioctlVersions };
}

/** `plugin-ca=generate` (with `plugin-ca-days`) or `plugin-ca=DIR`; undefined: istiod's self-signed CA. */
function readPluginCa(reader: SettingsReader): PluginCaConfig | undefined {
  const pluginCaRaw = reader.string('plugin-ca');
  const pluginCaDays = reader.int('plugin-ca-days', 365, 1, 3650);
  if (pluginCaRaw === 'generate') return { mode: 'generate', intermediateDays: pluginCaDays };
  if (pluginCaRaw)
    return { mode: 'files', dir: isAbsolute(pluginCaRaw) ? pluginCaRaw : resolve(pluginCaRaw) };
  return undefined;
}

function readPrometheusIntervals(
  reader: SettingsReader,
  defaultMs: number,
): { scrapeIntervalMs: number; evaluationIntervalMs: number } {
  const scrapeIntervalMs = reader.duration('scrape-interval', defaultMs);
  const evaluationIntervalMs = reader.duration('evaluation-interval', defaultMs);
  if (scrapeIntervalMs < 1000) reader.problem('--target-opt scrape-interval: expected at least 1s');
  return { scrapeIntervalMs, evaluationIntervalMs };
}
