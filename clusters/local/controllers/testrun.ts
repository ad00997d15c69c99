// The k6-operator's TestRun controller (k6.io/v1alpha1), after internal/controller/testrun_controller.go and
// k6_{initialize,create,start,finish}.go of k6-operator 1.6.0: status.stage walks
// "" → initialization (initializer Job: `k6 inspect --execution-requirements`) → initialized (its JSON read from
// the pod log, maxVUs ≥ parallelism) → created (N paused runner Jobs + Services) → started (every runner pod
// Running and answering GET /v1/status, then the starter Job un-pauses them) → stopped (every runner Job has no
// active pod) → finished; or error (invalid arguments, a failed initializer, unreadable inspect output, more
// runners than VUs). Status goes through the status subresource with the operator's forward-only stage rule
// (TestRunStatus.SetIfNewer). Everything it creates has the TestRun as controller owner, so deleting the TestRun
// deletes it. The k6 Cloud paths (cloud output, PLZ) are not emulated: such a TestRun ends in "error".

import http from 'node:http';
import { type ObjectStore, StoreError } from '../store/types.js';
import type { EventRecorder } from './events.js';
import type { Job, Pod, Service } from './kube-types.js';
import { controllerOf } from './kube-types.js';
import { RESOURCES } from './resources.js';
import {
  argv,
  buildInitializerJob,
  buildRunnerJob,
  buildRunnerService,
  buildStarterJob,
  parseCli,
  parseScript,
  type TestRun,
  type TestRunCondition,
} from './testrun-jobs.js';
import { type ControllerLoop, objectKey, splitKey, startControllerLoop } from './work-queue.js';

const SOURCE = { component: 'k6-operator' };
/** StartJobs' RequeueAfter while runner pods or their Services are not ready yet. */
const START_RECHECK_MS = 1000;

export interface TestRunControllerOptions {
  /**
   * Reads a container's log, as the operator reads the initializer's `k6 inspect` output through pods/log.
   * When the target does not wire it, the initializer's success is taken as the inspection passing and the
   * maxVUs check is skipped (see docs/local-target-fidelity.md, "k6-operator").
   */
  podLogs?: (namespace: string, pod: string, container: string) => string;
  /** The operator's isServiceReady: GET http://<clusterIP>:6565/v1/status answers below 400. */
  probeService?: (clusterIP: string) => Promise<boolean>;
}

/** The condition reasons of pkg/types/conditions.go. */
const REASONS: Record<string, string> = {
  TestRunRunningUnknown: 'TestRunPreparation',
  TestRunRunningTrue: 'TestRunRunningTrue',
  TestRunRunningFalse: 'TestRunRunningFalse',
  TeardownExecutedFalse: 'TeardownExecutedFalse',
  CloudTestRunUnknown: 'TestRunTypeUnknown',
  CloudTestRunFalse: 'CloudTestRunFalse',
  CloudTestRunAbortedFalse: 'CloudTestRunAbortedFalse',
  CloudPLZTestRunFalse: 'CloudPLZTestRunFalse',
};

/** meta.SetStatusCondition: the transition time moves only when the status changes. */
export function setCondition(
  conditions: readonly TestRunCondition[],
  type: string,
  status: TestRunCondition['status'],
  now = new Date().toISOString(),
): TestRunCondition[] {
  const reason = REASONS[`${type}${status}`] ?? `${type}${status}`;
  const existing = conditions.find((c) => c.type === type);
  if (!existing) return [...conditions, { type, status, lastTransitionTime: now, reason, message: '' }];
  return conditions.map((c) =>
    c.type !== type
      ? c
      : { ...c, status, reason, lastTransitionTime: c.status === status ? c.lastTransitionTime : now },
  );
}

/** v1alpha1.Initialize: the conditions a new TestRun starts with. */
function initialConditions(): TestRunCondition[] {
  const now = new Date().toISOString();
  let conditions: TestRunCondition[] = [
    {
      type: 'CloudTestRun',
      status: 'Unknown',
      lastTransitionTime: now,
      reason: 'TestRunTypeUnknown',
      message: '',
    },
    {
      type: 'TestRunRunning',
      status: 'Unknown',
      lastTransitionTime: now,
      reason: 'TestRunPreparation',
      message: '',
    },
    {
      type: 'TeardownExecuted',
      status: 'False',
      lastTransitionTime: now,
      reason: 'TeardownExecutedFalse',
      message: '',
    },
  ];
  conditions = setCondition(conditions, 'CloudTestRunAborted', 'False', now);
  return setCondition(conditions, 'CloudPLZTestRun', 'False', now);
}

