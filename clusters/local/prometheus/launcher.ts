// Starts the real `prometheus` binary for the local target through the host-daemon door (lifecycle API on,
// storage in the work dir), keeps its file-based pod discovery current from the store, and stops it by PID.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../../harness/exec/index.js';
import { environmentError } from '../../../harness/model/index.js';
import type { Pod } from '../controllers/kube-types.js';
import { RESOURCES } from '../controllers/resources.js';
import { startHostDaemon } from '../host-daemon.js';
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
  /** host:port of each Alertmanager to send alerts to. */
  alertmanagerAddresses?: string[];
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

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusInstance> {
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
  const configFile = join(dir, 'prometheus.yml');
  const targets = podTargetsFile(options.store, join(dir, 'pod-targets.json'));
  let ruleFiles = [...options.ruleFiles];
  let selfAddress = '';
  const writeConfig = (): void =>
    writeAtomic(
      configFile,
      buildPrometheusConfig({
        scrapeIntervalMs,
        evaluationIntervalMs,
        ruleFiles,
        podTargetsFile: targets.file,
        selfAddress,
        ...(options.alertmanagerAddresses ? { alertmanagerAddresses: options.alertmanagerAddresses } : {}),
      }),
    );
  const daemon = await startHostDaemon({
    name: 'prometheus',
    binary,
    dir,
    prepare(address) {
      selfAddress = address;
      writeConfig();
      targets.write();
    },
    args: (address) => [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`,
      '--web.enable-lifecycle',
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ],
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    installHint: INSTALL_HINT,
  });
  // Pods that changed while it started are in the targets file from here on.
  targets.follow();
  const { url } = daemon;
  const info = (await fetch(`${url}/api/v1/status/buildinfo`)
    .then((r) => r.json())
    .catch(() => ({}))) as { data?: { version?: string } };

  return {
    url,
    pid: daemon.pid,
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
    async stop() {
      targets.stop();
      await daemon.stop();
    },
  };
}

/**
 * Prometheus's file-based pod discovery, kept current from the store: pod changes are batched for 50 ms before
 * the file is rewritten. Stopping cancels a pending rewrite: the work dir may be removed right after stop(), and a
 * late write would throw ENOENT.
 */
function podTargetsFile(store: ObjectStore, file: string) {
  let last = '';
  let pendingWrite: NodeJS.Timeout | undefined;
  let stopped = false;
  let watch: { stop(): void } | undefined;
  const write = (): void => {
    const text = `${JSON.stringify(buildPodTargets(store.list(RESOURCES.pods).items as Pod[]), null, 1)}\n`;
    if (text === last) return;
    last = text;
    writeAtomic(file, text);
  };
  return {
    file,
    write,
    follow(): void {
      if (stopped) return;
      write();
      watch = store.watch(RESOURCES.pods, { sinceResourceVersion: store.currentResourceVersion() }, () => {
        if (pendingWrite || stopped) return;
        pendingWrite = setTimeout(() => {
          pendingWrite = undefined;
          if (!stopped) write();
        }, 50);
      });
    },
    stop(): void {
      stopped = true;
      watch?.stop();
      if (pendingWrite) clearTimeout(pendingWrite);
      pendingWrite = undefined;
    },
  };
}
