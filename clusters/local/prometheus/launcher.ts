// Starts the real `prometheus` binary for the local target (lifecycle API on, storage in the work dir),
// keeps its file-based pod discovery current from the store, and stops it by PID.

import { mkdirSync, openSync, readFileSync, renameSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../../harness/exec/index.js';
import { environmentError } from '../../../harness/model/errors.js';
import type { Pod } from '../controllers/kube-types.js';
import { freePort } from '../free-port.js';
import { RESOURCES } from '../controllers/resources.js';
import { isAlive, signalTree, spawnGroup } from '../kubelet/process-group.js';
import type { ObjectStore } from '../store/types.js';
import { buildPodTargets, buildPrometheusConfig } from './config.js';

export interface PrometheusOptions {
  store: ObjectStore;
  workDir: string;
  ruleFiles: string[];
  scrapeIntervalMs?: number;
  evaluationIntervalMs?: number;
  /** Default: PATH lookup of `prometheus`. */
  binary?: string;
  /** host:port of the Alertmanager to send alerts to. */
  alertmanagerAddress?: string;
  readyTimeoutMs?: number;
}

export interface PrometheusInstance {
  url: string;
  pid: number;
  version: string;
  scrapeIntervalMs: number;
  evaluationIntervalMs: number;
  /** Rewrites the configuration with these rule files and reloads through the lifecycle API. */
  reload(ruleFiles?: string[]): Promise<void>;
  stop(): Promise<void>;
}

export const INSTALL_HINT =
  'install it with `sudo apt-get install prometheus` (Debian/Ubuntu) or run `make setup`';

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Starts with another port when the chosen one was taken between choosing and binding (freePort closes its probe
 * before Prometheus listens; with clusters booting side by side another process can bind it meanwhile).
 */
const PORT_ATTEMPTS = 3;

export async function startPrometheus(options: PrometheusOptions, attempt = 1): Promise<PrometheusInstance> {
  const binary = options.binary ?? (await which('prometheus'));
  if (!binary) {
    throw environmentError('the local target needs the `prometheus` binary, and it is not on PATH', {
      hint: INSTALL_HINT,
    });
  }
  const dir = join(options.workDir, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const scrapeIntervalMs = options.scrapeIntervalMs ?? 1000;
  const evaluationIntervalMs = options.evaluationIntervalMs ?? 1000;
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  const configFile = join(dir, 'prometheus.yml');
  const targetsFile = join(dir, 'pod-targets.json');
  let ruleFiles = [...options.ruleFiles];
  const writeConfig = (): void =>
    writeAtomic(
      configFile,
      buildPrometheusConfig({
        scrapeIntervalMs,
        evaluationIntervalMs,
        ruleFiles,
        podTargetsFile: targetsFile,
        selfAddress: address,
        ...(options.alertmanagerAddress ? { alertmanagerAddress: options.alertmanagerAddress } : {}),
      }),
    );
  let lastTargets = '';
  const writeTargets = (): void => {
    const text = `${JSON.stringify(buildPodTargets(options.store.list(RESOURCES.pods).items as Pod[]), null, 1)}\n`;
    if (text === lastTargets) return;
    lastTargets = text;
    writeAtomic(targetsFile, text);
  };
  writeConfig();
  writeTargets();

  const logFile = join(dir, 'prometheus.log');
  const logFd = openSync(logFile, 'a');
  const child = spawnGroup(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`,
      '--web.enable-lifecycle',
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ],
    { env: process.env as Record<string, string>, cwd: dir, outputFd: logFd },
  );
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw environmentError(`could not start ${binary}`, { hint: INSTALL_HINT });
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  child.on('error', () => undefined);

  // Pod changes are batched for 50 ms before the targets file is rewritten. Stopping cancels a pending
  // rewrite: the work dir may be removed right after stop(), and a late write would throw ENOENT.
  let pendingWrite: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    stopped = true;
    watch.stop();
    if (pendingWrite) clearTimeout(pendingWrite);
    pendingWrite = undefined;
    if (exited) return;
    signalTree(pid, 'SIGTERM');
    const hard = setTimeout(() => signalTree(pid, 'SIGKILL'), 5000);
    await exitedPromise;
    clearTimeout(hard);
  };

  const watch = options.store.watch(
    RESOURCES.pods,
    { sinceResourceVersion: options.store.currentResourceVersion() },
    () => {
      if (pendingWrite || stopped) return;
      pendingWrite = setTimeout(() => {
        pendingWrite = undefined;
        if (!stopped) writeTargets();
      }, 50);
    },
  );

  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (exited || !isAlive(pid)) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      await stop();
      if (/address already in use/.test(tail) && attempt < PORT_ATTEMPTS) {
        return startPrometheus(options, attempt + 1);
      }
      throw environmentError(`prometheus exited during start-up (${binary}):\n${tail}`, {
        hint: 'see ' + logFile,
      });
    }
    const ok = await fetch(`${url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw environmentError(
        `prometheus did not become ready at ${url} within ${options.readyTimeoutMs ?? 15_000} ms`,
        { hint: 'see ' + logFile },
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const info = (await fetch(`${url}/api/v1/status/buildinfo`)
    .then((r) => r.json())
    .catch(() => ({}))) as { data?: { version?: string } };

  return {
    url,
    pid,
    version: info.data?.version ?? 'unknown',
    scrapeIntervalMs,
    evaluationIntervalMs,
    async reload(next?: string[]): Promise<void> {
      if (next) ruleFiles = [...next];
      writeConfig();
      const res = await fetch(`${url}/-/reload`, { method: 'POST' });
      if (!res.ok) {
        throw environmentError(
          `prometheus rejected the reload (HTTP ${res.status}): ${(await res.text()).trim()}`,
          {
            hint: 'check the rule files with `promtool check rules FILE`',
          },
        );
      }
    },
    stop,
  };
}
