// One container of a pod as the kubelet runs it: image "pull", process start in its own group, probes,
// exit → terminated state, restarts with CrashLoopBackOff back-off, OOM kills, graceful stop, logs.

import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Container, ContainerState, ContainerStatus, Probe } from '../controllers/kube-types.js';
import type { ProgramBundler } from '../programs/bundler.js';
import { type ResolvedImage, resolveContainerCommand } from '../programs/registry.js';
import { expandReferences } from './env.js';
import { LogBuffer } from './log-buffer.js';
import { signalTree, spawnGroup } from './process-group.js';
import { type ProbeResult, runProbe } from './probes.js';

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
  process: ChildProcess;
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
    let env: Record<string, string>;
    try {
      env = this.host.buildEnv(this.spec);
    } catch (error) {
      const message = (error as Error).message;
      this.event('Warning', 'Failed', `Error: ${message}`);
      this.state = { waiting: { reason: 'CreateContainerConfigError', message } };
      this.notify();
      this.later(1000 * Math.max(0.2, this.host.backoffScale), () => void this.launch(resolved));
      return;
    }
    this.env = env;
    const command = this.spec.command?.map((c) => expandReferences(c, env));
    const args = this.spec.args?.map((a) => expandReferences(a, env));
    const resolution = resolveContainerCommand(resolved.program, command, args, (n) =>
      this.host.hostLookup(n),
    );
    const containerID = `meshdrill://${randomBytes(32).toString('hex')}`;
    const now = new Date().toISOString();
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
      return;
    }
    let file: string;
    let argv: string[];
    if (resolution.executable.kind === 'bundle') {
      file = process.execPath;
      argv = [await this.host.bundler.ensure(resolution.executable.entry), ...resolution.args];
    } else {
      file = resolution.executable.path;
      argv = resolution.args;
    }
    if (this.stopping) return;
    const cwd = this.host.containerDir(this.name);
    mkdirSync(cwd, { recursive: true });
    const child = spawnGroup(file, argv, { env: { ...env, PWD: cwd }, cwd });
    if (child.pid === undefined) {
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
      child.on('error', () => undefined);
      return;
    }
    if (this.everRan) {
      this.previousLog = this.currentLog;
      this.currentLog = new LogBuffer(this.host.logCapBytes);
      this.restartCount++;
    }
    this.everRan = true;
    const log = this.currentLog;
    child.stdout?.on('data', (c: Buffer) => log.append('stdout', c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => log.append('stderr', c.toString('utf8')));
    let resolveExit: () => void = () => undefined;
    const exited = new Promise<void>((r) => {
      resolveExit = r;
    });
    const instance: Instance = {
      process: child,
      pid: child.pid,
      startedAt: now,
      containerID,
      log,
      oomKilled: false,
      exited,
    };
    this.instance = instance;
    this.event('Normal', 'Created', `Created container ${this.name}`);
    this.event('Normal', 'Started', `Started container ${this.name}`);
    this.state = { running: { startedAt: now } };
    this.started = this.spec.startupProbe === undefined;
    this.ready = false;
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      // Wait for 'close' so the last output lands in the log before the instance is recorded as gone.
      child.once('close', () => {
        log.end();
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
          containerID,
        });
        resolveExit();
      });
    });
    this.startProbes(instance);
    if (this.started && this.spec.readinessProbe === undefined) this.ready = true;
    this.notify();
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
    const ctx = {
      podIP: this.host.podIP,
      container: this.spec,
      exec: (command: string[], timeoutMs: number) => this.host.execInContainer(this, command, timeoutMs),
    };
    const alive = (): boolean => this.instance === instance && !this.stopping;
    const loop = (
      probe: Probe,
      label: 'Startup' | 'Readiness' | 'Liveness',
      gate: () => boolean,
      onResult: (ok: boolean, result: ProbeResult, failures: number, successes: number) => boolean,
    ): void => {
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
          if (!onResult(result.ok, result, failures, successes)) return;
        }
        this.later((probe.periodSeconds ?? 10) * 1000, () => void tick(), true);
      };
      this.later((probe.initialDelaySeconds ?? 0) * 1000, () => void tick(), true);
    };

    const startup = this.spec.startupProbe;
    if (startup) {
      loop(
        startup,
        'Startup',
        () => !this.started,
        (ok, _r, failures) => {
          if (ok) {
            this.started = true;
            if (!this.spec.readinessProbe) this.ready = true;
            this.notify();
            return false;
          }
          if (failures >= (startup.failureThreshold ?? 3)) {
            this.event('Normal', 'Killing', `Container ${this.name} failed startup probe, will be restarted`);
            void this.killInstance(instance, this.host.terminationGraceSeconds());
            return false;
          }
          return true;
        },
      );
    }
    const readiness = this.spec.readinessProbe;
    if (readiness) {
      loop(
        readiness,
        'Readiness',
        () => this.started,
        (ok, _r, failures, successes) => {
          const before = this.ready;
          if (ok && successes >= (readiness.successThreshold ?? 1)) this.ready = true;
          if (!ok && failures >= (readiness.failureThreshold ?? 3)) this.ready = false;
          if (before !== this.ready) this.notify();
          return true;
        },
      );
    }
    const liveness = this.spec.livenessProbe;
    if (liveness) {
      loop(
        liveness,
        'Liveness',
        () => this.started,
        (ok, _r, failures) => {
          if (!ok && failures >= (liveness.failureThreshold ?? 3)) {
            this.event(
              'Normal',
              'Killing',
              `Container ${this.name} failed liveness probe, will be restarted`,
            );
            void this.killInstance(instance, this.host.terminationGraceSeconds());
            return false;
          }
          return true;
        },
      );
    }
  }

  /** SIGTERM the instance's process tree, SIGKILL after the grace period; resolves when it exited. */
  private async killInstance(instance: Instance, graceSeconds: number): Promise<void> {
    signalTree(instance.pid, 'SIGTERM');
    const hard = setTimeout(() => signalTree(instance.pid, 'SIGKILL'), Math.max(0, graceSeconds) * 1000);
    await instance.exited;
    clearTimeout(hard);
  }

  /** Kills the instance for exceeding its memory limit: SIGKILL, reason OOMKilled, exit 137. */
  oomKill(rssBytes: number, comm: string): void {
    const instance = this.instance;
    if (!instance || instance.oomKilled) return;
    instance.oomKilled = true;
    // memory.oom.group (set by the kubelet on cgroup v2): the whole container goes, stressors included.
    signalTree(instance.pid, 'SIGKILL');
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
    signalTree(instance.pid, signal);
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
