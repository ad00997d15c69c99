// The chaos controller-manager: watches every chaos-mesh.org/v1alpha1 kind, adds the `chaos-mesh/records`
// finalizer, selects pods once, injects each record, recovers when the duration ends, the object is paused or
// deleted (then drops the finalizer), and writes status like the real controller after every step.

import { createEventRecorder, type EventRecorder } from '../controllers/events.js';
import type { Pod } from '../controllers/kube-types.js';
import { connectRuntimeSocket } from '../kubelet/chaos-hooks.js';
import { KEYS } from '../store/resources.js';
import { type ObjectStore, StoreError, type StoredObject, type Watch } from '../store/types.js';
import { httpChaosHandler } from './actions/http-chaos.js';
import { forgetNetworkTargets, networkChaosHandler } from './actions/network-chaos.js';
import { podChaosHandler } from './actions/pod-chaos.js';
import { stressChaosHandler } from './actions/stress-chaos.js';
import { timeChaosHandler } from './actions/time-chaos.js';
import type { ActionContext, ChaosHandler, ChaosTarget } from './actions/types.js';
import { createHookFiles, type HookFiles } from './hook-files.js';
import { filterPods, pickByMode } from './selector.js';
import { CHAOS_KINDS, type ChaosKind, durationMs, FINALIZER, isPaused, readPodSelectorSpec } from './spec.js';
import { buildChaosStatus, type ContainerRecord } from './status.js';
import { chaosKey } from './webhook.js';

const HANDLERS: Record<ChaosKind, ChaosHandler> = {
  PodChaos: podChaosHandler,
  StressChaos: stressChaosHandler,
  NetworkChaos: networkChaosHandler,
  TimeChaos: timeChaosHandler,
  HTTPChaos: httpChaosHandler,
};

interface Experiment {
  uid: string;
  kind: ChaosKind;
  namespace: string;
  name: string;
  targets: ChaosTarget[];
  records: ContainerRecord[];
  problems: string[];
  desiredPhase: 'Run' | 'Stop';
  paused: boolean;
  startTime: string;
  timer: NodeJS.Timeout | undefined;
  /** Steps for one object run one at a time. */
  queue: Promise<void>;
}

/** What every step of the controller shares. */
interface ControllerState {
  store: ObjectStore;
  ctx: ActionContext;
  events: EventRecorder;
  hooks: HookFiles;
  experiments: Map<string, Experiment>;
  stopped: boolean;
}

export interface ChaosControllerOptions {
  store: ObjectStore;
  workDir: string;
  stressEntry: string;
  random?: () => number;
}

