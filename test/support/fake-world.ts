// An in-process test double of a cluster for engine tests: a KubeClient over a map, a Prometheus that reports the
// world's health, a load driver that emits one real-time sample per second, and a Target. The "world" is broken
// while a PodChaos object exists; a runbook "fixes" it by deleting that object — so verdicts come from the same
// mechanism as on a real cluster (the fault's presence), not from the test saying so. The runbook port runs
// the steps it is handed, as the real one does: the steps the scenario carries (bound when it was loaded).

import type { Target, TargetEnvironment } from '../../clusters/target.js';
import type { EngineContext, RunbookPort, RunbookStepResult } from '../../harness/engine/index.js';
import type { KubeClient, ObjectKey } from '../../harness/kube/index.js';
import type {
  KubeObject,
  LoadDriver,
  LoadSample,
  ResolvedScenario,
  RunbookRef,
} from '../../harness/model/index.js';
import type { PrometheusClient } from '../../harness/signals/index.js';
import { runSuite } from '../../harness/engine/index.js';
import { createJournal, type Journal } from '../../harness/journal/index.js';
import { summarizeSamples } from '../../harness/load/index.js';
import { createHistogram, encodeHistogram } from '../../harness/slo/histogram.js';

const keyString = (k: { kind: string; namespace?: string; name?: string }): string =>
  `${k.kind}/${k.namespace ?? ''}/${k.name ?? ''}`;

export class FakeWorld {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: string[] = [];
  /** Make deletes of this kind fail (to exercise a failing cleanup). */
  failDeletesOf: string | undefined;
  /** Keep namespaces forever (cleanup that never completes). */
  stuckNamespaces = false;
  /** The body of every runbook step the runbook port ran, in order. */
  readonly ran: string[] = [];
  /**
   * How each second of load looks, given its index since the load started and whether the world is broken:
   * the requests' latency, the status of failures (503, or timeouts as a starved machine gives), and the
   * instrument's control-path latency. Set, samples carry `instrument`; unset, 10 ms and no instrument.
   */
  loadShape:
    | ((second: number, broken: boolean) => { latencyMs: number; failWith?: 'timeout'; controlMs: number })
    | undefined;
  /** How long after start() the first request goes out (a driver that starts pods in the cluster first). */
  loadStartDelayMs = 0;

  get broken(): boolean {
    return [...this.objects.values()].some((o) => o.kind === 'PodChaos');
  }

  kube(): KubeClient {
    return {
      apply: async (object) => {
        this.calls.push(`apply ${keyString({ ...object.metadata, kind: object.kind })}`);
        const stored = structuredClone(object);
        if (object.kind === 'Deployment') {
          const replicas = (object.spec as { replicas?: number } | undefined)?.replicas ?? 1;
          stored.status = { readyReplicas: replicas, replicas };
        }
        this.objects.set(keyString({ ...object.metadata, kind: object.kind }), stored);
        return stored;
      },
      replace: async (object) => {
        this.calls.push(`replace ${keyString({ ...object.metadata, kind: object.kind })}`);
        this.objects.set(keyString({ ...object.metadata, kind: object.kind }), structuredClone(object));
        return object;
      },
      get: async (key: ObjectKey) => this.objects.get(keyString(key)),
      list: async (_apiVersion, kind, query = {}) =>
        [...this.objects.values()].filter((o) => {
          if (o.kind !== kind) return false;
          if (query.namespace && o.metadata.namespace !== query.namespace) return false;
          if (query.labelSelector) {
            const [k, v] = query.labelSelector.split('=');
            const labels = o.metadata.labels ?? {};
            if (!(k && k in labels) || (v !== undefined && labels[k] !== v)) return false;
          }
          return true;
        }),
      delete: async (key) => {
        this.calls.push(`delete ${keyString(key)}`);
        if (key.kind === this.failDeletesOf) throw new Error(`the API server refused to delete ${key.kind}`);
        if (key.kind === 'Namespace' && this.stuckNamespaces) return true;
        const existed = this.objects.delete(keyString(key));
        if (key.kind === 'Namespace') {
          // Objects whose deletion fails stay behind, as a stuck finalizer leaves them on a real cluster.
          for (const [k, o] of this.objects) {
            if (o.metadata.namespace === key.name && o.kind !== this.failDeletesOf) this.objects.delete(k);
          }
        }
        return existed;
      },
      patch: async (key, patch) => {
        const current = this.objects.get(keyString(key));
        if (!current) throw new Error('not found');
        const merged = { ...current, ...patch, metadata: current.metadata } as KubeObject;
        this.objects.set(keyString(key), merged);
        return merged;
      },
      podLog: async () => '',
      serverVersion: async () => 'v1.32.0-fake',
    };
  }

