// The in-cluster k6 driver: runs the generated script on the cluster (kind) as a plain Job or a k6-operator
// TestRun, through the harness's KubeClient; polls the k6 pods' logs, where k6 writes its NDJSON points
// (`--out json=/dev/stdout`), and feeds them to the same parser as the local driver, so the engine gets the same
// per-second LoadSamples. Every object it creates carries the run-id label, and it deletes them all when the run
// ends, is stopped or is aborted.
//
// What the pod log carries: k6's points (one JSON object per line), and around them non-JSON lines — k6's
// warnings (stderr, merged into the log) and, last, the script's handleSummary line
// "meshdrill: k6 summary written to …", which marks the end of the points. Non-JSON lines are kept aside (the
// last few explain a failure); only lines starting with "{" reach the parser.

import type { KubeClient, ObjectKey } from '../../kube/index.js';
import { describeObject, keyOf } from '../../kube/index.js';
import { labelForRun } from '../../kube/index.js';
import { environmentError, MeshdrillError } from '../../model/index.js';
import type { KubeObject } from '../../model/index.js';
import type { LoadDriver, LoadProfile, LoadRun, LoadSample, LoadSummary } from '../../model/index.js';
import type { SloThreshold } from '../../model/index.js';
import { checkLoadProfile } from '../profile-check.js';
import { LogCursor } from './log-cursor.js';
import { buildK6ConfigMap, buildK6Job, buildK6TestRun, K6_IMAGE, toDnsLabel } from './manifests.js';
import { K6OutputParser } from './output.js';
import { generateK6Script } from './script.js';

export type K6ClusterMode = 'job' | 'testrun';

export interface K6InClusterDriverOptions {
  kube: KubeClient;
  namespace: string;
  /** A plain Job (one k6 pod, no operator needed) or a k6-operator TestRun (`parallelism` runner pods). */
  mode: K6ClusterMode;
  /** Every object created carries this run-id label (labelForRun), so cleanup finds it after a crash. */
  runId: string;
  scenario?: string;
  /** Base of the object names; default `k6-<runId>`. */
  name?: string;
  /** SLOs mirrored as k6 thresholds (meshdrill judges SLOs itself either way). */
  slos?: readonly SloThreshold[];
  image?: string;
  /**
   * Where the pods send the load, e.g. the ingress gateway's in-cluster Service. Absent, the URL `start` is given
   * — which is how this host reaches the gateway, and often not how a pod does.
   */
  baseUrl?: string;
  /** TestRun only: runner pods to split the load across. Default 1. */
  parallelism?: number;
  /** How often pods and logs are read. Default 1000 ms. */
  pollMs?: number;
  /** How long the k6 pods may take to start (image pull on a fresh kind node). Default 180 s. */
  podStartTimeoutMs?: number;
  /** How long deleting what the run created may take before it is reported as left over. Default 60 s. */
  cleanupTimeoutMs?: number;
}

/** Where a drill's k6 runs in the cluster: the target's answer (`k6-mode=in-cluster`). */
export interface InClusterLoad {
  /** The ingress gateway as pods reach it. */
  baseUrl: string;
  /** Runner pods of the TestRun. */
  runners: number;
}

/**
 * The TestRun options of one drill's in-cluster load: in the drill's namespace (deleted with it), named for the
 * drill and the run, labelled with the run so cleanup finds it after a crash. The run and its plan use the same.
 */
export function drillTestRunOptions(
  runId: string,
  drill: { scenario: string; namespace: string },
  load: InClusterLoad,
): Omit<K6InClusterDriverOptions, 'kube'> {
  return {
    namespace: drill.namespace,
    mode: 'testrun',
    runId,
    scenario: drill.scenario,
    name: `k6-${drill.scenario}-${runId}`,
    parallelism: load.runners,
    baseUrl: load.baseUrl,
  };
}

export const K6_OPERATOR_INSTALL_HINT =
  'install the k6-operator (`kubectl apply --server-side -f https://raw.githubusercontent.com/grafana/k6-operator/main/bundle.yaml`, ' +
  'or `helm install k6-operator grafana/k6-operator` from https://grafana.github.io/helm-charts), ' +
  "or run k6 as a plain Job (mode 'job'), which needs no operator";

