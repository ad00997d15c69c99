// The local target's kubelet: one Ready node, a scheduler that binds pods to it, a PodWorker per pod (each
// container an OS process on the pod's loopback IP), memory limits enforced from real RSS, and the
// PodRuntime the API server uses for logs, exec and metrics.

import { accessSync, constants, mkdirSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { KUBERNETES_VERSION } from '../apiserver/server.js';
import { run } from '../../../harness/exec/index.js';
import { createEventRecorder, type EventRecorder } from '../controllers/events.js';
import type { Pod } from '../controllers/kube-types.js';
import { RESOURCES } from '../controllers/resources.js';
import {
  type ExecIo,
  type LogFollow,
  type LogOptions,
  type PodMetrics,
  type PodRuntime,
  PodRuntimeError,
} from '../pod-runtime.js';
import type { ProgramBundler } from '../programs/bundler.js';
import { type ImageRegistry, resolveExecutable } from '../programs/registry.js';
import { type ObjectStore, StoreError, type WatchEvent } from '../store/types.js';
import { NETWORK_FAULTS_ENV, TIME_OFFSET_ENV } from '../chaos-hooks.js';
import { type AttachedProcess, podChaosFiles, publishRuntimeSocket } from './chaos-hooks.js';
import type { ContainerRunner } from './container-runner.js';
import { buildContainerEnv } from './env.js';
import { createIpPool, type IpPool } from './ip-pool.js';
import { PodWorker } from './pod-worker.js';
import {
  groupMembers,
  isAlive,
  readProcessTable,
  readRssBytes,
  signalTree,
  spawnGroup,
} from './process-group.js';

export {
  type AttachedProcess,
  type ContainerLookup,
  type ContainerRuntimeSocket,
  connectRuntimeSocket,
  podChaosFiles,
  podSandboxDir,
} from './chaos-hooks.js';
export { createIpPool, type IpPool } from './ip-pool.js';
export { LogBuffer } from './log-buffer.js';
export { computePodPhase, computePodStatus, computeQosClass } from './pod-status.js';
export {
  groupMembers,
  isAlive,
  readProcessTable,
  readRssBytes,
  signalTree,
  spawnGroup,
} from './process-group.js';
export { parseQuantity } from './quantity.js';

export const NODE_NAME = 'meshdrill-local';
/** How old a process table `pids()` may answer from (it feeds bookkeeping, not kills). */
const PID_VIEW_MAX_AGE_MS = 250;
export const KUBELET_VERSION = KUBERNETES_VERSION;

export interface KubeletOptions {
  store: ObjectStore;
  images: ImageRegistry;
  bundler: ProgramBundler;
  /** Directory for pod sandboxes (container working directories). */
  workDir: string;
  /** File the cluster DNS emulation keeps up to date; handed to containers as MESHDRILL_CLUSTER_DNS_FILE. */
  clusterDnsFile: string;
  nodeName?: string;
  podCidr?: string;
  /** Multiplies CrashLoopBackOff and image-pull back-off delays (tests and drills use < 1). Default 1. */
  backoffScale?: number;
  /** RSS sampling period for memory limits and metrics. Default 250 ms. */
  memorySampleMs?: number;
  /** Per container instance. Default 1 MiB. */
  logCapBytes?: number;
  /** Where in-pod clients reach the API server (KUBERNETES_SERVICE_HOST/PORT). */
  apiServer?: { host: string; port: number };
  /** Extra environment for every container (the mesh may add its own). */
  extraEnv?: (pod: Pod, container: string) => Record<string, string>;
}

export interface Kubelet extends PodRuntime {
  readonly nodeName: string;
  readonly events: EventRecorder;
  /** PIDs of every live process the kubelet started (containers and exec sessions). */
  pids(): number[];
  /** Waits until a pod's worker exists (tests). */
  worker(namespace: string, name: string): PodWorker | undefined;
  stop(): Promise<void>;
}

function hostLookupFactory(): (name: string) => string | undefined {
  const cache = new Map<string, string | undefined>();
  return (name) => {
    if (cache.has(name)) return cache.get(name);
    let found: string | undefined;
    for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
      if (!dir) continue;
      try {
        accessSync(join(dir, name), constants.X_OK);
        found = join(dir, name);
        break;
      } catch {
        // not here
      }
    }
    cache.set(name, found);
    return found;
  };
}