  prometheus(): PrometheusClient {
    return {
      url: 'http://127.0.0.1:1',
      query: async () => (this.broken ? [{ metric: { __name__: 'fake_errors' }, value: 1 }] : []),
      firingAlerts: async () =>
        this.broken ? [{ name: 'FakeOutage', labels: { alertname: 'FakeOutage', namespace: 'fake' } }] : [],
      ruleTiming: async () => ({ scrapeIntervalMs: 1000, evaluationIntervalMs: 1000 }),
    };
  }

  /** One sample per real second; 100 % success while healthy, 0 % while broken. */
  loadDriver(rate = 20): LoadDriver {
    return {
      name: 'fake',
      start: async (_profile, _baseUrl, onSample) => {
        const summary = () => summarizeSamples([], 0, 0);
        let bucket = Math.floor((Date.now() + this.loadStartDelayMs) / 1000) * 1000;
        let second = 0;
        let timer: NodeJS.Timeout | undefined;
        const begin = setTimeout(() => {
          timer = setInterval(emit, 1000);
        }, this.loadStartDelayMs);
        const emit = (): void => {
          const shape = this.loadShape?.(second, this.broken);
          second += 1;
          const latencyMs = shape?.latencyMs ?? 10;
          const histogram = createHistogram();
          for (let i = 0; i < rate; i++) histogram.record(latencyMs);
          const ok = this.broken && shape === undefined ? 0 : rate;
          const timeouts = shape?.failWith === 'timeout' ? rate : 0;
          const sample: LoadSample = {
            t: bucket,
            scheduled: rate,
            completed: rate,
            succeeded: ok - timeouts,
            dropped: 0,
            byStatus: timeouts > 0 ? {} : { '200': ok, ...(ok < rate ? { '503': rate - ok } : {}) },
            byFlag: {},
            byError: timeouts > 0 ? { timeout: timeouts } : {},
            histogram: encodeHistogram(histogram),
            p50: latencyMs,
            p95: latencyMs,
            p99: latencyMs,
            ...(shape === undefined
              ? {}
              : {
                  instrument: {
                    sendLagMaxMs: 0,
                    lateSends: 0,
                    loopDelayMaxMs: 0,
                    control: Array.from({ length: 10 }, () => shape.controlMs),
                  },
                }),
          };
          bucket += 1000;
          onSample(sample);
        };
        const stop = async () => {
          clearTimeout(begin);
          clearInterval(timer);
          return summary();
        };
        return { done: new Promise(() => undefined), stop };
      },
    };
  }

  /**
   * A runbook port that "runs" the steps it is handed: a step whose body says `delete podchaos` deletes the
   * PodChaos objects, any other does nothing.
   */
  runbooks(): RunbookPort {
    const world = this;
    return {
      async run(steps, options) {
        const results: RunbookStepResult[] = [];
        for (const step of steps) {
          const startedAt = Date.now();
          options.onStepStart(step.index, { title: step.title, kind: step.kind, command: step.body });
          world.ran.push(step.body);
          if (FIXES.test(step.body)) {
            for (const [k, o] of world.objects) if (o.kind === 'PodChaos') world.objects.delete(k);
          }
          const result: RunbookStepResult = {
            index: step.index,
            title: step.title,
            kind: step.kind,
            command: step.body,
            startedAt,
            durationMs: Date.now() - startedAt,
            exitCode: 0,
            timedOut: false,
            output: '',
          };
          options.onStepEnd(result);
          results.push(result);
        }
        return results;
      },
    };
  }

  target(): Target & { provisioned: number; tornDown: number } {
    const target = {
      name: 'fake',
      provisioned: 0,
      tornDown: 0,
      provision: async (): Promise<TargetEnvironment> => {
        target.provisioned++;
        return {
          kubeconfigPath: '/dev/null',
          prometheusUrl: 'http://127.0.0.1:1',
          ingressUrl: 'http://127.0.0.1:1',
          versions: { kubernetes: 'v1.32.0-fake', istio: 'fake' },
          timings: { boot: 1 },
          binDirs: [],
          prometheus: { scrapeIntervalMs: 1000, evaluationIntervalMs: 1000 },
          faultsAllowed: true,
        };
      },
      teardown: async () => {
        target.tornDown++;
      },
    };
    return target;
  }