const TESTRUN_CRD: ObjectKey = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  name: 'testruns.k6.io',
};

/** k6 exits 99 when thresholds are crossed: the run itself went fine, and meshdrill judges the SLOs. */
const K6_THRESHOLDS_FAILED = 99;
/** Container waiting reasons that will not resolve by waiting. */
const HOPELESS_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);
const K6_CONTAINER = 'k6';
const KEPT_OTHER_LINES = 20;

export function createK6InClusterDriver(options: K6InClusterDriverOptions): LoadDriver {
  return {
    name: 'k6',
    async start(profile, baseUrl, onSample, signal) {
      const problems = checkLoadProfile(profile);
      if (problems.length > 0) throw environmentError(`load profile cannot run:\n  ${problems.join('\n  ')}`);
      const plan = planK6ClusterRun(options, profile, options.baseUrl ?? baseUrl);
      if (options.mode === 'testrun') await requireK6Operator(options.kube);
      const created = await applyAll(options.kube, plan.objects);
      return followRun(options, plan, created, profile, onSample, signal);
    },
  };
}

export interface K6ClusterPlan {
  /** In apply order: the script's ConfigMap, then the Job or TestRun. */
  objects: KubeObject[];
  /** Selects the k6 pods that carry the points (the Job's pod, or the TestRun's runners). */
  podSelector: string;
  /** TestRun only: the operator's Jobs (initializer, starter, runners), deleted with it. */
  jobSelector?: string;
  /** k6 pods to expect. */
  pods: number;
}

/** The objects and selectors of an in-cluster run. Pure. */
export function planK6ClusterRun(
  options: Pick<
    K6InClusterDriverOptions,
    'namespace' | 'mode' | 'runId' | 'scenario' | 'name' | 'slos' | 'image' | 'parallelism'
  >,
  profile: LoadProfile,
  baseUrl: string,
): K6ClusterPlan {
  const run = {
    name: toDnsLabel(options.name ?? `k6-${options.runId}`, 52),
    namespace: options.namespace,
    runId: options.runId,
    scenario: options.scenario ?? 'load',
    script: generateK6Script(profile, options.slos ?? []),
    baseUrl,
    image: options.image ?? K6_IMAGE,
    parallelism: options.parallelism ?? 1,
  };
  const label = (o: KubeObject): KubeObject => labelForRun(o, options.runId, options.scenario);
  if (options.mode === 'job') {
    const job = label(buildK6Job(run));
    return {
      objects: [label(buildK6ConfigMap(run)), job],
      // The Job controller labels its pods with job-name.
      podSelector: `job-name=${job.metadata.name ?? run.name}`,
      pods: 1,
    };
  }
  const testRun = label(buildK6TestRun(run));
  const cr = testRun.metadata.name ?? run.name;
  return {
    objects: [label(buildK6ConfigMap(run)), testRun],
    podSelector: `app=k6,k6_cr=${cr},runner=true`,
    jobSelector: `app=k6,k6_cr=${cr}`,
    pods: run.parallelism,
  };
}

/** Throws the install hint when the cluster does not serve k6-operator's TestRun. */
async function requireK6Operator(kube: KubeClient): Promise<void> {
  let crd: KubeObject | undefined;
  try {
    crd = await kube.get(TESTRUN_CRD);
  } catch {
    // Not allowed to read CRDs: let the apply say whether TestRun exists.
    return;
  }
  if (crd === undefined) {
    throw environmentError(
      'the k6 TestRun mode needs the k6-operator, but the cluster has no CustomResourceDefinition testruns.k6.io',
      { hint: K6_OPERATOR_INSTALL_HINT },
    );
  }
}

/** Whether an apply failure means the kind is not served (no CRD): a 404, or discovery not knowing the kind. */
function isUnknownKind(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return /\b404\b|could not find the requested resource|no matches for kind|unrecognized api version/i.test(
    text,
  );
}

async function applyAll(kube: KubeClient, objects: readonly KubeObject[]): Promise<KubeObject[]> {
  const created: KubeObject[] = [];
  for (const object of objects) {
    try {
      await kube.apply(object);
      created.push(object);
    } catch (error) {
      await Promise.allSettled([...created].reverse().map((o) => kube.delete(keyOf(o))));
      if (object.kind === 'TestRun' && isUnknownKind(error)) {
        throw environmentError(
          `applying ${describeObject(keyOf(object))} failed: the cluster does not serve k6.io/v1alpha1 TestRun`,
          { hint: K6_OPERATOR_INSTALL_HINT, cause: error },
        );
      }
      throw error;
    }
  }
  return created;
}

