// Starts the real Alertmanager (Debian's prometheus-alertmanager) for the local target: no clustering, state in
// the work dir, every notification to meshdrill's webhook receiver; stopped by PID with the rest of the target.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../../harness/exec/index.js';
import { environmentError } from '../../../harness/model/index.js';
import { buildAlertmanagerConfig, renderScenarioRouting } from '../../shared/index.js';
import { startHostDaemon } from '../host-daemon.js';

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

/**
 * One Alertmanager: meshdrill's routing (buildAlertmanagerConfig), or a scenario's when `routing` is given
 * (renderScenarioRouting: its integrations replaced by the webhook), in its own directory under `workDir`.
 */
export async function startAlertmanager(options: {
  workDir: string;
  webhookBaseUrl: string;
  routing?: { id: string; yaml: string };
  binary?: string;
  readyTimeoutMs?: number;
}): Promise<AlertmanagerInstance> {
  const binary = options.binary ?? (await which('prometheus-alertmanager')) ?? (await which('alertmanager'));
  if (!binary) {
    throw environmentError(
      'the local target needs Alertmanager (`prometheus-alertmanager`), and it is not on PATH',
      { hint: ALERTMANAGER_INSTALL_HINT },
    );
  }
  const { routing } = options;
  const name = routing ? `alertmanager-${routing.id}` : 'alertmanager';
  const dir = join(options.workDir, name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(
    configFile,
    routing
      ? renderScenarioRouting(routing, options.webhookBaseUrl)
      : buildAlertmanagerConfig(options.webhookBaseUrl),
  );
  const daemon = await startHostDaemon({
    name,
    binary,
    dir,
    args: (address) => [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`,
      // One instance, no gossip: clustering would listen on 0.0.0.0:9094 and wait for peers.
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    installHint: ALERTMANAGER_INSTALL_HINT,
  });
  const status = (await fetch(`${daemon.url}/api/v2/status`)
    .then((r) => r.json())
    .catch(() => ({}))) as { versionInfo?: { version?: string } };
  return {
    url: daemon.url,
    address: daemon.address,
    pid: daemon.pid,
    version: status.versionInfo?.version ?? 'unknown',
    stop: () => daemon.stop(),
  };
}
