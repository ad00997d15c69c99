// The chaos controller-manager: watches every chaos-mesh.org/v1alpha1 kind, adds the `chaos-mesh/records`
// finalizer, selects pods once, injects each record, recovers when the duration ends, the object is paused or
// deleted (then drops the finalizer), and writes status like the real controller after every step.

import { createEventRecorder } from '../controllers/events.js';
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
  const experiments = new Map<string, Experiment>();
  let stopped = false;

  const now = () => new Date().toISOString();

  const writeStatus = async (exp: Experiment): Promise<void> => {
    const key = chaosKey(exp.kind);
    const current = store.get(key, exp.namespace, exp.name);
    if (!current || current.metadata.uid !== exp.uid) return;
    const status = buildChaosStatus({
      records: exp.records,
      desiredPhase: exp.desiredPhase,
      paused: exp.paused,
      selectProblems: exp.problems,
      startTime: exp.startTime,
    });
    await store.updateStatus(key, { ...current, status }).catch(() => undefined);
  };

  const inject = async (exp: Experiment, chaos: StoredObject): Promise<void> => {
    const handler = HANDLERS[exp.kind];
    for (const [i, target] of exp.targets.entries()) {
      const record = exp.records[i];
      if (!record || record.phase === 'Injected') continue;
      try {
        const result = await handler.inject(chaos, target, ctx);
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
          events.record(chaos, 'Warning', 'Failed', `Failed to apply chaos: ${target.id}: ${result.message}`);
        }
      } catch (error) {
        const message = (error as Error).message;
        record.events.push({ type: 'Failed', operation: 'Apply', timestamp: now(), message });
        events.record(chaos, 'Warning', 'Failed', `Failed to apply chaos: ${target.id}: ${message}`);
      }
    }
    if (exp.records.some((r) => r.phase === 'Injected')) {
      events.record(
        chaos,
        'Normal',
        'Applied',
        `Successfully apply chaos for ${exp.records
          .filter((r) => r.phase === 'Injected')
          .map((r) => r.id)
          .join(', ')}`,
      );
    }
  };

  const recover = async (exp: Experiment, chaos: StoredObject): Promise<void> => {
    const handler = HANDLERS[exp.kind];
    for (const [i, target] of exp.targets.entries()) {
      const record = exp.records[i];
      if (record?.phase !== 'Injected') continue;
      try {
        await handler.recover(chaos, target, ctx);
        record.phase = 'NotInjected';
        record.recoveredCount++;
        record.events.push({ type: 'Succeeded', operation: 'Recover', timestamp: now() });
      } catch (error) {
        const message = (error as Error).message;
        record.events.push({ type: 'Failed', operation: 'Recover', timestamp: now(), message });
        events.record(chaos, 'Warning', 'Failed', `Failed to recover chaos: ${target.id}: ${message}`);
      }
    }
    events.record(chaos, 'Normal', 'Recovered', 'Successfully recover chaos');
  };

  const select = (exp: Experiment, chaos: StoredObject): void => {
    const sel = readPodSelectorSpec(chaos.spec, exp.namespace);
    const candidates = filterPods(store.list(KEYS.pods).items as Pod[], sel.selector);
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
  };

  const fresh = (exp: Experiment): StoredObject | undefined => {
    const o = store.get(chaosKey(exp.kind), exp.namespace, exp.name);
    return o && o.metadata.uid === exp.uid ? o : undefined;
  };

  const enqueue = (exp: Experiment, step: () => Promise<void>): void => {
    exp.queue = exp.queue.then(step).catch(() => undefined);
  };

  const reconcile = async (kind: ChaosKind, exp: Experiment): Promise<void> => {
    if (stopped) return;
    const chaos = fresh(exp);
    if (!chaos) {
      // Removed without our finalizer running (force): undo what is still injected, as far as possible.
      if (exp.timer) clearTimeout(exp.timer);
      experiments.delete(exp.uid);
      return;
    }
    const finalizers = chaos.metadata.finalizers ?? [];
    if (chaos.metadata.deletionTimestamp) {
      if (exp.timer) clearTimeout(exp.timer);
      await recover(exp, chaos);
      exp.desiredPhase = 'Stop';
      await writeStatus(exp);
      const latest = fresh(exp);
      if (latest) {
        latest.metadata.finalizers = (latest.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
        await store.update(chaosKey(kind), latest).catch((e: unknown) => {
          if (!(e instanceof StoreError && e.code === 404)) throw e;
        });
      }
      experiments.delete(exp.uid);
      forgetNetworkTargets(exp.uid);
      return;
    }
    if (!finalizers.includes(FINALIZER)) {
      chaos.metadata.finalizers = [...finalizers, FINALIZER];
      await store.update(chaosKey(kind), chaos);
      return; // the MODIFIED event brings us back
    }
    const paused = isPaused(chaos);
    if (exp.records.length === 0 && exp.problems.length === 0 && exp.desiredPhase === 'Run') {
      select(exp, chaos);
      const duration = durationMs(chaos);
      if (duration !== undefined) {
        exp.timer = setTimeout(() => {
          enqueue(exp, async () => {
            const current = fresh(exp);
            if (!current || exp.desiredPhase === 'Stop') return;
            await recover(exp, current);
            exp.desiredPhase = 'Stop';
            await writeStatus(exp);
          });
        }, duration);
        exp.timer.unref();
      }
      if (!paused) await inject(exp, chaos);
      exp.paused = paused;
      await writeStatus(exp);
      return;
    }
    if (paused !== exp.paused && exp.desiredPhase === 'Run') {
      exp.paused = paused;
      if (paused) await recover(exp, chaos);
      else await inject(exp, chaos);
      await writeStatus(exp);
    }
  };

  const watches: Watch[] = [];
  for (const kind of CHAOS_KINDS) {
    const key = chaosKey(kind);
    const onObject = (object: StoredObject, deleted: boolean): void => {
      let exp = experiments.get(object.metadata.uid);
      if (deleted && !exp) return;
      if (!exp) {
        exp = {
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
        experiments.set(exp.uid, exp);
      }
      const e = exp;
      enqueue(e, () => reconcile(kind, e));
    };
    const existing = store.list(key);
    watches.push(
      store.watch(key, { sinceResourceVersion: existing.resourceVersion }, (event) =>
        onObject(event.object, event.type === 'DELETED'),
      ),
    );
    for (const o of existing.items) onObject(o, false);
  }
  // A deleted pod takes its sandbox (and hook files) with it.
  watches.push(
    store.watch(KEYS.pods, { sinceResourceVersion: store.currentResourceVersion() }, (event) => {
      if (event.type === 'DELETED') hooks.forget(event.object.metadata.uid);
    }),
  );

  return {
    hooks,
    async settle(): Promise<void> {
      await Promise.all([...experiments.values()].map((e) => e.queue));
    },
    async stop(): Promise<void> {
      stopped = true;
      for (const w of watches) w.stop();
      for (const e of experiments.values()) if (e.timer) clearTimeout(e.timer);
      await Promise.all([...experiments.values()].map((e) => e.queue));
      hooks.stop();
      await events.flush();
    },
  };
}
