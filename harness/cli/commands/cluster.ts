// `meshdrill cluster up|down|status --target T`: a target on its own, for exploring it with kubectl or for
// reusing it across runs. The local target stays in the foreground until SIGINT/SIGTERM, then tears down;
// kind clusters outlive the command until `cluster down`.

import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { checkIstioVersions, createTarget, deleteOwnedCluster } from '../../../clusters/index.js';
import type { TargetEnvironment } from '../../../clusters/target.js';
import { invalidInput, EXIT_CODES } from '../../model/errors.js';
import type { CliArgs } from '../args.js';
import { untilStopped } from '../interrupts.js';
import { stateDir } from '../../util/state-dir.js';

interface ClusterState {
  target: string;
  pid: number;
  kubeconfig: string;
  apiUrl?: string;
  prometheusUrl: string;
  ingressUrl: string;
  startedAt: string;
}

/** Per user, not per directory: `cluster down` must find the cluster wherever it is run from. */
export { stateDir };

const stateFile = (target: string): string => join(stateDir(), `cluster-${target}.json`);

function readState(target: string): ClusterState | undefined {
  const file = stateFile(target);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function serverOf(kubeconfigText: string): string | undefined {
  return /server:\s*(\S+)/.exec(kubeconfigText)?.[1];
}

export async function clusterCommand(args: CliArgs): Promise<number> {
  const [action] = args.positionals;
  switch (action) {
    case 'up':
      return clusterUp(args);
    case 'down':
      return clusterDown(args);
    case 'status':
      return clusterStatus(args);
    default:
      throw invalidInput(
        `cluster: expected up, down or status, got ${action === undefined ? 'nothing' : `"${action}"`}`,
      );
  }
}

async function clusterUp(args: CliArgs): Promise<number> {
  const existing = readState(args.target);
  if (existing && alive(existing.pid) && args.target === 'local') {
    throw invalidInput(
      `a local cluster is already up (pid ${existing.pid}); stop it with: meshdrill cluster down --target local`,
    );
  }
  checkIstioVersions(args.target, args.istio);
  const workDir = await mkdtemp(join(tmpdir(), `meshdrill-cluster-${args.target}-`));
  const foreground = args.target === 'local';
  const target = createTarget(args.target, {
    workDir,
    settings: { ...args.targetOpts, ...(foreground ? {} : { keep: 'true' }) },
  });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const env = await target.provision({
      workDir,
      ruleFiles: [],
      settings: args.targetOpts,
      onProgress: (m: string) => console.error(m),
      signal: stop.signal,
      ...(args.istio[0] ? { istioVersion: args.istio[0] } : {}),
    });
    const { kubeconfig, apiUrl } = await recordClusterState(args, env);
    printEndpoints(env, kubeconfig, apiUrl);
    if (!foreground) return EXIT_CODES.passed;
    console.log(`export KUBECONFIG=${kubeconfig}   # then kubectl get pods -A; Ctrl-C stops the cluster`);
    await untilStopped(stop.signal);
    console.error('stopping the local cluster…');
    return EXIT_CODES.passed;
  } finally {
    if (foreground) {
      await target.teardown();
      await rm(stateFile(args.target), { force: true });
      await rm(workDir, { recursive: true, force: true });
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Copies the kubeconfig where the user asked (or the state dir) and writes the state `cluster down` reads. */
async function recordClusterState(
  args: CliArgs,
  env: TargetEnvironment,
): Promise<{ kubeconfig: string; apiUrl: string | undefined }> {
  const kubeconfig = resolve(args.kubeconfig ?? join(stateDir(), `kubeconfig-${args.target}`));
  await mkdir(dirname(kubeconfig), { recursive: true });
  await copyFile(env.kubeconfigPath, kubeconfig);
  const apiUrl = serverOf(readFileSync(kubeconfig, 'utf8'));
  const state: ClusterState = {
    target: args.target,
    pid: process.pid,
    kubeconfig,
    ...(apiUrl ? { apiUrl } : {}),
    prometheusUrl: env.prometheusUrl,
    ingressUrl: env.ingressUrl,
    startedAt: new Date().toISOString(),
  };
  await mkdir(dirname(stateFile(args.target)), { recursive: true });
  await writeFile(stateFile(args.target), JSON.stringify(state, null, 2));
  return { kubeconfig, apiUrl };
}

function printEndpoints(env: TargetEnvironment, kubeconfig: string, apiUrl: string | undefined): void {
  console.log(`api:        ${apiUrl ?? '(see kubeconfig)'}`);
  console.log(`prometheus: ${env.prometheusUrl}`);
  console.log(`ingress:    ${env.ingressUrl}`);
  console.log(`kubeconfig: ${kubeconfig}`);
  console.log(
    `versions:   ${Object.entries(env.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
}

async function clusterDown(args: CliArgs): Promise<number> {
  const state = readState(args.target);
  if (args.target === 'local') {
    if (!state || !alive(state.pid)) {
      await rm(stateFile(args.target), { force: true });
      console.log('no local cluster is up');
      return EXIT_CODES.passed;
    }
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (alive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(state.pid)) {
      console.error(`the local cluster (pid ${state.pid}) did not stop within 30 s`);
      return EXIT_CODES.cleanupFailed;
    }
    console.log('local cluster stopped');
    return EXIT_CODES.passed;
  }
  const workDir = await mkdtemp(join(tmpdir(), `meshdrill-cluster-${args.target}-`));
  try {
    const result = await deleteOwnedCluster(args.target, { workDir, settings: args.targetOpts });
    await rm(stateFile(args.target), { force: true });
    console.log(result.detail);
    return EXIT_CODES.passed;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function clusterStatus(args: CliArgs): Promise<number> {
  const state = readState(args.target);
  if (!state || (args.target === 'local' && !alive(state.pid))) {
    console.log(
      `no ${args.target} cluster is up (start one with: meshdrill cluster up --target ${args.target})`,
    );
    return EXIT_CODES.environment;
  }
  let reachable = false;
  if (state.apiUrl) {
    try {
      // The kubeconfig skips TLS verification for the local target's self-signed certificate; so does this probe.
      const response = await request(`${state.apiUrl}/version`, {
        dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
        headersTimeout: 3000,
      });
      await response.body.dump();
      reachable = response.statusCode === 200 || response.statusCode === 401;
    } catch {
      reachable = false;
    }
  }
  console.log(
    `${args.target} cluster: ${reachable ? 'up' : 'NOT REACHABLE'} (since ${state.startedAt}, pid ${state.pid})`,
  );
  console.log(
    `api:        ${state.apiUrl ?? '?'}\nprometheus: ${state.prometheusUrl}\ningress:    ${state.ingressUrl}\nkubeconfig: ${state.kubeconfig}`,
  );
  return reachable ? 0 : 3;
}
