// Pure builders for what the k6-operator (1.6.0) creates for a TestRun, after its source: the initializer Job
// (pkg/resources/jobs/initializer.go), one runner Job and Service per instance (runner.go), the starter Job
// (starter.go, containers/curl_start.go), the execution-segment flags (pkg/segmentation), the script volume
// (pkg/types/script.go) and the argument parsing (pkg/types/k6cli.go, TestRunSpec.Argv). Where the local target
// cannot run the operator's pod as written, the difference is made here and said at the spot (see
// docs/local-target-fidelity.md, "k6-operator").

import type { StoredObject } from '../store/types.js';
import { bridgePrefix, CONFIGMAP_MOUNTS_ENV } from '../programs/k6/volume-bridge.js';
import type { Container, EnvFromSource, EnvVar, Job, PodSpec, Service } from './kube-types.js';
import { ownerReferenceTo } from './kube-types.js';

/** The pod-shaped parts of `spec.runner`, `spec.initializer` and `spec.starter` the emulation honours. */
export interface K6PodSpec {
  image?: string;
  imagePullPolicy?: string;
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  serviceAccountName?: string;
  resources?: Container['resources'];
  volumes?: { name: string; configMap?: { name: string }; [key: string]: unknown }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  readinessProbe?: Container['readinessProbe'];
  livenessProbe?: Container['livenessProbe'];
  nodeSelector?: Record<string, string>;
  disabled?: boolean;
}

export interface TestRunSpec {
  parallelism: number;
  script: {
    configMap?: { name: string; file?: string };
    volumeClaim?: { name: string; file?: string; readOnly?: boolean };
    localFile?: string;
  };
  arguments?: string;
  args?: string[];
  paused?: string;
  quiet?: string;
  separate?: boolean;
  cleanup?: 'post';
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  runner?: K6PodSpec;
  initializer?: K6PodSpec;
  starter?: K6PodSpec;
  scuttle?: { enabled?: string };
  testRunId?: string;
}

export type TestRun = StoredObject & {
  spec: TestRunSpec;
  status?: { stage?: string; conditions?: TestRunCondition[]; testRunId?: string };
};

export interface TestRunCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export const DEFAULT_K6_IMAGE = 'grafana/k6:latest';
export const DEFAULT_STARTER_IMAGE = 'ghcr.io/grafana/k6-operator:latest-starter';
const API_PORT = 6565;

/** The script's place in the pod (types.Script): /test/<file> for a ConfigMap, default file test.js. */
export interface ScriptRef {
  type: 'ConfigMap' | 'VolumeClaim' | 'LocalFile';
  name: string;
  path: string;
  filename: string;
  readOnly: boolean;
}

export function parseScript(spec: TestRunSpec): ScriptRef {
  const { configMap, volumeClaim, localFile } = spec.script ?? {};
  if (volumeClaim?.name) {
    const file = volumeClaim.file ?? '';
    const slash = file.lastIndexOf('/');
    const absolute = file.startsWith('/');
    return {
      type: 'VolumeClaim',
      name: volumeClaim.name,
      path: absolute ? file.slice(0, slash + 1) : '/test/',
      filename: (absolute ? file.slice(slash + 1) : file) || 'test.js',
      readOnly: volumeClaim.readOnly ?? false,
    };
  }
  if (configMap?.name) {
    return {
      type: 'ConfigMap',
      name: configMap.name,
      path: '/test/',
      filename: configMap.file || 'test.js',
      readOnly: true,
    };
  }
  if (localFile) {
    const slash = localFile.lastIndexOf('/');
    return {
      type: 'LocalFile',
      name: 'LocalFile',
      path: localFile.slice(0, slash + 1),
      filename: localFile.slice(slash + 1),
      readOnly: false,
    };
  }
  throw new Error('script definition should contain one of: ConfigMap, VolumeClaim, LocalFile');
}

const fullName = (s: ScriptRef): string => s.path + s.filename;

function scriptVolumes(s: ScriptRef): NonNullable<K6PodSpec['volumes']> {
  if (s.type === 'ConfigMap') return [{ name: 'k6-test-volume', configMap: { name: s.name } }];
  if (s.type === 'VolumeClaim')
    return [{ name: 'k6-test-volume', persistentVolumeClaim: { claimName: s.name } }];
  return [];
}