export interface ChaosController {
  readonly hooks: HookFiles;
  /** Resolves when every queued step of every experiment has run (tests). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

function now(): string {
  return new Date().toISOString();
}

async function writeStatus(state: ControllerState, exp: Experiment): Promise<void> {
  const key = chaosKey(exp.kind);
  const current = state.store.get(key, exp.namespace, exp.name);
  if (!current || current.metadata.uid !== exp.uid) return;
  const status = buildChaosStatus({
    records: exp.records,
    desiredPhase: exp.desiredPhase,
    paused: exp.paused,
    selectProblems: exp.problems,
    startTime: exp.startTime,
  });
  await state.store.updateStatus(key, { ...current, status }).catch(() => undefined);
}

/** Applies one target; the record and the object's events tell how it went. */
async function injectTarget(
  state: ControllerState,
  exp: Experiment,
  chaos: StoredObject,
  target: ChaosTarget,
  record: ContainerRecord,
): Promise<void> {
  try {
    const result = await HANDLERS[exp.kind].inject(chaos, target, state.ctx);
    record.events.push({
      type: result.ok ? 'Succeeded' : 'Failed',
      operation: 'Apply',
      timestamp: now(),
      ...(result.message ? { message: result.message } : {}),
    });
    if (result.ok) {
      record.phase = 'Injected';
      record.injectedCount++;
    } else {
      state.events.record(
        chaos,
        'Warning',
        'Failed',
        `Failed to apply chaos: ${target.id}: ${result.message}`,
      );
    }
  } catch (error) {
    const message = (error as Error).message;
    record.events.push({ type: 'Failed', operation: 'Apply', timestamp: now(), message });
    state.events.record(chaos, 'Warning', 'Failed', `Failed to apply chaos: ${target.id}: ${message}`);
  }
}

async function inject(state: ControllerState, exp: Experiment, chaos: StoredObject): Promise<void> {
  for (const [i, target] of exp.targets.entries()) {
    const record = exp.records[i];
    if (!record || record.phase === 'Injected') continue;
    await injectTarget(state, exp, chaos, target, record);
  }
  const injected = exp.records.filter((r) => r.phase === 'Injected');
  if (injected.length > 0) {
    state.events.record(
      chaos,
      'Normal',
      'Applied',
      `Successfully apply chaos for ${injected.map((r) => r.id).join(', ')}`,
    );
  }
}

async function recover(state: ControllerState, exp: Experiment, chaos: StoredObject): Promise<void> {
  const handler = HANDLERS[exp.kind];
  for (const [i, target] of exp.targets.entries()) {
    const record = exp.records[i];
    if (record?.phase !== 'Injected') continue;
    try {
      await handler.recover(chaos, target, state.ctx);
      record.phase = 'NotInjected';
      record.recoveredCount++;
      record.events.push({ type: 'Succeeded', operation: 'Recover', timestamp: now() });
    } catch (error) {
      const message = (error as Error).message;
      record.events.push({ type: 'Failed', operation: 'Recover', timestamp: now(), message });
      state.events.record(chaos, 'Warning', 'Failed', `Failed to recover chaos: ${target.id}: ${message}`);
    }
  }
  state.events.record(chaos, 'Normal', 'Recovered', 'Successfully recover chaos');
}

function select(state: ControllerState, exp: Experiment, chaos: StoredObject): void {
  const { ctx, events } = state;
  const sel = readPodSelectorSpec(chaos.spec, exp.namespace);
  const candidates = filterPods(state.store.list(KEYS.pods).items as Pod[], sel.selector);
  const picked = pickByMode(candidates, sel.mode, sel.value, ctx.random);
  if (!picked.ok) {
    exp.problems = [picked.message];
    events.record(chaos, 'Warning', 'Failed', `Failed to select targets: ${picked.message}`);
    return;
  }
  const { targets, problems } = HANDLERS[exp.kind].targets(chaos, picked.pods, ctx);
  exp.targets = targets;
  exp.problems = problems;
  exp.records = targets.map((t) => ({
    id: t.id,
    selectorKey: t.selectorKey,
    phase: 'NotInjected',
    injectedCount: 0,
    recoveredCount: 0,
    events: [],
  }));
  for (const p of problems) events.record(chaos, 'Warning', 'Failed', `Failed to select targets: ${p}`);
}

/** The stored object an experiment is about, unless it is gone or was replaced by a namesake. */
function fresh(state: ControllerState, exp: Experiment): StoredObject | undefined {
  const o = state.store.get(chaosKey(exp.kind), exp.namespace, exp.name);
  return o && o.metadata.uid === exp.uid ? o : undefined;
}

function enqueue(exp: Experiment, step: () => Promise<void>): void {
  exp.queue = exp.queue.then(step).catch(() => undefined);
}

/** The object is being deleted: recover, record Stop, then release it by dropping our finalizer. */
async function finishDeletion(state: ControllerState, exp: Experiment, chaos: StoredObject): Promise<void> {
  if (exp.timer) clearTimeout(exp.timer);
  await recover(state, exp, chaos);
  exp.desiredPhase = 'Stop';
  await writeStatus(state, exp);
  const latest = fresh(state, exp);
  if (latest) {
    latest.metadata.finalizers = (latest.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    await state.store.update(chaosKey(exp.kind), latest).catch((e: unknown) => {
      if (!(e instanceof StoreError && e.code === 404)) throw e;
    });
  }
  state.experiments.delete(exp.uid);
  forgetNetworkTargets(exp.uid);
}

/** When the duration ends, the experiment recovers and stops (once, and not if it already stopped). */
function scheduleDurationEnd(state: ControllerState, exp: Experiment, duration: number): void {
  exp.timer = setTimeout(() => {
    enqueue(exp, async () => {
      const current = fresh(state, exp);
      if (!current || exp.desiredPhase === 'Stop') return;
      await recover(state, exp, current);
      exp.desiredPhase = 'Stop';
      await writeStatus(state, exp);
    });
  }, duration);
  exp.timer.unref();
}

/** The first pass over a running experiment: select targets once, arm the duration, inject unless paused. */
async function startExperiment(state: ControllerState, exp: Experiment, chaos: StoredObject): Promise<void> {
  const paused = isPaused(chaos);
  select(state, exp, chaos);
  const duration = durationMs(chaos);
  if (duration !== undefined) scheduleDurationEnd(state, exp, duration);
  if (!paused) await inject(state, exp, chaos);
  exp.paused = paused;
  await writeStatus(state, exp);
}

async function reconcile(state: ControllerState, exp: Experiment): Promise<void> {
  if (state.stopped) return;
  const chaos = fresh(state, exp);
  if (!chaos) {
    // Removed without our finalizer running (force): undo what is still injected, as far as possible.
    if (exp.timer) clearTimeout(exp.timer);
    state.experiments.delete(exp.uid);
    return;
  }
  if (chaos.metadata.deletionTimestamp) {
    await finishDeletion(state, exp, chaos);
    return;
  }
  const finalizers = chaos.metadata.finalizers ?? [];
  if (!finalizers.includes(FINALIZER)) {
    chaos.metadata.finalizers = [...finalizers, FINALIZER];
    await state.store.update(chaosKey(exp.kind), chaos);
    return; // the MODIFIED event brings us back
  }
  if (exp.records.length === 0 && exp.problems.length === 0 && exp.desiredPhase === 'Run') {
    await startExperiment(state, exp, chaos);
    return;
  }
  const paused = isPaused(chaos);
  if (paused !== exp.paused && exp.desiredPhase === 'Run') {
    exp.paused = paused;
    if (paused) await recover(state, exp, chaos);
    else await inject(state, exp, chaos);
    await writeStatus(state, exp);
  }
}

function newExperiment(kind: ChaosKind, object: StoredObject): Experiment {
  return {
    uid: object.metadata.uid,
    kind,
    namespace: object.metadata.namespace ?? 'default',
    name: object.metadata.name,
    targets: [],
    records: [],
    problems: [],
    desiredPhase: 'Run',
    paused: false,
    startTime: now(),
    timer: undefined,
    queue: Promise.resolve(),
  };
}

/** Queues a reconcile for the object's experiment, starting one for an object not seen before. */
function onChaosObject(
  state: ControllerState,
  kind: ChaosKind,
  object: StoredObject,
  deleted: boolean,
): void {
  let exp = state.experiments.get(object.metadata.uid);
  if (deleted && !exp) return;
  if (!exp) {
    exp = newExperiment(kind, object);
    state.experiments.set(exp.uid, exp);
  }
  const e = exp;
  enqueue(e, () => reconcile(state, e));
}

/** Lists the kind's objects, then watches from that list's resourceVersion so nothing falls between. */
function watchChaosKind(state: ControllerState, kind: ChaosKind): Watch {
  const key = chaosKey(kind);
  const existing = state.store.list(key);
  const watch = state.store.watch(key, { sinceResourceVersion: existing.resourceVersion }, (event) =>
    onChaosObject(state, kind, event.object, event.type === 'DELETED'),
  );
  for (const o of existing.items) onChaosObject(state, kind, o, false);
  return watch;
}

export function startChaosController(options: ChaosControllerOptions): ChaosController {
  const { store } = options;
  const events = createEventRecorder(store, { component: 'chaos-controller-manager' });
  const hooks = createHookFiles(store, options.workDir);
  const ctx: ActionContext = {
    store,
    workDir: options.workDir,
    hooks,
    events,
    runtime: () => connectRuntimeSocket(store),
    stressEntry: options.stressEntry,
    random: options.random ?? Math.random,
  };
  const state: ControllerState = { store, ctx, events, hooks, experiments: new Map(), stopped: false };
  const watches = CHAOS_KINDS.map((kind) => watchChaosKind(state, kind));
  // A deleted pod takes its sandbox (and hook files) with it.
  watches.push(
    store.watch(KEYS.pods, { sinceResourceVersion: store.currentResourceVersion() }, (event) => {
      if (event.type === 'DELETED') hooks.forget(event.object.metadata.uid);
    }),
  );
  const drain = () => Promise.all([...state.experiments.values()].map((e) => e.queue));
  return {
    hooks,
    async settle(): Promise<void> {
      await drain();
    },
    async stop(): Promise<void> {
      state.stopped = true;
      for (const w of watches) w.stop();
      for (const e of state.experiments.values()) if (e.timer) clearTimeout(e.timer);
      await drain();
      hooks.stop();
      await events.flush();
    },
  };
}