/** TestRunStatus.SetIfNewer's stage rule: stages only move forward ("error" from anywhere but the end). */
export function stageMayMove(current: string, proposed: string): boolean {
  if (proposed === '' || proposed === current) return false;
  switch (current) {
    case '':
    case 'initialization':
      return true;
    case 'initialized':
      return !proposed.startsWith('init');
    case 'created':
      return ['started', 'finished', 'error', 'stopped'].includes(proposed);
    case 'started':
      return ['stopped', 'finished', 'error'].includes(proposed);
    case 'stopped':
      return ['finished', 'error'].includes(proposed);
    default:
      return false;
  }
}

function defaultProbe(clusterIP: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: clusterIP, port: 6565, path: '/v1/status', timeout: 2000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 400);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

interface Context {
  store: ObjectStore;
  events: EventRecorder;
  options: TestRunControllerOptions;
  loop: () => ControllerLoop;
}

async function writeStatus(
  ctx: Context,
  testRun: TestRun,
  change: { stage?: string; conditions?: TestRunCondition[] },
): Promise<boolean> {
  const fresh = ctx.store.get(RESOURCES.testruns, testRun.metadata.namespace, testRun.metadata.name) as
    | TestRun
    | undefined;
  if (!fresh || fresh.metadata.uid !== testRun.metadata.uid) return false;
  const status = { ...(fresh.status ?? {}) };
  let changed = false;
  if (change.conditions && JSON.stringify(change.conditions) !== JSON.stringify(status.conditions ?? [])) {
    status.conditions = change.conditions;
    changed = true;
  }
  if (change.stage !== undefined && stageMayMove(status.stage ?? '', change.stage)) {
    status.stage = change.stage;
    changed = true;
  }
  if (!changed) return false;
  await ctx.store.updateStatus(RESOURCES.testruns, { ...fresh, status });
  return true;
}

async function createIfAbsent(
  ctx: Context,
  key: typeof RESOURCES.jobs,
  object: Job | Service,
): Promise<boolean> {
  try {
    await ctx.store.create(key, object);
    return true;
  } catch (error) {
    if (error instanceof StoreError && error.code === 409) return false;
    throw error;
  }
}

function podsOf(ctx: Context, testRun: TestRun, selector: string): Pod[] {
  return ctx.store.list(RESOURCES.pods, { namespace: testRun.metadata.namespace, labelSelector: selector })
    .items as Pod[];
}

/** inspectTestRun: the initializer pod's verdict and, when the log can be read, its parsed JSON. */
function inspect(
  ctx: Context,
  testRun: TestRun,
):
  | { state: 'waiting' }
  | { state: 'failed'; reason: string }
  | { state: 'done'; maxVUs: number | undefined } {
  const name = testRun.metadata.name;
  const pods = podsOf(ctx, testRun, `app=k6,k6_cr=${name},job-name=${name}-initializer`);
  const pod = pods[0];
  if (!pod) return { state: 'waiting' };
  if (pod.status?.phase === 'Failed') return { state: 'failed', reason: 'initalizer job has failed' };
  if (pod.status?.phase !== 'Succeeded') return { state: 'waiting' };
  if (!ctx.options.podLogs) return { state: 'done', maxVUs: undefined };
  let text: string;
  try {
    text = ctx.options.podLogs(testRun.metadata.namespace ?? 'default', pod.metadata.name, 'k6');
  } catch (error) {
    return { state: 'failed', reason: `unable to read the initializer's log: ${(error as Error).message}` };
  }
  try {
    const parsed = JSON.parse(text) as { maxVUs?: unknown };
    return { state: 'done', maxVUs: typeof parsed.maxVUs === 'number' ? parsed.maxVUs : 0 };
  } catch (error) {
    return {
      state: 'failed',
      reason: `unable to marshal: \`${text.slice(0, 500)}\` (${(error as Error).message})`,
    };
  }
}

async function toError(ctx: Context, testRun: TestRun, reason: string): Promise<void> {
  ctx.events.record(testRun, 'Warning', 'TestRunError', reason, { source: SOURCE });
  await writeStatus(ctx, testRun, { stage: 'error' });
}

