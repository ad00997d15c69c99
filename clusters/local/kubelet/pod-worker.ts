// One pod on the node: its sandbox (loopback IP, directory), init containers in order (native sidecars keep
// running), then the app containers; status written back to the store; graceful termination.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EventRecorder } from '../controllers/events.js';
import type { Pod, PodStatus } from '../controllers/kube-types.js';
import { RESOURCES } from '../controllers/resources.js';
import type { ProgramBundler } from '../programs/bundler.js';
import type { ImageRegistry } from '../programs/registry.js';
import type { ObjectStore } from '../store/types.js';
import { ContainerRunner, type RestartPolicy, type RunnerHost } from './container-runner.js';
import { buildContainerEnv } from './env.js';
import { computePodStatus } from './pod-status.js';
import { parseQuantity } from './quantity.js';

export interface PodWorkerDeps {
  store: ObjectStore;
  events: EventRecorder;
  images: ImageRegistry;
  bundler: ProgramBundler;
  nodeName: string;
  hostIP: string;
  podsDir: string;
  backoffScale: number;
  logCapBytes: number;
  pulledImages: Set<string>;
  baseEnv(pod: Pod, podIP: string, container: string): Record<string, string>;
  hostLookup(name: string): string | undefined;
  execInContainer(
    worker: PodWorker,
    runner: ContainerRunner,
    command: string[],
    timeoutMs: number,
  ): Promise<{ exitCode: number | null; output: string; timedOut: boolean }>;
}

export class PodWorker {
  readonly init: ContainerRunner[];
  readonly regular: ContainerRunner[];
  readonly dir: string;
  readonly startTime = new Date().toISOString();
  private terminating = false;
  private syncQueued = false;
  private syncing: Promise<void> = Promise.resolve();
  private initIndex = 0;
  private regularStarted = false;
  private lastWritten = '';
  stopped: Promise<void> | undefined;

  constructor(
    public pod: Pod,
    readonly podIP: string,
    private readonly deps: PodWorkerDeps,
  ) {
    const meta = pod.metadata;
    this.dir = join(deps.podsDir, `${meta.namespace}_${meta.name}_${meta.uid.slice(0, 8)}`);
    const host = this.runnerHost();
    this.init = (pod.spec.initContainers ?? []).map(
      (c) => new ContainerRunner(c, c.restartPolicy === 'Always' ? 'sidecar' : 'init', host),
    );
    this.regular = pod.spec.containers.map((c) => new ContainerRunner(c, 'regular', host));
    for (const r of [...this.init, ...this.regular]) {
      r.memoryLimitBytes = parseQuantity(r.spec.resources?.limits?.memory);
      r.onChange(() => this.advance());
    }
    if (this.init.length > 0) {
      for (const r of this.regular) r.state = { waiting: { reason: 'PodInitializing' } };
      for (const r of this.init.slice(1)) r.state = { waiting: { reason: 'PodInitializing' } };
    }
  }

