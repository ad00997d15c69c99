// One container of a pod as the kubelet runs it: image "pull", process start in its own group, probes,
// exit → terminated state, restarts with CrashLoopBackOff back-off, OOM kills, graceful stop, logs.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import {
  type ProcessExit,
  type ProcessGroup,
  signalTree,
  startProcessGroup,
} from '../../../harness/exec/index.js';
import type { Container, ContainerState, ContainerStatus, Probe } from '../controllers/kube-types.js';
import type { ProgramBundler } from '../programs/bundler.js';
import { type ResolvedImage, resolveContainerCommand } from '../programs/registry.js';
import { CPU_MAX_ENV, cpuMaxOf } from './cpu-quota.js';
import { expandReferences } from './env.js';
import { LogBuffer } from './log-buffer.js';
import { type ProbeContext, runProbe } from './probes.js';

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};
const MAX_BACKOFF_S = 300;
const INITIAL_BACKOFF_S = 10;

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** What a probe loop does with one result (counts since the last change of outcome); false ends the loop. */
type ProbeHandler = (ok: boolean, failures: number, successes: number) => boolean;

export interface RunnerHost {
  readonly podIP: string;
  readonly podDescription: string;
  readonly backoffScale: number;
  readonly logCapBytes: number;
  readonly bundler: ProgramBundler;
  readonly pulledImages: Set<string>;
  restartPolicy(): RestartPolicy;
  terminationGraceSeconds(): number;
  isTerminating(): boolean;
  resolveImage(image: string): ResolvedImage | undefined;
  hostLookup(name: string): string | undefined;
  /** Throws ContainerConfigError for a missing ConfigMap/Secret key. */
  buildEnv(container: Container): Record<string, string>;
  containerDir(name: string): string;
  record(type: 'Normal' | 'Warning', reason: string, message: string): void;
  changed(): void;
  execInContainer(
    runner: ContainerRunner,
    command: string[],
    timeoutMs: number,
  ): Promise<{ exitCode: number | null; output: string; timedOut: boolean }>;
}

interface Instance {
  group: ProcessGroup;
  pid: number;
  startedAt: string;
  containerID: string;
  log: LogBuffer;
  oomKilled: boolean;
  exited: Promise<void>;
}

export class ContainerRunner {
  state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState: ContainerState = {};
  restartCount = 0;
  ready = false;
  started = false;
  /** The container will not run again (completed init container, or a restart policy said no). */
  finished = false;
  imageID = '';
  image: string;
  instance: Instance | undefined;
  previousLog: LogBuffer | undefined;
  currentLog: LogBuffer;
  env: Record<string, string> = {};
  private backoffS = 0;
  private pullBackoffS = 0;
  private timers = new Set<NodeJS.Timeout>();
  private probeTimers = new Set<NodeJS.Timeout>();
  private stopping = false;
  private everRan = false;
  private listeners = new Set<() => void>();
  /** Processes started inside this container by the runtime (chaos stressors): counted in its RSS, die with it. */
  private attached = new Set<number>();

  constructor(
    readonly spec: Container,
    readonly kind: 'init' | 'sidecar' | 'regular',
    private readonly host: RunnerHost,
  ) {
    this.image = spec.image;
    this.currentLog = new LogBuffer(host.logCapBytes);
  }

  get name(): string {
    return this.spec.name;
  }

  get fieldPath(): string {
    return `spec.${this.kind === 'regular' ? 'containers' : 'initContainers'}{${this.spec.name}}`;
  }

  /** Called on every state change (the pod worker re-evaluates init progress and status). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    this.host.changed();
    for (const l of [...this.listeners]) l();
  }

  private later(ms: number, fn: () => void, probe = false): void {
    const set = probe ? this.probeTimers : this.timers;
    const t = setTimeout(() => {
      set.delete(t);
      fn();
    }, ms);
    set.add(t);
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.host.record(type, reason, message);
  }

  status(): ContainerStatus {
    const ref = this.host.resolveImage(this.image)?.reference;
    return {
      name: this.spec.name,
      state: this.state,
      lastState: this.lastState,
      ready: this.ready,
      restartCount: this.restartCount,
      image: ref?.normalized ?? this.image,
      imageID: this.imageID,
      ...(this.instance || this.state.terminated
        ? { containerID: this.instance?.containerID ?? this.state.terminated?.containerID ?? '' }
        : {}),
      started: this.started,
    };
  }

  /** Memory limit in bytes from resources.limits.memory (undefined: unlimited). */
  memoryLimitBytes: number | undefined;