interface PodView {
  name: string;
  phase: string;
  waiting?: { reason: string; message: string };
  exitCode?: number;
}

function viewPod(pod: KubeObject): PodView {
  const status = (pod.status ?? {}) as {
    phase?: unknown;
    containerStatuses?: { name?: unknown; state?: Record<string, Record<string, unknown> | undefined> }[];
  };
  const k6 = status.containerStatuses?.find((c) => c.name === K6_CONTAINER) ?? status.containerStatuses?.[0];
  const waiting = k6?.state?.waiting;
  const terminated = k6?.state?.terminated;
  return {
    name: pod.metadata.name ?? '',
    phase: typeof status.phase === 'string' ? status.phase : 'Pending',
    ...(waiting && typeof waiting.reason === 'string'
      ? { waiting: { reason: waiting.reason, message: String(waiting.message ?? '') } }
      : {}),
    ...(terminated && typeof terminated.exitCode === 'number' ? { exitCode: terminated.exitCode } : {}),
  };
}

const isTerminal = (pod: PodView): boolean => pod.phase === 'Succeeded' || pod.phase === 'Failed';

/** Sleeps `ms`, or less when the signal aborts. Never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** What following one in-cluster run reads and keeps, shared by the steps below. */
interface K6ClusterFollow {
  options: K6InClusterDriverOptions;
  plan: K6ClusterPlan;
  profile: LoadProfile;
  onSample: (sample: LoadSample) => void;
  parser: K6OutputParser;
  /** Per pod, how far its log has been read. */
  cursors: Map<string, LogCursor>;
  /** The last non-point lines of the pods' logs, which explain a failure. */
  otherLines: string[];
  /** The Job or TestRun: the object whose state the errors name. */
  topObject: KubeObject;
  top: string;
}

function followRun(
  options: K6InClusterDriverOptions,
  plan: K6ClusterPlan,
  created: KubeObject[],
  profile: LoadProfile,
  onSample: (sample: LoadSample) => void,
  signal: AbortSignal | undefined,
): LoadRun {
  const topObject = created.at(-1) as KubeObject;
  const state: K6ClusterFollow = {
    options,
    plan,
    profile,
    onSample,
    // One stream per runner pod: a second closes once every runner has moved past it (output.ts).
    parser: new K6OutputParser({ lateMs: profile.requestTimeoutMs + 1000, streams: plan.pods }),
    cursors: new Map(),
    otherLines: [],
    topObject,
    top: describeObject(keyOf(topObject)),
  };
  const stopper = new AbortController();
  const onAbort = (): void => stopper.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) stopper.abort();
  const done = finishRun(state, created, stopper.signal, () => signal?.removeEventListener('abort', onAbort));
  return {
    done,
    stop() {
      stopper.abort();
      return done;
    },
  };
}

/**
 * Follows the run to its end, hands out the last seconds, then deletes what the run created whatever happened;
 * a failure of the run wins over one of the cleanup.
 */
async function finishRun(
  state: K6ClusterFollow,
  created: readonly KubeObject[],
  stopped: AbortSignal,
  release: () => void,
): Promise<LoadSummary> {
  const { options } = state;
  let failure: unknown;
  let summary: LoadSummary | undefined;
  try {
    await followPods(state, stopped);
    // The last seconds go out before cleanup, which may wait for pods to terminate.
    const rest = state.parser.finish();
    emitSamples(state, rest.samples);
    summary = rest.summary;
  } catch (error) {
    failure = error;
  }
  release();
  const leftover = await deleteCreated(options, state.plan, created);
  if (failure !== undefined || summary === undefined) throw failure;
  if (leftover.length > 0) {
    throw new MeshdrillError(
      'cleanup',
      `k6 in-cluster: still present ${options.cleanupTimeoutMs ?? 60_000} ms after deletion: ${leftover.join(', ')}`,
      {
        hint: `run \`meshdrill cleanup --run-id ${options.runId} --context <the target's context>\`, or delete them with kubectl`,
      },
    );
  }
  return summary;
}

