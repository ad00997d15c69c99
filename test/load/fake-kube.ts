// An in-memory KubeClient for the in-cluster k6 driver: applying a Job (or a TestRun, when the k6-operator CRD is
// "installed") creates k6 pods that go Pending → Running, whose log replays a recorded k6 NDJSON output over real
// time, and which then exit with a chosen code. Deleted pods linger for a moment, as terminating pods do.

import type { KubeClient, ListQuery, ObjectKey } from '../../harness/kube/client.js';
import type { KubeObject } from '../../harness/model/kube-object.js';

export interface FakeK6PodScript {
  /** The log the pod writes over its run (the k6 NDJSON, plus any other lines). */
  log: string;
  /** Pending for this long before Running. */
  startDelayMs: number;
  /** The log is revealed evenly over this long. */
  replayMs: number;
  /** k6's exit code at the end (99: thresholds crossed). */
  exitCode: number;
  /** When set, the pod stays Pending with this container waiting reason (ErrImagePull…). */
  waitingReason?: string;
}

interface FakePod {
  object: KubeObject;
  startedAt: number | undefined;
  timers: NodeJS.Timeout[];
}

const keyString = (k: { kind: string; namespace?: string; name?: string }): string =>
  `${k.kind}/${k.namespace ?? ''}/${k.name ?? ''}`;

function matches(labels: Record<string, string>, selector: string | undefined): boolean {
  if (selector === undefined || selector === '') return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return k !== undefined && (v === undefined ? k in labels : labels[k] === v);
  });
}

export class FakeK6Cluster {
  readonly objects = new Map<string, KubeObject>();
  /** Every call, in order, as "verb Kind/ns/name". */
  readonly calls: string[] = [];
  /** Everything ever applied (copies), in order. */
  readonly applied: KubeObject[] = [];
  /** Whether the k6-operator CRD is installed. */
  operatorInstalled = false;
  /** Reading CRDs is forbidden (the driver must then rely on the apply's answer). */
  crdReadForbidden = false;
  /** How long a deleted pod takes to go (terminating). */
  podTerminationMs = 40;
  podLogReads = 0;
  private readonly pods = new Map<string, FakePod>();
  private podSerial = 0;

  constructor(private readonly script: FakeK6PodScript) {}

  /** Objects still present (pods included). */
  live(): string[] {
    return [...this.objects.keys()].sort();
  }

  /** Stops every pending timer (test teardown). */
  dispose(): void {
    for (const pod of this.pods.values()) for (const t of pod.timers) clearTimeout(t);
  }