  connect(): Omit<EngineContext, 'runId' | 'journal' | 'interrupt'> {
    return {
      kube: this.kube(),
      prometheus: this.prometheus(),
      ingressUrl: 'http://127.0.0.1:1',
      loadDriver: () => this.loadDriver(),
      runbooks: this.runbooks(),
      runCommand: async (script) => ({
        command: script,
        exitCode: 0,
        signal: null,
        stdout: '',
        stderr: '',
        durationMs: 0,
        timedOut: false,
      }),
      tuning: { deployPollMs: 50, recoverPollMs: 200, namespaceDeleteTimeoutMs: 1000, skipRouteWait: true },
    };
  }
}

/** What a fake runbook step must say to fix the fake world. */
const FIXES = /\bdelete podchaos\b/i;

/**
 * A runbook as the loader resolves it, for the fake world: one step, bound. A runbook whose file is `…fix.md`
 * deletes the PodChaos objects (the fix); any other does nothing.
 */
export function fakeRunbook(path: string, variables: Record<string, string> = {}): RunbookRef {
  const body = path.endsWith('fix.md') ? 'kubectl delete podchaos --all' : 'true';
  return {
    path,
    variables,
    steps: [{ index: 0, title: 'fix', kind: 'command', body, file: path, line: 1, placeholders: [] }],
  };
}

/** A small, fast scenario for the fake world: 2 s steady state, a PodChaos fault, 2 s verification. */
export function fakeScenario(overrides: Partial<ResolvedScenario> = {}): ResolvedScenario {
  const minute = 60_000;
  return {
    name: 'fake-outage',
    title: 'A fake outage',
    description: '',
    file: '/scenarios/fake.yaml',
    timeScale: 1,
    isolation: 'cluster',
    namespace: 'md-fake',
    workload: {
      manifests: [
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1 } },
      ],
      injection: true,
      readyTimeoutMs: 5000,
    },
    load: {
      driver: 'builtin',
      executor: 'constant-arrival-rate',
      rate: 20,
      stages: [],
      maxDurationMs: 5 * minute,
      maxInFlight: 10,
      requestTimeoutMs: 1000,
      maxRequests: 100_000,
      requests: [{ method: 'GET', path: '/', headers: {}, weight: 1 }],
    },
    slos: [{ source: 'success_rate >= 99%', metric: 'success_rate', op: '>=', value: 0.99 }],
    duringFault: { slos: 'ignore' },
    steadyState: { durationMs: 2000 },
    fault: {
      kind: 'chaos-mesh',
      manifest: {
        apiVersion: 'chaos-mesh.org/v1alpha1',
        kind: 'PodChaos',
        metadata: { name: 'kill-web' },
        spec: {},
      },
    },
    efficacy: [
      { name: 'chaos-object-exists', kind: 'promql', query: 'fake_errors', withinMs: 3000, pollMs: 200 },
    ],
    signals: [
      { name: 'errors-visible', kind: 'promql', query: 'fake_errors > 0', withinMs: 3000, pollMs: 200 },
    ],
    variants: [{ name: 'main', runbook: fakeRunbook('/runbooks/fix.md'), expect: 'recovery' }],
    recovery: { budgetMs: 4000, verifyMs: 2000, conditions: [] },
    alertRules: [],
    alertRuleSet: { rules: [], problems: [] },
    timeouts: {
      provision: minute,
      deploy: 10_000,
      load: 10_000,
      'steady-state': 10_000,
      inject: 10_000,
      efficacy: 10_000,
      detect: 10_000,
      remediate: 10_000,
      recover: 15_000,
      cleanup: 10_000,
    },
    ...overrides,
  };
}

/** Runs the scenarios as one suite on the world's target: one iteration, no rule files, no interrupt. */
export async function runOnWorld(
  world: FakeWorld,
  scenarios: ResolvedScenario[],
  // A test that needs a target with another environment (e.g. an Alertmanager) passes its own, built on world.target().
  target: Target = world.target(),
): Promise<{ result: Awaited<ReturnType<typeof runSuite>>; journal: Journal }> {
  const journal = createJournal();
  const result = await runSuite({
    runId: 'test-run',
    journal,
    target,
    scenarios,
    repeat: 1,
    workDir: '/tmp',
    ruleFiles: [],
    settings: {},
    interrupt: new AbortController().signal,
    cleanupTimeoutMs: 1000,
    connect: () => world.connect(),
  });
  return { result, journal };
}