  get key(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  get description(): string {
    const m = this.pod.metadata;
    return `${m.name}_${m.namespace}(${m.uid})`;
  }

  private runnerHost(): RunnerHost {
    const worker = this;
    const deps = this.deps;
    return {
      get podIP() {
        return worker.podIP;
      },
      get podDescription() {
        return worker.description;
      },
      backoffScale: deps.backoffScale,
      logCapBytes: deps.logCapBytes,
      bundler: deps.bundler,
      pulledImages: deps.pulledImages,
      restartPolicy: () => (worker.pod.spec.restartPolicy ?? 'Always') as RestartPolicy,
      terminationGraceSeconds: () => worker.pod.spec.terminationGracePeriodSeconds ?? 30,
      isTerminating: () => worker.terminating,
      resolveImage: (image) => deps.images.resolve(image),
      hostLookup: (name) => deps.hostLookup(name),
      buildEnv: (container) =>
        buildContainerEnv({
          store: deps.store,
          pod: worker.pod,
          container,
          podIP: worker.podIP,
          nodeName: deps.nodeName,
          hostIP: deps.hostIP,
          base: deps.baseEnv(worker.pod, worker.podIP, container.name),
        }),
      containerDir: (name) => join(worker.dir, name),
      record: function (this: void, type, reason, message) {
        worker.deps.events.record(worker.pod, type, reason, message, {
          source: { component: 'kubelet', host: deps.nodeName },
        });
      },
      changed: () => this.scheduleSync(),
      execInContainer: (runner, command, timeoutMs) =>
        deps.execInContainer(worker, runner, command, timeoutMs),
    };
  }

  /** Starts the sandbox: the first status (IP, conditions), then the first init container or the app. */
  start(): void {
    this.scheduleSync();
    this.advance();
  }

  /** Moves through init containers in order; app containers start once every init finished (sidecars started). */
  private advance(): void {
    if (this.terminating) return;
    while (this.initIndex < this.init.length) {
      const current = this.init[this.initIndex] as ContainerRunner;
      if (!this.startedRunners.has(current)) {
        this.startedRunners.add(current);
        current.state = { waiting: { reason: 'ContainerCreating' } };
        current.start();
        return;
      }
      const done =
        current.kind === 'sidecar'
          ? current.started
          : current.finished && current.state.terminated?.exitCode === 0;
      if (!done) return;
      this.initIndex++;
    }
    if (!this.regularStarted) {
      this.regularStarted = true;
      for (const r of this.regular) {
        r.state = { waiting: { reason: 'ContainerCreating' } };
        r.start();
      }
    }
  }

  private readonly startedRunners = new Set<ContainerRunner>();

  scheduleSync(): void {
    if (this.syncQueued) return;
    this.syncQueued = true;
    setImmediate(() => {
      this.syncQueued = false;
      this.syncing = this.syncing.then(() => this.writeStatus()).catch(() => undefined);
    });
  }

  buildStatus(): PodStatus {
    const view = (r: ContainerRunner) => ({ status: r.status(), kind: r.kind, finished: r.finished });
    return computePodStatus({
      spec: this.pod.spec,
      previous: this.pod.status,
      podIP: this.podIP,
      hostIP: this.deps.hostIP,
      startTime: this.startTime,
      init: this.init.map(view),
      regular: this.regular.map(view),
      now: new Date().toISOString(),
    });
  }

  private async writeStatus(): Promise<void> {
    const current = this.deps.store.get(
      RESOURCES.pods,
      this.pod.metadata.namespace,
      this.pod.metadata.name,
    ) as Pod | undefined;
    if (!current || current.metadata.uid !== this.pod.metadata.uid) return;
    this.pod = current;
    const status = this.buildStatus();
    const text = JSON.stringify(status);
    if (text === this.lastWritten) return;
    this.lastWritten = text;
    const updated = (await this.deps.store.updateStatus(RESOURCES.pods, { ...current, status })) as Pod;
    this.pod = updated;
  }

  /** A new version of the pod: container image changes restart those containers (the only mutable field). */
  applySpec(pod: Pod): void {
    this.pod = pod;
    if (this.terminating) return;
    const specs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
    for (const runner of this.runners()) {
      const image = specs.find((c) => c.name === runner.name)?.image;
      if (image !== undefined && image !== runner.image) runner.changeImage(image);
    }
  }

  /** Every runner, init first (for lookups by container name). */
  runners(): ContainerRunner[] {
    return [...this.init, ...this.regular];
  }

  runner(name: string): ContainerRunner | undefined {
    return this.runners().find((r) => r.name === name);
  }

  /** Stops every container: app containers first, then sidecars in reverse order (native sidecar rules). */
  terminate(graceSeconds: number): Promise<void> {
    this.stopped ??= (async () => {
      this.terminating = true;
      const deadline = Date.now() + graceSeconds * 1000;
      await Promise.all(
        [...this.regular, ...this.init.filter((r) => r.kind === 'init')].map((r) => r.stop(graceSeconds)),
      );
      for (const r of [...this.init].filter((x) => x.kind === 'sidecar').reverse()) {
        await r.stop(Math.max(2, (deadline - Date.now()) / 1000));
      }
      await this.syncing;
    })();
    return this.stopped;
  }

  removeSandbox(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  pids(): number[] {
    return this.runners().flatMap((r) => {
      const pid = r.pid();
      return pid === undefined ? [] : [pid];
    });
  }
}