  private createPod(name: string, namespace: string, labels: Record<string, string>): void {
    const object: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels },
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'k6',
            state: {
              waiting: { reason: this.script.waitingReason ?? 'ContainerCreating', message: 'fake' },
            },
          },
        ],
      },
    };
    const pod: FakePod = { object, startedAt: undefined, timers: [] };
    this.pods.set(keyString({ kind: 'Pod', namespace, name }), pod);
    this.objects.set(keyString({ kind: 'Pod', namespace, name }), object);
    if (this.script.waitingReason !== undefined) return;
    pod.timers.push(
      setTimeout(() => {
        pod.startedAt = Date.now();
        object.status = {
          phase: 'Running',
          containerStatuses: [{ name: 'k6', state: { running: { startedAt: new Date().toISOString() } } }],
        };
        pod.timers.push(
          setTimeout(() => {
            object.status = {
              phase: this.script.exitCode === 0 ? 'Succeeded' : 'Failed',
              containerStatuses: [
                {
                  name: 'k6',
                  state: { terminated: { exitCode: this.script.exitCode, reason: 'Completed' } },
                },
              ],
            };
          }, this.script.replayMs),
        );
      }, this.script.startDelayMs),
    );
  }

  private onApply(object: KubeObject): void {
    const namespace = object.metadata.namespace ?? 'default';
    const name = object.metadata.name ?? '';
    if (object.kind === 'Job') {
      const template = (object.spec as { template?: { metadata?: { labels?: Record<string, string> } } })
        .template;
      this.createPod(`${name}-${++this.podSerial}x`, namespace, {
        ...(template?.metadata?.labels ?? {}),
        'job-name': name,
      });
    }
    if (object.kind === 'TestRun') {
      const spec = object.spec as {
        parallelism?: number;
        runner?: { metadata?: { labels?: Record<string, string> } };
      };
      const base = { app: 'k6', k6_cr: name };
      // The operator's initializer Job and pod: not a runner, but cleanup must find it too.
      this.objects.set(keyString({ kind: 'Job', namespace, name: `${name}-initializer` }), {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: `${name}-initializer`, namespace, labels: base },
      });
      this.objects.set(keyString({ kind: 'Pod', namespace, name: `${name}-initializer-abc` }), {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${name}-initializer-abc`, namespace, labels: base },
        status: { phase: 'Succeeded' },
      });
      for (let i = 1; i <= (spec.parallelism ?? 1); i++) {
        const labels = { ...(spec.runner?.metadata?.labels ?? {}), ...base, runner: 'true' };
        this.objects.set(keyString({ kind: 'Job', namespace, name: `${name}-${i}` }), {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: `${name}-${i}`, namespace, labels },
        });
        this.createPod(`${name}-${i}-${++this.podSerial}x`, namespace, {
          ...labels,
          'job-name': `${name}-${i}`,
        });
      }
    }
  }

  client(): KubeClient {
    return {
      apply: async (object) => {
        this.calls.push(`apply ${keyString({ ...object.metadata, kind: object.kind })}`);
        if (object.kind === 'TestRun' && !this.operatorInstalled) {
          throw new Error(
            `applying TestRun ${object.metadata.namespace}/${object.metadata.name}: the API server answered 404: the server could not find the requested resource`,
          );
        }
        const stored = structuredClone(object);
        this.applied.push(structuredClone(object));
        this.objects.set(keyString({ ...object.metadata, kind: object.kind }), stored);
        this.onApply(stored);
        return stored;
      },
      get: async (key: ObjectKey) => {
        if (key.kind === 'CustomResourceDefinition') {
          if (this.crdReadForbidden) throw new Error('the API server answered 403: forbidden');
          return this.operatorInstalled && key.name === 'testruns.k6.io'
            ? { apiVersion: key.apiVersion, kind: key.kind, metadata: { name: key.name } }
            : undefined;
        }
        const found = this.objects.get(keyString(key));
        return found === undefined ? undefined : structuredClone(found);
      },
      list: async (_apiVersion, kind, query: ListQuery = {}) =>
        [...this.objects.values()]
          .filter(
            (o) =>
              o.kind === kind &&
              (query.namespace === undefined || o.metadata.namespace === query.namespace) &&
              matches(o.metadata.labels ?? {}, query.labelSelector),
          )
          .map((o) => structuredClone(o)),
      delete: async (key) => {
        this.calls.push(`delete ${keyString(key)}`);
        const k = keyString(key);
        if (!this.objects.has(k)) return false;
        const pod = this.pods.get(k);
        if (pod === undefined) {
          this.objects.delete(k);
          return true;
        }
        // A pod terminates for a moment before it is gone; its replay stops now.
        for (const t of pod.timers) clearTimeout(t);
        pod.timers = [
          setTimeout(() => {
            this.objects.delete(k);
            this.pods.delete(k);
          }, this.podTerminationMs),
        ];
        return true;
      },
      patch: async () => {
        throw new Error('the fake k6 cluster does not patch');
      },
      replace: async () => {
        throw new Error('the fake k6 cluster does not replace');
      },
      podLog: async (namespace, name, container) => {
        this.podLogReads += 1;
        const pod = this.pods.get(keyString({ kind: 'Pod', namespace, name }));
        if (pod === undefined) throw new Error(`the API server answered 404: pods "${name}" not found`);
        if (container !== 'k6') throw new Error(`the API server answered 400: no container ${container}`);
        if (pod.startedAt === undefined) {
          throw new Error(`the API server answered 400: container "k6" in pod "${name}" is waiting to start`);
        }
        const fraction = Math.min(1, (Date.now() - pod.startedAt) / this.script.replayMs);
        return this.script.log.slice(0, Math.floor(this.script.log.length * fraction));
      },
      serverVersion: async () => 'v1.32.0-fake',
    };
  }
}