function emitSamples(state: K6ClusterFollow, samples: readonly LoadSample[]): void {
  for (const sample of samples) {
    try {
      state.onSample(sample);
    } catch {
      // A failing consumer must not stop the load mid-fault.
    }
  }
}

async function listK6Pods(state: K6ClusterFollow): Promise<PodView[]> {
  const { kube, namespace } = state.options;
  return (await kube.list('v1', 'Pod', { namespace, labelSelector: state.plan.podSelector })).map(viewPod);
}

/** Reads each started pod's log and feeds its new points to the parser. */
async function readPodLogs(state: K6ClusterFollow, pods: readonly PodView[], final: boolean): Promise<void> {
  const { kube, namespace } = state.options;
  const { cursors, otherLines, parser } = state;
  for (const pod of pods) {
    if (pod.phase === 'Pending' || pod.phase === 'Unknown') continue;
    const cursor = cursors.get(pod.name) ?? new LogCursor();
    cursors.set(pod.name, cursor);
    const log = await kube.podLog(namespace, pod.name, K6_CONTAINER);
    const points: string[] = [];
    for (const line of cursor.read(log, final || isTerminal(pod)).lines) {
      if (line.startsWith('{')) points.push(line);
      else if (line.trim() !== '') otherLines.push(`${pod.name}: ${line}`);
    }
    otherLines.splice(0, Math.max(0, otherLines.length - KEPT_OTHER_LINES));
    if (points.length > 0) emitSamples(state, parser.push(`${points.join('\n')}\n`, pod.name));
    if (isTerminal(pod)) emitSamples(state, parser.endStream(pod.name));
  }
}

function describeOtherOutput(state: K6ClusterFollow): string {
  return state.otherLines.length === 0 ? '(no output besides points)' : state.otherLines.join('\n  ');
}

/** Follows the pods until they have all exited (or the run is stopped); throws when k6 fails. */
async function followPods(state: K6ClusterFollow, stopped: AbortSignal): Promise<void> {
  const { options, plan, profile } = state;
  const startBy = Date.now() + (options.podStartTimeoutMs ?? 180_000);
  // The schedule, k6's graceful stop and a minute for its start-up and summary, after the pods have started.
  const runFor = profile.maxDurationMs + profile.requestTimeoutMs + 60_000;
  let endBy = Number.POSITIVE_INFINITY;
  while (!stopped.aborted) {
    const pods = await listK6Pods(state);
    requireStartablePods(state, pods);
    const started = pods.filter((p) => p.phase !== 'Pending');
    if (started.length >= plan.pods && endBy === Number.POSITIVE_INFINITY) endBy = Date.now() + runFor;
    if (endBy === Number.POSITIVE_INFINITY && Date.now() > startBy)
      throw podsDidNotStart(state, pods, started);
    const finished = pods.length >= plan.pods && pods.every(isTerminal);
    await readPodLogs(state, started, finished);
    if (finished) return requireK6Succeeded(state, pods);
    if (options.mode === 'testrun') await checkTestRun(state);
    if (Date.now() > endBy) {
      throw environmentError(`k6 in-cluster (${state.top}) did not finish within ${runFor} ms of starting`, {
        hint: 'the k6 pods may be stuck; their logs say where',
      });
    }
    await pause(options.pollMs ?? 1000, stopped);
  }
  // Stopped: take what the pods have written so far (best effort, the run is over either way).
  await listK6Pods(state)
    .then((pods) => readPodLogs(state, pods, false))
    .catch(() => undefined);
}

/** Throws when a pod waits for something that waiting will not bring (a missing image, a broken spec). */
function requireStartablePods(state: K6ClusterFollow, pods: readonly PodView[]): void {
  const { image, namespace } = state.options;
  for (const pod of pods) {
    if (pod.waiting && HOPELESS_WAITING.has(pod.waiting.reason)) {
      throw environmentError(
        `the k6 pod ${namespace}/${pod.name} cannot start: ${pod.waiting.reason} ${pod.waiting.message}`.trim(),
        {
          hint: `check the image ("${image ?? K6_IMAGE}"); on kind without registry access, load it with \`kind load docker-image ${image ?? K6_IMAGE}\``,
        },
      );
    }
  }
}