/** What one reconcile pass knows about its TestRun, handed to the step of the TestRun's stage. */
interface Pass {
  key: string;
  namespace: string | undefined;
  name: string;
  testRun: TestRun;
  spec: TestRun['spec'];
  cli: ReturnType<typeof parseCli>;
  conditions: readonly TestRunCondition[];
}

type StageStep = (ctx: Context, pass: Pass) => Promise<void>;

/** "": check the arguments and the script, then start the initializer (or skip it when disabled). */
async function initialize(ctx: Context, { testRun, spec, cli }: Pass): Promise<void> {
  if (spec.scuttle?.enabled) {
    ctx.events.record(
      testRun,
      'Warning',
      'DeprecatedField',
      '`.spec.scuttle` is deprecated and will be removed in the future.',
      { source: SOURCE },
    );
  }
  if (cli.error) return toError(ctx, testRun, cli.error);
  try {
    parseScript(spec);
  } catch (error) {
    return toError(ctx, testRun, (error as Error).message);
  }
  if (cli.hasCloudOut || spec.testRunId) {
    return toError(
      ctx,
      testRun,
      'k6 Cloud test runs (--out cloud, spec.testRunId) are not emulated on the local target',
    );
  }
  if (spec.initializer?.disabled) {
    await writeStatus(ctx, testRun, { conditions: initialConditions(), stage: 'initialized' });
    return;
  }
  if (await writeStatus(ctx, testRun, { conditions: initialConditions(), stage: 'initialization' })) {
    await createIfAbsent(ctx, RESOURCES.jobs, buildInitializerJob(testRun));
  }
}

/** "initialization": wait for the initializer's verdict; enough VUs for the runners moves on. */
async function checkInitializer(ctx: Context, { testRun, spec, conditions }: Pass): Promise<void> {
  const result = inspect(ctx, testRun);
  if (result.state === 'waiting') return;
  if (result.state === 'failed') return toError(ctx, testRun, result.reason);
  if (result.maxVUs !== undefined && result.maxVUs < spec.parallelism) {
    return toError(
      ctx,
      testRun,
      `number of instances > number of VUs: parallelism ${spec.parallelism}, maxVUs ${result.maxVUs}`,
    );
  }
  await writeStatus(ctx, testRun, {
    conditions: setCondition(conditions, 'CloudTestRun', 'False'),
    stage: 'initialized',
  });
}

/** "initialized": create the paused runner Jobs and their Services, unless a previous run's are still there. */
async function createRunners(ctx: Context, { testRun, spec, namespace, name }: Pass): Promise<void> {
  if (ctx.store.get(RESOURCES.jobs, namespace, `${name}-1`)) {
    ctx.events.record(
      testRun,
      'Warning',
      'JobExists',
      `job with the name ${name}-1 exists; make sure you've deleted your previous run`,
      { source: SOURCE },
    );
    return;
  }
  for (let i = 1; i <= spec.parallelism; i++) {
    await createIfAbsent(ctx, RESOURCES.jobs, buildRunnerJob(testRun, i));
    await createIfAbsent(ctx, RESOURCES.services, buildRunnerService(testRun, i));
  }
  await writeStatus(ctx, testRun, { stage: 'created' });
}

/** The runner Services' IPs once every one answers its status probe, else undefined (check again later). */
async function readyRunnerHosts(ctx: Context, { namespace, name }: Pass): Promise<string[] | undefined> {
  const services = ctx.store.list(RESOURCES.services, {
    namespace,
    labelSelector: `app=k6,k6_cr=${name},runner=true`,
  }).items as Service[];
  const probe = ctx.options.probeService ?? defaultProbe;
  const hostnames: string[] = [];
  for (const service of services) {
    const ip = service.spec.clusterIP;
    if (!ip || !(await probe(ip))) return undefined;
    hostnames.push(ip);
  }
  return hostnames;
}