function scriptMounts(s: ScriptRef): NonNullable<K6PodSpec['volumeMounts']> {
  if (s.type === 'ConfigMap') return [{ name: 'k6-test-volume', mountPath: '/test', readOnly: true }];
  if (s.type === 'VolumeClaim') return [{ name: 'k6-test-volume', mountPath: s.path, readOnly: s.readOnly }];
  return [];
}

/** `spec.args` as given, else `spec.arguments` split on whitespace (strings.Fields). */
export function argv(spec: TestRunSpec): string[] {
  if (spec.args && spec.args.length > 0) return [...spec.args];
  return (spec.arguments ?? '').split(/\s+/).filter((a) => a !== '');
}

/** types.ParseCLI: the arguments `k6 archive` accepts, whether there is a cloud output, or the invalid value. */
export function parseCli(args: readonly string[]): {
  archiveArgs: string[];
  hasCloudOut: boolean;
  error?: string;
} {
  const archiveArgs: string[] = [];
  let hasCloudOut = false;
  const lastArgV = (start: number): number => {
    let end = start;
    while (end < args.length) {
      const a = args[end] as string;
      if (a.length === 0) {
        if (end === start) end++;
        break;
      }
      if (a[0] === '-') break;
      end++;
    }
    return end;
  };
  let i = 0;
  while (i < args.length) {
    const a = args[i] as string;
    if (a.length > 0 && a[0] === '-') {
      const end = lastArgV(i + 1);
      if (
        a.startsWith('--log-output') ||
        a.startsWith('--block-hostnames') ||
        a.startsWith('--blacklist-ip') ||
        a.startsWith('--user-agent')
      ) {
        // not for `k6 archive`
      } else if (a === '-o' || a === '--out') {
        if (i + 1 < end && args[i + 1] === 'cloud') hasCloudOut = true;
      } else if (
        a === '-l' ||
        a === '--linger' ||
        a === '--no-usage-report' ||
        a === '--verbose' ||
        a === '-v'
      ) {
        // non-archive arguments, or ones that would spoil inspect's JSON
      } else {
        archiveArgs.push(...args.slice(i, end));
      }
      i = end;
    } else {
      return {
        archiveArgs,
        hasCloudOut,
        error: `encountered an invalid value for k6 CLI argument: \`${a}\``,
      };
    }
  }
  return { archiveArgs, hasCloudOut };
}

/** pkg/segmentation.NewCommandFragments: runner `index` of `total` (1-based). */
export function segmentFlags(index: number, total: number): string[] {
  if (index > total) throw new Error('node index exceeds configured parallelism');
  const part = (i: number): string => (i === 0 ? '0' : i === total ? '1' : `${i}/${total}`);
  const points = ['0', ...Array.from({ length: total - 1 }, (_, i) => `${i + 1}/${total}`), '1'];
  return [
    `--execution-segment=${part(index - 1)}:${part(index)}`,
    `--execution-segment-sequence=${points.join(',')}`,
  ];
}

function labelsFor(
  name: string,
  extra: Record<string, string> | undefined,
  runner: boolean,
): Record<string, string> {
  const labels: Record<string, string> = { app: 'k6', k6_cr: name, ...(runner ? { runner: 'true' } : {}) };
  // The operator's own labels win over the user's.
  for (const [k, v] of Object.entries(extra ?? {})) if (!(k in labels)) labels[k] = v;
  return labels;
}

const parseBool = (text: string | undefined, fallback: boolean): boolean =>
  text === undefined || text === ''
    ? fallback
    : text === 'true' || text === '1' || text === 'True' || text === 'TRUE';

/** scuttle, the operator's Istio wrapper, prefixes the command when `spec.scuttle.enabled` is true. */
function istioPrefix(spec: TestRunSpec): string[] {
  return parseBool(spec.scuttle?.enabled, false) ? ['scuttle'] : [];
}

/**
 * The ConfigMap volume stand-in (programs/k6/volume-bridge.ts): the local kubelet mounts no volumes, so each
 * ConfigMap mount of the container is also handed over as a prefixed envFrom.
 */
