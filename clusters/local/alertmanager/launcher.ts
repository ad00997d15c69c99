// Starts the real Alertmanager (Debian's prometheus-alertmanager) for the local target: no clustering, state in
// the work dir, every notification to meshdrill's webhook receiver; stopped by PID with the rest of the target.

import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../../harness/exec/index.js';
import { environmentError } from '../../../harness/model/errors.js';
import { buildAlertmanagerConfig } from '../../shared/alertmanager/config.js';
import { freePort } from '../free-port.js';
import { isAlive, signalTree, spawnGroup } from '../kubelet/process-group.js';

export interface AlertmanagerInstance {
  url: string;
  /** host:port, for Prometheus' alerting configuration. */
  address: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

export const ALERTMANAGER_INSTALL_HINT =
  'install it with `sudo apt-get install prometheus-alertmanager` (Debian/Ubuntu) or run `make setup`';

const PORT_ATTEMPTS = 3;

export async function startAlertmanager(
  options: { workDir: string; webhookBaseUrl: string; binary?: string; readyTimeoutMs?: number },
  attempt = 1,
): Promise<AlertmanagerInstance> {
  const binary = options.binary ?? (await which('prometheus-alertmanager')) ?? (await which('alertmanager'));
  if (!binary) {
    throw environmentError(
      'the local target needs Alertmanager (`prometheus-alertmanager`), and it is not on PATH',
      {
        hint: ALERTMANAGER_INSTALL_HINT,
      },
    );
  }
  const dir = join(options.workDir, 'alertmanager');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, buildAlertmanagerConfig(options.webhookBaseUrl));
  const address = `127.0.0.1:${await freePort()}`;
  const url = `http://${address}`;
  const logFile = join(dir, 'alertmanager.log');
  const logFd = openSync(logFile, 'a');
  const child = spawnGroup(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`,
      // One instance, no gossip: clustering would listen on 0.0.0.0:9094 and wait for peers.
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { env: process.env as Record<string, string>, cwd: dir, outputFd: logFd },
  );
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined)
    throw environmentError(`could not start ${binary}`, { hint: ALERTMANAGER_INSTALL_HINT });
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  child.on('error', () => undefined);
  const stop = async (): Promise<void> => {
    if (exited) return;
    signalTree(pid, 'SIGTERM');
    const hard = setTimeout(() => signalTree(pid, 'SIGKILL'), 5000);
    await exitedPromise;
    clearTimeout(hard);
  };

  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited || !isAlive(pid)) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      await stop();
      if (/address already in use/.test(tail) && attempt < PORT_ATTEMPTS)
        return startAlertmanager(options, attempt + 1);
      throw environmentError(`alertmanager exited during start-up (${binary}):\n${tail}`, {
        hint: `see ${logFile}`,
      });
    }
    const ready = await fetch(`${url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw environmentError(`alertmanager did not become ready at ${url} within ${timeoutMs} ms`, {
        hint: `see ${logFile}`,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const status = (await fetch(`${url}/api/v2/status`)
    .then((r) => r.json())
    .catch(() => ({}))) as { versionInfo?: { version?: string } };
  return { url, address, pid, version: status.versionInfo?.version ?? 'unknown', stop };
}