/** "created": once every runner pod runs and answers, the starter Job un-pauses them. */
async function startRunners(ctx: Context, pass: Pass): Promise<void> {
  const { testRun, spec, key, name, conditions } = pass;
  const running = podsOf(ctx, testRun, `app=k6,k6_cr=${name},runner=true`).filter(
    (p) => p.status?.phase === 'Running',
  ).length;
  if (running !== spec.parallelism) {
    ctx.loop().enqueue(key, START_RECHECK_MS);
    return;
  }
  const hostnames = await readyRunnerHosts(ctx, pass);
  if (!hostnames) {
    ctx.loop().enqueue(key, START_RECHECK_MS);
    return;
  }
  await createIfAbsent(ctx, RESOURCES.jobs, buildStarterJob(testRun, hostnames));
  await writeStatus(ctx, testRun, {
    conditions: setCondition(conditions, 'TestRunRunning', 'True'),
    stage: 'started',
  });
}

/** "started": stopped once no runner Job has an active pod. */
async function awaitRunners(
  ctx: Context,
  { testRun, spec, namespace, name, conditions }: Pass,
): Promise<void> {
  const jobs = ctx.store.list(RESOURCES.jobs, {
    namespace,
    labelSelector: `app=k6,k6_cr=${name},runner=true`,
  }).items as Job[];
  const finished = jobs.filter((j) => (j.status?.active ?? 0) === 0).length;
  if (finished < spec.parallelism) return;
  await writeStatus(ctx, testRun, {
    conditions: setCondition(conditions, 'TestRunRunning', 'False'),
    stage: 'stopped',
  });
}

async function finish(ctx: Context, { testRun }: Pass): Promise<void> {
  await writeStatus(ctx, testRun, { stage: 'finished' });
}

/** "error" and "finished": with cleanup: post the TestRun deletes itself (and, by ownership, what it made). */
async function cleanUp(ctx: Context, { spec, namespace, name }: Pass): Promise<void> {
  if (spec.cleanup !== 'post') return;
  await ctx.store.delete(RESOURCES.testruns, namespace, name).catch((e: unknown) => {
    if (!(e instanceof StoreError && e.code === 404)) throw e;
  });
}

/** The step for each stage; a stage not listed has nothing to do. */
const STAGE_STEPS: Readonly<Record<string, StageStep>> = {
  '': initialize,
  initialization: checkInitializer,
  initialized: createRunners,
  created: startRunners,
  started: awaitRunners,
  stopped: finish,
  error: cleanUp,
  finished: cleanUp,
};

async function reconcileTestRun(ctx: Context, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const testRun = ctx.store.get(RESOURCES.testruns, namespace, name) as TestRun | undefined;
  if (!testRun || testRun.metadata.deletionTimestamp) return;
  const spec = testRun.spec;
  if (!(spec.parallelism >= 1)) {
    // The operator logs this and stops reconciling; the stage stays as it is.
    ctx.events.record(
      testRun,
      'Warning',
      'InvalidParallelism',
      `parallelism of TestRun cannot be less than 1; provided value is ${spec.parallelism}`,
      { source: SOURCE },
    );
    return;
  }
  const cli = parseCli(argv(spec));
  const stage = testRun.status?.stage ?? '';
  const step = Object.hasOwn(STAGE_STEPS, stage) ? STAGE_STEPS[stage] : undefined;
  const conditions = testRun.status?.conditions ?? [];
  await step?.(ctx, { key, namespace, name, testRun, spec, cli, conditions });
}

export function startTestRunController(
  store: ObjectStore,
  events: EventRecorder,
  options: TestRunControllerOptions = {},
): ControllerLoop {
  const loop: ControllerLoop = startControllerLoop({
    name: 'testrun',
    store,
    sources: [
      { key: RESOURCES.testruns, toKeys: (e) => (e.type === 'DELETED' ? [] : [objectKey(e.object)]) },
      {
        key: RESOURCES.jobs,
        toKeys: (e) => {
          const owner = controllerOf(e.object);
          return owner?.kind === 'TestRun' ? [`${e.object.metadata.namespace}/${owner.name}`] : [];
        },
      },
      {
        // As the operator's pod watch: any pod labelled k6_cr names its TestRun.
        key: RESOURCES.pods,
        toKeys: (e) => {
          const cr = e.object.metadata.labels?.k6_cr;
          return cr ? [`${e.object.metadata.namespace}/${cr}`] : [];
        },
      },
    ],
    initialKeys: () => store.list(RESOURCES.testruns).items.map(objectKey),
    reconcile: (key) => reconcileTestRun({ store, events, options, loop: () => loop }, key),
  });
  return loop;
}