export function bridgeConfigMapVolumes(spec: PodSpec & { volumes?: K6PodSpec['volumes'] }): void {
  for (const container of spec.containers) {
    const mounts = (container as Container & { volumeMounts?: K6PodSpec['volumeMounts'] }).volumeMounts ?? [];
    const bridged: { mountPath: string; prefix: string }[] = [];
    for (const mount of mounts) {
      const configMap = spec.volumes?.find((v) => v.name === mount.name)?.configMap;
      if (!configMap) continue;
      const prefix = bridgePrefix(bridged.length);
      bridged.push({ mountPath: mount.mountPath, prefix });
      container.envFrom = [...(container.envFrom ?? []), { prefix, configMapRef: { name: configMap.name } }];
    }
    if (bridged.length > 0) {
      container.env = [
        ...(container.env ?? []),
        { name: CONFIGMAP_MOUNTS_ENV, value: JSON.stringify(bridged) },
      ];
    }
  }
}

function job(
  testRun: TestRun,
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  podSpec: PodSpec & { volumes?: K6PodSpec['volumes'] },
): Job {
  bridgeConfigMapVolumes(podSpec);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: testRun.metadata.namespace,
      labels,
      annotations,
      ownerReferences: [ownerReferenceTo(testRun)],
    },
    spec: {
      backoffLimit: 0,
      template: { metadata: { labels, annotations }, spec: podSpec },
    },
  } as unknown as Job;
}

/**
 * The initializer: the operator runs `sh -c '<script>'` that calls `k6 archive` into /tmp and then
 * `k6 inspect --execution-requirements` on the archive, keeping stderr in a file so the log is pure JSON. Here a
 * container's shell is the host's, which cannot see the image's k6, and containers share the host's /tmp; so the
 * container runs `k6 inspect --execution-requirements <script>` directly — the same check and the same JSON on
 * stdout, the same failure (non-zero exit, Failed pod) for a script k6 cannot load.
 */
export function buildInitializerJob(testRun: TestRun): Job {
  const spec = testRun.spec;
  const script = parseScript(spec);
  const pod = spec.initializer ?? spec.runner ?? {};
  const name = testRun.metadata.name;
  const labels = labelsFor(name, pod.metadata?.labels, false);
  const container: Container & Record<string, unknown> = {
    name: 'k6',
    image: pod.image || DEFAULT_K6_IMAGE,
    ...(pod.imagePullPolicy ? { imagePullPolicy: pod.imagePullPolicy } : {}),
    command: [...istioPrefix(spec), 'k6', 'inspect', '--execution-requirements', fullName(script)],
    env: [...(pod.env ?? [])],
    ...(pod.envFrom ? { envFrom: [...pod.envFrom] } : {}),
    ...(pod.resources ? { resources: pod.resources } : {}),
    volumeMounts: [...scriptMounts(script), ...(pod.volumeMounts ?? [])],
    ports: [{ containerPort: API_PORT }, ...(spec.ports ?? [])],
  };
  return job(
    testRun,
    `${name}-initializer`,
    labels,
    { ...(pod.metadata?.annotations ?? {}) },
    {
      serviceAccountName: pod.serviceAccountName || 'default',
      restartPolicy: 'Never',
      containers: [container],
      volumes: [...scriptVolumes(script), ...(pod.volumes ?? [])],
      ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
    },
  );
}

/** The default probe of runner pods (generateProbe): GET :6565/v1/status. */
const STATUS_PROBE = { httpGet: { path: '/v1/status', port: API_PORT, scheme: 'HTTP' } };

