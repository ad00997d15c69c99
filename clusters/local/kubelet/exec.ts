// Commands run inside a container's environment: probes' exec actions (to completion, output capped) and
// `kubectl exec` sessions (interactive, stdin streamed, killed with their process group when they end).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, startProcessGroup } from '../../../harness/exec/index.js';
import { type ExecIo, type PodRuntime, PodRuntimeError } from '../pod-runtime.js';
import type { ProgramBundler } from '../programs/bundler.js';
import { type ImageRegistry, resolveExecutable } from '../programs/registry.js';
import type { BaseEnv } from './base-env.js';
import type { ContainerRunner } from './container-runner.js';
import { buildContainerEnv } from './env.js';
import { findRunner } from './find-runner.js';
import type { HostLookup } from './host-lookup.js';
import type { PodWorker, PodWorkerDeps } from './pod-worker.js';
import type { KubeletState } from './state.js';

export interface ExecDeps {
  images: ImageRegistry;
  bundler: ProgramBundler;
  baseEnv: BaseEnv;
  hostLookup: HostLookup;
}

export interface ContainerExec {
  /** For probes (through the pod workers): runs to completion within timeoutMs. */
  execInContainer: PodWorkerDeps['execInContainer'];
  /** PodRuntime.exec: a `kubectl exec` session. */
  exec: PodRuntime['exec'];
}

interface PreparedExec {
  file: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

type Preparation = PreparedExec | { error: string };

/** Starts the session in its own group, wires it to the client, and resolves with its exit code. */
function runSession(prepared: PreparedExec, io: ExecIo, execPids: Set<number>): Promise<number> {
  const session = startProcessGroup(prepared.file, prepared.argv, {
    env: prepared.env,
    cwd: prepared.cwd,
    stdin: true,
    onOutput: (chunk, stream) => (stream === 'stdout' ? io.stdout(chunk) : io.stderr(chunk)),
  });
  const pid = session.pid;
  if (pid !== undefined) execPids.add(pid);
  io.onStdin?.((chunk) => {
    if (chunk === null) session.stdin?.end();
    else session.stdin?.write(chunk);
  });
  return new Promise((resolve) => {
    void session.exited.then(() => {
      const error = session.error();
      if (!error) return;
      io.stderr(Buffer.from(`${error.message}\n`));
      if (pid !== undefined) execPids.delete(pid);
      resolve(126);
    });
    void session.closed.then(({ exitCode, signal }) => {
      if (pid !== undefined) {
        // The session is over when its leader is: whatever it left running in the container goes with it.
        session.signal('SIGKILL');
        execPids.delete(pid);
      }
      resolve(exitCode ?? (signal === 'SIGKILL' ? 137 : 128 + 15));
    });
  });
}

export function createContainerExec(state: KubeletState, deps: ExecDeps): ContainerExec {
  /** The container's env as it was started with, or (not started yet) as it would be. */
  const containerEnv = (worker: PodWorker, runner: ContainerRunner): Record<string, string> =>
    Object.keys(runner.env).length > 0
      ? runner.env
      : buildContainerEnv({
          store: state.store,
          pod: worker.pod,
          container: runner.spec,
          podIP: worker.podIP,
          nodeName: state.nodeName,
          hostIP: state.hostIP,
          base: deps.baseEnv(worker.pod, worker.podIP, runner.name),
        });

  /** Resolves a command inside the container's image: the file, argv, env and cwd to spawn it with. */
  const prepareExec = async (
    worker: PodWorker,
    runner: ContainerRunner,
    command: string[],
  ): Promise<Preparation> => {
    const resolved = deps.images.resolve(runner.spec.image);
    if (!resolved) throw new PodRuntimeError(400, `container "${runner.name}" has no image to exec in`);
    const [argv0, ...args] = command;
    if (argv0 === undefined)
      throw new PodRuntimeError(400, 'you must specify at least one command for the container');
    const resolution = resolveExecutable(resolved.program, argv0, args, deps.hostLookup);
    if (!resolution.ok) return { error: resolution.message };
    const env = containerEnv(worker, runner);
    const file = resolution.executable.kind === 'bundle' ? process.execPath : resolution.executable.path;
    const argv =
      resolution.executable.kind === 'bundle'
        ? [await deps.bundler.ensure(resolution.executable.entry), ...resolution.args]
        : resolution.args;
    const cwd = join(worker.dir, runner.name);
    mkdirSync(cwd, { recursive: true });
    return { file, argv, env: { ...env, PWD: cwd }, cwd };
  };

  const execInContainer: ContainerExec['execInContainer'] = async (worker, runner, command, timeoutMs) => {
    const prepared = await prepareExec(worker, runner, command);
    if ('error' in prepared) return { exitCode: 126, output: prepared.error, timedOut: false };
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

  const exec: ContainerExec['exec'] = async (namespace, pod, container, command, io) => {
    const { worker, runner } = findRunner(state.workers, namespace, pod, container);
    if (!runner.instance) {
      throw new PodRuntimeError(400, `unable to upgrade connection: container not found ("${runner.name}")`);
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
    return runSession(prepared, io, state.execPids);
  };

  return { execInContainer, exec };
}