function podsDidNotStart(
  state: K6ClusterFollow,
  pods: readonly PodView[],
  started: readonly PodView[],
): Error {
  const { options, plan, topObject } = state;
  const { namespace } = options;
  return environmentError(
    `the k6 pods of ${state.top} did not start within ${options.podStartTimeoutMs ?? 180_000} ms: expected ${plan.pods} pod(s) matching ${plan.podSelector}, got ${started.length} started of ${pods.length}`,
    {
      hint: `look at \`kubectl -n ${namespace} get pods -l ${plan.podSelector}\` and \`kubectl -n ${namespace} describe ${topObject.kind.toLowerCase()} ${topObject.metadata.name ?? ''}\``,
    },
  );
}

/** Throws when a k6 pod failed; crossed thresholds are no failure here (meshdrill judges the SLOs). */
function requireK6Succeeded(state: K6ClusterFollow, pods: readonly PodView[]): void {
  const failed = pods.filter(
    (p) => p.exitCode !== undefined && p.exitCode !== 0 && p.exitCode !== K6_THRESHOLDS_FAILED,
  );
  if (failed.length > 0 || pods.some((p) => p.phase === 'Failed' && p.exitCode === undefined)) {
    throw environmentError(
      `k6 failed in-cluster (${state.top}): ${pods.map((p) => `${p.name} ${p.phase} exit ${p.exitCode ?? '?'}`).join(', ')}\n  ${describeOtherOutput(state)}`,
      { hint: 'the k6 output above says why; `kubectl logs` on the pod shows all of it' },
    );
  }
}

async function checkTestRun(state: K6ClusterFollow): Promise<void> {
  const { kube, namespace } = state.options;
  const { topObject } = state;
  const current = await kube.get(keyOf(topObject));
  const stage = (current?.status as { stage?: unknown } | undefined)?.stage;
  if (stage === 'error') {
    throw environmentError(`the k6-operator reports ${state.top} in stage "error"`, {
      hint: `\`kubectl -n ${namespace} describe testrun ${topObject.metadata.name ?? ''}\` and the operator's log say why`,
    });
  }
}

/**
 * Deletes the Job/TestRun, then its Jobs and pods explicitly, then the ConfigMap, and waits until the pods are
 * gone: the KubeClient deletes with background propagation, and a k6 pod still terminating would still send load
 * after stop() resolved. Returns what is still there at the deadline.
 */
async function deleteCreated(
  options: K6InClusterDriverOptions,
  plan: K6ClusterPlan,
  created: readonly KubeObject[],
): Promise<string[]> {
  const { kube, namespace } = options;
  const failures: string[] = [];
  const remove = async (key: ObjectKey): Promise<void> => {
    try {
      await kube.delete(key);
    } catch (error) {
      failures.push(`${describeObject(key)} (${error instanceof Error ? error.message : String(error)})`);
    }
  };
  const owned = async (apiVersion: string, kind: string, labelSelector: string): Promise<KubeObject[]> =>
    kube.list(apiVersion, kind, { namespace, labelSelector }).catch(() => []);

  // The top object first, so no controller recreates what is deleted after it.
  for (const object of [...created].reverse()) await remove(keyOf(object));
  if (plan.jobSelector !== undefined) {
    for (const job of await owned('batch/v1', 'Job', plan.jobSelector)) await remove(keyOf(job));
  }
  const podSelector = plan.jobSelector ?? plan.podSelector;
  for (const pod of await owned('v1', 'Pod', podSelector)) await remove(keyOf(pod));

  const deadline = Date.now() + (options.cleanupTimeoutMs ?? 60_000);
  const stillThere = async (): Promise<string[]> => {
    const left: string[] = [];
    for (const object of created) {
      const found = await kube.get(keyOf(object)).catch(() => object);
      if (found !== undefined) left.push(describeObject(keyOf(object)));
    }
    for (const pod of await owned('v1', 'Pod', podSelector)) left.push(describeObject(keyOf(pod)));
    return left;
  };
  let left = await stillThere();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, options.pollMs ?? 500)));
    left = await stillThere();
  }
  return left.length === 0 ? [] : [...left, ...failures];
}