/** Runner `index` (1-based): `k6 run` paused on its execution segment, its REST API on :6565. */
export function buildRunnerJob(testRun: TestRun, index: number): Job {
  const spec = testRun.spec;
  const script = parseScript(spec);
  const pod = spec.runner ?? {};
  const name = `${testRun.metadata.name}-${index}`;
  const command = [...istioPrefix(spec), 'k6', 'run'];
  if (parseBool(spec.quiet, true)) command.push('--quiet');
  if (spec.parallelism > 1) command.push(...segmentFlags(index, spec.parallelism));
  command.push(...argv(spec), fullName(script), `--address=0.0.0.0:${API_PORT}`);
  if (parseBool(spec.paused, true)) command.push('--paused');
  command.push('--tag', `instance_id=${index}`, '--tag', `testrun_name=${testRun.metadata.name}`);
  const labels = labelsFor(testRun.metadata.name, pod.metadata?.labels, true);
  const container: Container & Record<string, unknown> = {
    name: 'k6',
    image: pod.image || DEFAULT_K6_IMAGE,
    ...(pod.imagePullPolicy ? { imagePullPolicy: pod.imagePullPolicy } : {}),
    command,
    env: [...(pod.env ?? [])],
    ...(pod.resources ? { resources: pod.resources } : {}),
    volumeMounts: [...scriptMounts(script), ...(pod.volumeMounts ?? [])],
    ports: [{ containerPort: API_PORT }, ...(spec.ports ?? [])],
    ...(pod.envFrom ? { envFrom: [...pod.envFrom] } : {}),
    livenessProbe: pod.livenessProbe ?? STATUS_PROBE,
    readinessProbe: pod.readinessProbe ?? STATUS_PROBE,
  };
  return job(
    testRun,
    name,
    labels,
    { ...(pod.metadata?.annotations ?? {}) },
    {
      serviceAccountName: pod.serviceAccountName || 'default',
      hostname: name,
      restartPolicy: 'Never',
      containers: [container],
      volumes: [...scriptVolumes(script), ...(pod.volumes ?? [])],
      ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
    },
  );
}

/** NewRunnerService: `<name>-service-<index>` on 6565, selecting the runner Job's pod by job-name. */
export function buildRunnerService(testRun: TestRun, index: number): Service {
  const pod = testRun.spec.runner ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `${testRun.metadata.name}-service-${index}`,
      namespace: testRun.metadata.namespace,
      labels: labelsFor(testRun.metadata.name, pod.metadata?.labels, true),
      annotations: { ...(pod.metadata?.annotations ?? {}) },
      ownerReferences: [ownerReferenceTo(testRun)],
    },
    spec: {
      ports: [{ name: 'http-api', port: API_PORT, protocol: 'TCP' }],
      selector: { 'job-name': `${testRun.metadata.name}-${index}` },
    },
  } as unknown as Service;
}

/** The starter's body: k6's status request with `paused: false` (types.StatusAPIRequest, Go field order). */
export const START_REQUEST = JSON.stringify({
  data: { attributes: { paused: false, stopped: false }, id: 'default', type: 'status' },
});

/** The starter: a curl image un-pausing every runner through its Service's ClusterIP (curl_start.go). */
export function buildStarterJob(testRun: TestRun, hostnames: readonly string[]): Job {
  const spec = testRun.spec;
  const pod = spec.starter ?? {};
  const labels = labelsFor(testRun.metadata.name, pod.metadata?.labels, false);
  const parts = hostnames.map(
    (host) =>
      `curl --retry 3 -X PATCH -H 'Content-Type: application/json' http://${host.includes(':') ? `[${host}]` : host}:${API_PORT}/v1/status -d '${START_REQUEST}' -s -w '\n{"http_code":%{http_code},"time_total":%{time_total},"time_starttransfer":%{time_starttransfer},"url":"%{url_effective}","remote_ip":"%{remote_ip}","errormsg":"%{errormsg}"}'`,
  );
  const resources = pod.resources ?? {
    requests: { cpu: '50m', memory: '2Mi' },
    limits: { cpu: '100m', memory: '200Mi' },
  };
  return job(
    testRun,
    `${testRun.metadata.name}-starter`,
    labels,
    { ...(pod.metadata?.annotations ?? {}) },
    {
      serviceAccountName: pod.serviceAccountName || 'default',
      restartPolicy: 'Never',
      containers: [
        {
          name: 'k6-curl',
          image: pod.image || DEFAULT_STARTER_IMAGE,
          ...(pod.imagePullPolicy ? { imagePullPolicy: pod.imagePullPolicy } : {}),
          command: [...istioPrefix(spec), 'sh', '-c', parts.join(';')],
          resources,
        },
      ],
    },
  );
}