  start(): void {
    if (this.stopping) return;
    this.pull();
  }

  private pull(): void {
    if (this.stopping) return;
    const resolved = this.host.resolveImage(this.image);
    const policy =
      this.spec.imagePullPolicy ??
      (this.image.includes(':') && !this.image.endsWith(':latest') ? 'IfNotPresent' : 'Always');
    if (!resolved) {
      const normalized = this.image.includes('/') || this.image.includes(':') ? this.image : this.image;
      const ref = `docker.io/${normalized.includes('/') ? normalized : `library/${normalized}`}${normalized.includes(':') ? '' : ':latest'}`;
      const message = `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
      this.event('Normal', 'Pulling', `Pulling image "${this.image}"`);
      this.event(
        'Warning',
        'Failed',
        `Failed to pull image "${this.image}": rpc error: code = NotFound desc = ${message}`,
      );
      this.event('Warning', 'Failed', 'Error: ErrImagePull');
      this.state = {
        waiting: { reason: 'ErrImagePull', message: `rpc error: code = NotFound desc = ${message}` },
      };
      this.notify();
      this.pullBackoffS =
        this.pullBackoffS === 0 ? INITIAL_BACKOFF_S : Math.min(MAX_BACKOFF_S, this.pullBackoffS * 2);
      const delayMs = this.pullBackoffS * 1000 * this.host.backoffScale;
      this.later(Math.min(1000, delayMs / 2), () => {
        if (this.stopping) return;
        this.event('Normal', 'BackOff', `Back-off pulling image "${this.image}"`);
        this.event('Warning', 'Failed', 'Error: ImagePullBackOff');
        this.state = {
          waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${this.image}"` },
        };
        this.notify();
      });
      this.later(delayMs, () => this.pull());
      return;
    }
    this.pullBackoffS = 0;
    this.imageID = `${resolved.reference.registry}/${resolved.reference.repository}@sha256:${createHash('sha256').update(resolved.reference.normalized).digest('hex')}`;
    if (policy !== 'Always' && this.host.pulledImages.has(resolved.reference.normalized)) {
      this.event('Normal', 'Pulled', `Container image "${this.image}" already present on machine`);
    } else {
      this.event('Normal', 'Pulling', `Pulling image "${this.image}"`);
      this.event(
        'Normal',
        'Pulled',
        `Successfully pulled image "${this.image}" in 1ms (1ms including waiting). Image size: 0 bytes.`,
      );
      this.host.pulledImages.add(resolved.reference.normalized);
    }
    void this.launch(resolved);
  }

  private async launch(resolved: ResolvedImage): Promise<void> {
    if (this.stopping) return;
    const env = this.buildEnvOrRetry(resolved);
    if (!env) return;
    this.env = env;
    const containerID = `meshdrill://${randomBytes(32).toString('hex')}`;
    const now = new Date().toISOString();
    const executable = await this.resolveExecutable(resolved, env, containerID, now);
    if (!executable || this.stopping) return;
    this.startInstance(executable, env, containerID, now);
  }

  /** The container's env; a missing ConfigMap/Secret key is CreateContainerConfigError, tried again later. */
  private buildEnvOrRetry(resolved: ResolvedImage): Record<string, string> | undefined {
    try {
      return this.host.buildEnv(this.spec);
    } catch (error) {
      const message = (error as Error).message;
      this.event('Warning', 'Failed', `Error: ${message}`);
      this.state = { waiting: { reason: 'CreateContainerConfigError', message } };
      this.notify();
      this.later(1000 * Math.max(0.2, this.host.backoffScale), () => void this.launch(resolved));
      return undefined;
    }
  }

  /** The file and argv to start; undefined (a StartError recorded) when the image has no such command. */
  private async resolveExecutable(
    resolved: ResolvedImage,
    env: Record<string, string>,
    containerID: string,
    now: string,
  ): Promise<{ file: string; argv: string[] } | undefined> {
    const command = this.spec.command?.map((c) => expandReferences(c, env));
    const args = this.spec.args?.map((a) => expandReferences(a, env));
    const resolution = resolveContainerCommand(resolved.program, command, args, (n) =>
      this.host.hostLookup(n),
    );
    if (!resolution.ok) {
      // containerd creates the container, then the task fails to start: StartError, exit 128.
      const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${resolution.message}: unknown`;
      this.event('Normal', 'Created', `Created container ${this.name}`);
      this.event('Warning', 'Failed', `Error: ${message}`);
      this.recordExit({
        exitCode: 128,
        reason: 'StartError',
        message,
        startedAt: '1970-01-01T00:00:00Z',
        finishedAt: now,
        containerID,
      });
      return undefined;
    }
    if (resolution.executable.kind === 'bundle') {
      return {
        file: process.execPath,
        argv: [await this.host.bundler.ensure(resolution.executable.entry), ...resolution.args],
      };
    }
    return { file: resolution.executable.path, argv: resolution.args };
  }

  /** Starts the container's process in its own group: running, logging, probed, its exit recorded. */
  private startInstance(
    { file, argv }: { file: string; argv: string[] },
    env: Record<string, string>,
    containerID: string,
    now: string,
  ): void {
    const cwd = this.host.containerDir(this.name);
    mkdirSync(cwd, { recursive: true });
    // Output goes to this instance's log, chosen below once the start succeeded (a failed start keeps the old).
    let log = this.currentLog;
    const group = startProcessGroup(file, argv, {
      env: { ...env, PWD: cwd, [CPU_MAX_ENV]: cpuMaxOf(this.spec.resources?.limits) },
      cwd,
      onOutput: (chunk, stream) => log.append(stream, chunk.toString('utf8')),
    });
    if (group.pid === undefined) {
      const message = `failed to start ${file}`;
      this.event('Warning', 'Failed', `Error: ${message}`);
      this.recordExit({
        exitCode: 128,
        reason: 'StartError',
        message,
        startedAt: now,
        finishedAt: now,
        containerID,
      });
      return;
    }
    if (this.everRan) {
      this.previousLog = this.currentLog;
      this.currentLog = new LogBuffer(this.host.logCapBytes);
      this.restartCount++;
    }
    this.everRan = true;
    log = this.currentLog;
    const instance: Instance = {
      group,
      pid: group.pid,
      startedAt: now,
      containerID,
      log,
      oomKilled: false,
      // Closed, not just exited, so the last output lands in the log before the instance is recorded as gone.
      exited: group.closed.then((exit) => this.recordInstanceExit(instance, exit)),
    };
    this.instance = instance;
    this.event('Normal', 'Created', `Created container ${this.name}`);
    this.event('Normal', 'Started', `Started container ${this.name}`);
    this.state = { running: { startedAt: now } };
    this.started = this.spec.startupProbe === undefined;
    this.ready = false;
    this.startProbes(instance);
    if (this.started && this.spec.readinessProbe === undefined) this.ready = true;
    this.notify();
  }

  private recordInstanceExit(instance: Instance, { exitCode: code, signal }: ProcessExit): void {
    instance.log.end();
    this.clearProbes();
    const exitCode = code ?? 128 + (signal ? (SIGNALS[signal] ?? 9) : 9);
    const reason = instance.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    if (this.instance === instance) this.instance = undefined;
    // Whatever ran in the container's cgroup goes with it.
    this.killAttached();
    this.recordExit({
      exitCode,
      ...(signal ? { signal: SIGNALS[signal] ?? 9 } : {}),
      reason,
      startedAt: instance.startedAt,
      finishedAt: new Date().toISOString(),
      containerID: instance.containerID,
    });
  }

  private recordExit(terminated: NonNullable<ContainerState['terminated']>): void {
    this.ready = false;
    this.started = false;
    this.state = { terminated };
    const policy = this.kind === 'sidecar' ? 'Always' : this.host.restartPolicy();
    const failed = terminated.exitCode !== 0;
    const restart =
      !this.stopping &&
      !this.host.isTerminating() &&
      (policy === 'Always' ? this.kind !== 'init' || failed : policy === 'OnFailure' ? failed : false);
    if (!restart) {
      this.finished = true;
      this.notify();
      return;
    }
    // A container that ran for 10 minutes (scaled) without trouble starts its back-off afresh.
    const ranMs = Date.parse(terminated.finishedAt) - Date.parse(terminated.startedAt);
    if (ranMs > 600_000 * this.host.backoffScale) this.backoffS = 0;
    const delayS = this.backoffS;
    this.backoffS = this.backoffS === 0 ? INITIAL_BACKOFF_S : Math.min(MAX_BACKOFF_S, this.backoffS * 2);
    this.lastState = { terminated };
    if (delayS === 0) {
      this.notify();
      this.relaunch();
      return;
    }
    const scaledMs = delayS * 1000 * this.host.backoffScale;
    this.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${delayS}s restarting failed container=${this.name} pod=${this.host.podDescription}`,
      },
    };
    this.event(
      'Warning',
      'BackOff',
      `Back-off restarting failed container ${this.name} in pod ${this.host.podDescription}`,
    );
    this.notify();
    this.later(scaledMs, () => this.relaunch());
  }

  private relaunch(): void {
    if (this.stopping || this.host.isTerminating()) return;
    const resolved = this.host.resolveImage(this.image);
    if (!resolved) {
      this.pull();
      return;
    }
    this.event('Normal', 'Pulled', `Container image "${this.image}" already present on machine`);
    void this.launch(resolved);
  }

  private clearProbes(): void {
    for (const t of this.probeTimers) clearTimeout(t);
    this.probeTimers.clear();
  }

  private startProbes(instance: Instance): void {
    const ctx: ProbeContext = {
      podIP: this.host.podIP,
      container: this.spec,
      exec: (command: string[], timeoutMs: number) => this.host.execInContainer(this, command, timeoutMs),
    };
    const { startupProbe, readinessProbe, livenessProbe } = this.spec;
    if (startupProbe) this.probeLoop(instance, ctx, startupProbe, 'Startup', this.onStartupResult(instance));
    if (readinessProbe) this.probeLoop(instance, ctx, readinessProbe, 'Readiness', this.onReadinessResult());
    if (livenessProbe)
      this.probeLoop(instance, ctx, livenessProbe, 'Liveness', this.onLivenessResult(instance));
  }

  /**
   * Runs `probe` every period while the instance lives, from its initial delay: a startup probe until the
   * container started, the others once it has. `onResult` says whether to go on.
   */
  private probeLoop(
    instance: Instance,
    ctx: ProbeContext,
    probe: Probe,
    label: 'Startup' | 'Readiness' | 'Liveness',
    onResult: ProbeHandler,
  ): void {
    const alive = (): boolean => this.instance === instance && !this.stopping;
    const gate = (): boolean => (label === 'Startup' ? !this.started : this.started);
    let failures = 0;
    let successes = 0;
    const tick = async (): Promise<void> => {
      if (!alive()) return;
      if (gate()) {
        const result = await runProbe(probe, ctx);
        if (!alive()) return;
        if (result.ok) {
          successes++;
          failures = 0;
        } else {
          failures++;
          successes = 0;
          this.event('Warning', 'Unhealthy', `${label} probe failed: ${result.message}`);
        }
        if (!onResult(result.ok, failures, successes)) return;
      }
      this.later((probe.periodSeconds ?? 10) * 1000, () => void tick(), true);
    };
    this.later((probe.initialDelaySeconds ?? 0) * 1000, () => void tick(), true);
  }

  private onStartupResult(instance: Instance): ProbeHandler {
    const threshold = this.spec.startupProbe?.failureThreshold ?? 3;
    return (ok, failures) => {
      if (ok) {
        this.started = true;
        if (!this.spec.readinessProbe) this.ready = true;
        this.notify();
        return false;
      }
      if (failures >= threshold) {
        this.event('Normal', 'Killing', `Container ${this.name} failed startup probe, will be restarted`);
        void this.killInstance(instance, this.host.terminationGraceSeconds());
        return false;
      }
      return true;
    };
  }

  private onReadinessResult(): ProbeHandler {
    const readiness = this.spec.readinessProbe;
    return (ok, failures, successes) => {
      const before = this.ready;
      if (ok && successes >= (readiness?.successThreshold ?? 1)) this.ready = true;
      if (!ok && failures >= (readiness?.failureThreshold ?? 3)) this.ready = false;
      if (before !== this.ready) this.notify();
      return true;
    };
  }

  private onLivenessResult(instance: Instance): ProbeHandler {
    const threshold = this.spec.livenessProbe?.failureThreshold ?? 3;
    return (ok, failures) => {
      if (!ok && failures >= threshold) {
        this.event('Normal', 'Killing', `Container ${this.name} failed liveness probe, will be restarted`);
        void this.killInstance(instance, this.host.terminationGraceSeconds());
        return false;
      }
      return true;
    };
  }

  /** SIGTERM the instance's process tree, SIGKILL after the grace period; resolves when it exited. */
  private async killInstance(instance: Instance, graceSeconds: number): Promise<void> {
    await instance.group.stop({ graceMs: Math.max(0, graceSeconds) * 1000 });
    await instance.exited;
  }

  /** Kills the instance for exceeding its memory limit: SIGKILL, reason OOMKilled, exit 137. */
  oomKill(rssBytes: number, comm: string): void {
    const instance = this.instance;
    if (!instance || instance.oomKilled) return;
    instance.oomKilled = true;
    // memory.oom.group (set by the kubelet on cgroup v2): the whole container goes, stressors included.
    instance.group.signal('SIGKILL');
    this.killAttached();
    this.event(
      'Warning',
      'OOMKilling',
      `Memory cgroup out of memory: Killed process ${instance.pid} (${comm}) anon-rss:${Math.round(rssBytes / 1024)}kB, limit:${Math.round((this.memoryLimitBytes ?? 0) / 1024)}kB (container ${this.name})`,
    );
  }

  /** Stops for good (pod deletion): no restart; honours the grace period. */
  async stop(graceSeconds: number): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.clearProbes();
    const instance = this.instance;
    if (instance) {
      this.event('Normal', 'Killing', `Stopping container ${this.name}`);
      await this.killInstance(instance, graceSeconds);
    }
    this.ready = false;
    this.finished = true;
    this.currentLog.end();
  }

  /** PIDs of the live instance (for teardown proofs). */
  pid(): number | undefined {
    return this.instance?.pid;
  }

  /** Registers a process the runtime started inside this container (see ContainerRuntimeSocket.attachProcess). */
  attach(pid: number): void {
    this.attached.add(pid);
  }

  detach(pid: number): void {
    this.attached.delete(pid);
  }

  attachedPids(): number[] {
    return [...this.attached];
  }

  private killAttached(): void {
    for (const pid of this.attached) signalTree(pid, 'SIGKILL');
  }

  /** Sends a signal to the running instance's process tree (container-kill); false when nothing runs. */
  signal(signal: NodeJS.Signals): boolean {
    const instance = this.instance;
    if (!instance) return false;
    instance.group.signal(signal);
    return true;
  }

  /**
   * The pod spec's image changed (the one mutable container field): as the kubelet does, the container is killed
   * and started again from the new image, counting a restart. Chaos Mesh's pod-failure works through this.
   */
  changeImage(image: string): void {
    if (image === this.image || this.stopping) return;
    this.image = image;
    this.event('Normal', 'Killing', `Container ${this.name} definition changed, will be restarted`);
    this.backoffS = 0;
    const instance = this.instance;
    if (instance) {
      void this.killInstance(instance, Math.min(2, this.host.terminationGraceSeconds()));
      return;
    }
    // Not running (back-off or a failed pull): start from the new image now.
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.everRan && !this.finished) this.relaunch();
  }
}