export async function startKubelet(options: KubeletOptions): Promise<Kubelet> {
  const { store } = options;
  const nodeName = options.nodeName ?? NODE_NAME;
  const hostIP = '127.0.0.1';
  const events = createEventRecorder(store, { component: 'kubelet', host: nodeName });
  const pool: IpPool = createIpPool(options.podCidr);
  const workers = new Map<string, PodWorker>();
  const execPids = new Set<number>();
  const hostLookup = hostLookupFactory();
  const pulledImages = new Set<string>();
  const podsDir = join(options.workDir, 'pods');
  mkdirSync(podsDir, { recursive: true });
  let stopped = false;

  await registerNode(store, nodeName);

  const baseEnv = (pod: Pod, podIP: string, container: string): Record<string, string> => ({
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOSTNAME: pod.metadata.name,
    ...(options.apiServer
      ? {
          KUBERNETES_SERVICE_HOST: options.apiServer.host,
          KUBERNETES_SERVICE_PORT: String(options.apiServer.port),
          KUBERNETES_PORT: `tcp://${options.apiServer.host}:${options.apiServer.port}`,
        }
      : {}),
    MESHDRILL_POD_IP: podIP,
    MESHDRILL_POD_NAME: pod.metadata.name,
    MESHDRILL_POD_NAMESPACE: pod.metadata.namespace ?? 'default',
    MESHDRILL_POD_UID: pod.metadata.uid,
    MESHDRILL_CONTAINER_NAME: container,
    MESHDRILL_NODE_NAME: nodeName,
    MESHDRILL_CLUSTER_DNS_FILE: options.clusterDnsFile,
    // Per-pod chaos hooks (clusters/local/chaos-hooks.ts): the files may not exist; then there is no fault.
    [NETWORK_FAULTS_ENV]: podChaosFiles(options.workDir, pod).networkFaults,
    [TIME_OFFSET_ENV]: podChaosFiles(options.workDir, pod).timeOffset,
    ...(options.extraEnv?.(pod, container) ?? {}),
  });

  /** Resolves a command inside the container's image and spawns it with the container's env and cwd. */
  const prepareExec = async (worker: PodWorker, runner: ContainerRunner, command: string[]) => {
    const resolved = options.images.resolve(runner.spec.image);
    if (!resolved) throw new PodRuntimeError(400, `container "${runner.name}" has no image to exec in`);
    const [argv0, ...args] = command;
    if (argv0 === undefined)
      throw new PodRuntimeError(400, 'you must specify at least one command for the container');
    const resolution = resolveExecutable(resolved.program, argv0, args, hostLookup);
    if (!resolution.ok) return { error: resolution.message };
    const env =
      Object.keys(runner.env).length > 0
        ? runner.env
        : buildContainerEnv({
            store,
            pod: worker.pod,
            container: runner.spec,
            podIP: worker.podIP,
            nodeName,
            hostIP,
            base: baseEnv(worker.pod, worker.podIP, runner.name),
          });
    const file = resolution.executable.kind === 'bundle' ? process.execPath : resolution.executable.path;
    const argv =
      resolution.executable.kind === 'bundle'
        ? [await options.bundler.ensure(resolution.executable.entry), ...resolution.args]
        : resolution.args;
    const cwd = join(worker.dir, runner.name);
    mkdirSync(cwd, { recursive: true });
    return { file, argv, env: { ...env, PWD: cwd }, cwd };
  };

  const execInContainer = async (
    worker: PodWorker,
    runner: ContainerRunner,
    command: string[],
    timeoutMs: number,
  ) => {
    const prepared = await prepareExec(worker, runner, command);
    if ('error' in prepared) return { exitCode: 126, output: prepared.error ?? '', timedOut: false };
    const result = await run(prepared.file, prepared.argv, {
      env: prepared.env,
      cleanEnv: true,
      cwd: prepared.cwd,
      timeoutMs,
      killGraceMs: 0,
      maxOutputBytes: 10 * 1024,
    });
    return {
      exitCode: result.exitCode,
      output: `${result.stdout}${result.stderr}`,
      timedOut: result.timedOut,
    };
  };

  const deps = {
    store,
    events,
    images: options.images,
    bundler: options.bundler,
    nodeName,
    hostIP,
    podsDir,
    backoffScale: options.backoffScale ?? 1,
    logCapBytes: options.logCapBytes ?? 1024 * 1024,
    pulledImages,
    baseEnv,
    hostLookup,
    execInContainer,
  };

  const finishDeletion = async (worker: PodWorker, graceSeconds: number): Promise<void> => {
    await worker.terminate(graceSeconds);
    pool.release(worker.podIP);
    worker.removeSandbox();
    workers.delete(worker.key);
    const meta = worker.pod.metadata;
    const current = store.get(RESOURCES.pods, meta.namespace, meta.name);
    if (current && current.metadata.uid === meta.uid) {
      await store
        .delete(RESOURCES.pods, meta.namespace, meta.name, {
          gracePeriodSeconds: 0,
          preconditions: { uid: meta.uid },
        })
        .catch((e: unknown) => {
          if (!(e instanceof StoreError && (e.code === 404 || e.code === 409))) throw e;
        });
    }
  };

  const schedule = async (pod: Pod): Promise<void> => {
    const fresh = store.get(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name) as Pod | undefined;
    if (!fresh || fresh.spec.nodeName || fresh.metadata.uid !== pod.metadata.uid) return;
    await store.update(RESOURCES.pods, { ...fresh, spec: { ...fresh.spec, nodeName } });
    events.record(
      fresh,
      'Normal',
      'Scheduled',
      `Successfully assigned ${fresh.metadata.namespace}/${fresh.metadata.name} to ${nodeName}`,
      {
        source: { component: 'default-scheduler' },
      },
    );
  };

  const onPod = (event: WatchEvent): void => {
    if (stopped) return;
    const pod = event.object as Pod;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const worker = workers.get(key);
    if (event.type === 'DELETED') {
      // Force-deleted (or finished by us): stop what still runs, with a short grace as the kubelet does.
      if (worker && worker.pod.metadata.uid === pod.metadata.uid)
        void finishDeletion(worker, 2).catch(() => undefined);
      return;
    }
    if (worker && worker.pod.metadata.uid !== pod.metadata.uid) return; // an old pod of the same name still stopping
    if (!pod.spec.nodeName) {
      if (!pod.metadata.deletionTimestamp) void schedule(pod).catch(() => undefined);
      return;
    }
    if (pod.spec.nodeName !== nodeName) return;
    if (pod.metadata.deletionTimestamp) {
      const grace =
        typeof pod.metadata.deletionGracePeriodSeconds === 'number'
          ? pod.metadata.deletionGracePeriodSeconds
          : (pod.spec.terminationGracePeriodSeconds ?? 30);
      if (worker) {
        worker.pod = pod;
        void finishDeletion(worker, grace).catch(() => undefined);
      } else {
        void store
          .delete(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name, {
            gracePeriodSeconds: 0,
            preconditions: { uid: pod.metadata.uid },
          })
          .catch(() => undefined);
      }
      return;
    }
    if (worker) {
      worker.applySpec(pod);
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const created = new PodWorker(pod, pool.allocate(), deps);
    workers.set(key, created);
    created.start();
  };

  const existing = store.list(RESOURCES.pods);
  const watch = store.watch(RESOURCES.pods, { sinceResourceVersion: existing.resourceVersion }, onPod);
  for (const pod of existing.items) onPod({ type: 'ADDED', object: pod });

  // Memory limits and metrics: one /proc scan per tick for every container's process tree.
  const cpuSamples = new Map<number, { ticks: number; at: number; nanoCores: number }>();
  const rssOf = new Map<number, number>();
  const clockTicks = 100;
  const sampleMs = options.memorySampleMs ?? 250;
  const sample = (): void => {
    const table = readProcessTable(sampleMs - 10);
    const now = performance.now();
    for (const worker of workers.values()) {
      for (const runner of worker.runners()) {
        const pid = runner.pid();
        if (pid === undefined) continue;
        const members = [pid, ...runner.attachedPids()].flatMap((root) => groupMembers(root, table));
        const rss = members.reduce((s, p) => s + readRssBytes(p.pid), 0);
        const ticks = members.reduce((s, p) => s + p.cpuTicks, 0);
        rssOf.set(pid, rss);
        const prev = cpuSamples.get(pid);
        const nanoCores =
          prev && now > prev.at
            ? Math.max(0, (((ticks - prev.ticks) / clockTicks) * 1e9) / ((now - prev.at) / 1000))
            : 0;
        cpuSamples.set(pid, { ticks, at: now, nanoCores: prev ? nanoCores : 0 });
        if (runner.memoryLimitBytes !== undefined && rss > runner.memoryLimitBytes) {
          runner.oomKill(rss, members.find((m) => m.pid === pid)?.comm ?? runner.name);
        }
      }
    }
  };
  const sampler = setInterval(sample, sampleMs);
  sampler.unref();

  const findRunner = (namespace: string, pod: string, container: string | undefined) => {
    const worker = workers.get(`${namespace}/${pod}`);
    if (!worker) throw new PodRuntimeError(404, `pods "${pod}" not found`);
    let name = container;
    if (!name) {
      if (worker.regular.length === 1) name = worker.regular[0]?.name;
      else {
        throw new PodRuntimeError(
          400,
          `a container name must be specified for pod ${pod}, choose one of: [${worker
            .runners()
            .map((r) => r.name)
            .join(' ')}]`,
        );
      }
    }
    const runner = worker.runner(name ?? '');
    if (!runner) {
      throw new PodRuntimeError(400, `container ${name} is not valid for pod ${pod}`);
    }
    return { worker, runner };
  };

  const logSource = (namespace: string, pod: string, opts: LogOptions) => {
    const { runner } = findRunner(namespace, pod, opts.container);
    if (opts.previous) {
      if (!runner.previousLog) {
        throw new PodRuntimeError(
          400,
          `previous terminated container "${runner.name}" in pod "${pod}" not found`,
        );
      }
      return runner.previousLog;
    }
    const waiting = runner.state.waiting;
    if (
      waiting &&
      !runner.instance &&
      runner.restartCount === 0 &&
      !runner.previousLog &&
      runner.currentLog.read().length === 0
    ) {
      throw new PodRuntimeError(
        400,
        `container "${runner.name}" in pod "${pod}" is waiting to start: ${waiting.reason}`,
      );
    }
    return runner.currentLog;
  };

  publishRuntimeSocket(store, {
    lookup(namespace, pod, container) {
      const worker = workers.get(`${namespace}/${pod}`);
      if (!worker) return { ok: false, reason: `pod ${namespace}/${pod} is not running on node ${nodeName}` };
      const runner = worker.runner(container);
      if (!runner)
        return { ok: false, reason: `container "${container}" not found in pod ${namespace}/${pod}` };
      return { ok: true, kind: runner.kind, running: runner.instance !== undefined, pid: runner.pid() };
    },
    signal(namespace, pod, container, signal) {
      return workers.get(`${namespace}/${pod}`)?.runner(container)?.signal(signal) ?? false;
    },
    async attachProcess(namespace, pod, container, program, args): Promise<AttachedProcess> {
      const worker = workers.get(`${namespace}/${pod}`);
      const runner = worker?.runner(container);
      if (!worker || !runner?.instance) {
        throw new PodRuntimeError(
          404,
          `container "${container}" of pod ${namespace}/${pod} is not running: nothing to attach to`,
        );
      }
      const file = 'entry' in program ? process.execPath : program.path;
      const argv = 'entry' in program ? [await options.bundler.ensure(program.entry), ...args] : args;
      const cwd = join(worker.dir, runner.name);
      mkdirSync(cwd, { recursive: true });
      const child = spawnGroup(file, argv, { env: { ...runner.env, PWD: cwd }, cwd });
      const pid = child.pid;
      if (pid === undefined) {
        child.on('error', () => undefined);
        throw new PodRuntimeError(500, `could not start ${file} in container "${container}"`);
      }
      runner.attach(pid);
      // chaos-daemon's processes do not write to the container's log; drain their output.
      child.stdout?.resume();
      child.stderr?.resume();
      const exited = new Promise<void>((resolve) => {
        child.on('error', () => resolve());
        child.on('exit', () => resolve());
      });
      void exited.then(() => runner.detach(pid));
      return {
        pid,
        exited,
        async stop() {
          signalTree(pid, 'SIGKILL');
          await exited;
        },
      };
    },
  });

  return {
    nodeName,
    events,
    readLog(namespace, pod, opts): string {
      return logSource(namespace, pod, opts).read(opts);
    },
    followLog(namespace, pod, opts): LogFollow {
      const source = logSource(namespace, pod, opts);
      return {
        initial: source.read(opts),
        subscribe: (onData, onEnd) => source.subscribe(onData, onEnd),
      };
    },
    async exec(namespace, pod, container, command, io: ExecIo): Promise<number> {
      const { worker, runner } = findRunner(namespace, pod, container);
      if (!runner.instance) {
        throw new PodRuntimeError(
          400,
          `unable to upgrade connection: container not found ("${runner.name}")`,
        );
      }
      const prepared = await prepareExec(worker, runner, command);
      if ('error' in prepared) {
        io.stderr(
          Buffer.from(
            `OCI runtime exec failed: exec failed: unable to start container process: ${prepared.error}: unknown\n`,
          ),
        );
        return 126;
      }
      const child = spawnGroup(prepared.file, prepared.argv, {
        env: prepared.env,
        cwd: prepared.cwd,
        stdin: true,
      });
      const pid = child.pid;
      if (pid !== undefined) execPids.add(pid);
      child.stdout?.on('data', (c: Buffer) => io.stdout(c));
      child.stderr?.on('data', (c: Buffer) => io.stderr(c));
      io.onStdin?.((chunk) => {
        if (chunk === null) child.stdin?.end();
        else child.stdin?.write(chunk);
      });
      child.stdin?.on('error', () => undefined);
      return new Promise((resolve) => {
        child.on('error', (error) => {
          io.stderr(Buffer.from(`${error.message}\n`));
          if (pid !== undefined) execPids.delete(pid);
          resolve(126);
        });
        child.on('close', (code, signal) => {
          if (pid !== undefined) {
            signalTree(pid, 'SIGKILL');
            execPids.delete(pid);
          }
          resolve(code ?? (signal === 'SIGKILL' ? 137 : 128 + 15));
        });
      });
    },
    podMetrics(): PodMetrics[] {
      const timestamp = new Date().toISOString();
      return [...workers.values()]
        .filter((w) => w.runners().some((r) => r.pid() !== undefined))
        .map((w) => ({
          namespace: w.pod.metadata.namespace ?? 'default',
          name: w.pod.metadata.name,
          timestamp,
          containers: w
            .runners()
            .filter((r) => r.pid() !== undefined)
            .map((r) => {
              const pid = r.pid() as number;
              return {
                name: r.name,
                cpuNanoCores: Math.round(cpuSamples.get(pid)?.nanoCores ?? 0),
                memoryBytes: rssOf.get(pid) ?? readRssBytes(pid),
              };
            }),
        }));
    },
    pids(): number[] {
      const out = new Set<number>(execPids);
      const table = readProcessTable(PID_VIEW_MAX_AGE_MS);
      for (const w of workers.values()) {
        for (const pid of w.pids()) for (const m of groupMembers(pid, table)) out.add(m.pid);
        for (const r of w.runners())
          for (const pid of r.attachedPids()) for (const m of groupMembers(pid, table)) out.add(m.pid);
      }
      return [...out];
    },
    worker(namespace, name) {
      return workers.get(`${namespace}/${name}`);
    },
    async stop(): Promise<void> {
      stopped = true;
      publishRuntimeSocket(store, undefined);
      watch.stop();
      clearInterval(sampler);
      // Teardown is not a graceful drain: a short grace, then SIGKILL, for every pod at once.
      await Promise.all([...workers.values()].map((w) => w.terminate(1).catch(() => undefined)));
      for (const pid of execPids) signalTree(pid, 'SIGKILL');
      for (const w of workers.values())
        for (const pid of w.pids()) if (isAlive(pid)) signalTree(pid, 'SIGKILL');
      workers.clear();
    },
  };
}

async function registerNode(store: ObjectStore, nodeName: string): Promise<void> {
  const now = new Date().toISOString();
  const memKi = `${Math.floor(totalmem() / 1024)}Ki`;
  const cpu = String(cpus().length);
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        'node-role.kubernetes.io/control-plane': '',
      },
    },
    spec: { podCIDR: '127.1.0.0/16', podCIDRs: ['127.1.0.0/16'] },
    status: {
      capacity: { cpu, memory: memKi, pods: '110', 'ephemeral-storage': '0' },
      allocatable: { cpu, memory: memKi, pods: '110', 'ephemeral-storage': '0' },
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: nodeName },
      ],
      nodeInfo: {
        machineID: hostname(),
        systemUUID: hostname(),
        bootID: '',
        kernelVersion: release(),
        osImage: 'meshdrill local node',
        containerRuntimeVersion: 'meshdrill://0.1.0',
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
  };
  const existing = store.get(RESOURCES.nodes, undefined, nodeName);
  const created = existing ?? (await store.create(RESOURCES.nodes, node));
  await store.updateStatus(RESOURCES.nodes, { ...created, status: node.status });
}
