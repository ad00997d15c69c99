// Reads the user's Alertmanager (`--target-opt alertmanager=URL`) through its v2 API: its version, and the
// routing of the configuration it runs now — not a copy the user might have edited since. Meshdrill sends it
// nothing and configures nothing: notification signals are judged from what it shows (docs/targets.md).

import { MeshdrillError } from '../../harness/model/index.js';
import { type AlertmanagerRouting, readAlertmanagerRouting } from '../shared/index.js';

export interface UserAlertmanager extends AlertmanagerRouting {
  url: string;
  version: string;
}

interface StatusBody {
  config?: { original?: unknown };
  versionInfo?: { version?: unknown };
}

export async function readUserAlertmanager(url: string, timeoutMs: number): Promise<UserAlertmanager> {
  const statusUrl = `${url}/api/v2/status`;
  const hint =
    'pass the base URL of an Alertmanager v2 API reachable from this host (e.g. `kubectl port-forward svc/alertmanager 9093` and alertmanager=http://127.0.0.1:9093), or leave the setting out: notification signals are then not judged';
  let body: StatusBody;
  try {
    const response = await fetch(statusUrl, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = (await response.json()) as StatusBody;
  } catch (error) {
    throw new MeshdrillError(
      'environment',
      `--target-opt alertmanager: GET ${statusUrl} failed: ${error instanceof Error ? error.message : String(error)}`,
      { hint, cause: error },
    );
  }
  const original = body.config?.original;
  if (typeof original !== 'string') {
    throw new MeshdrillError(
      'environment',
      `--target-opt alertmanager: ${statusUrl} answered without \`config.original\`; is it an Alertmanager?`,
      { hint },
    );
  }
  let routing: AlertmanagerRouting;
  try {
    routing = readAlertmanagerRouting(original);
  } catch (error) {
    throw new MeshdrillError(
      'environment',
      `--target-opt alertmanager: cannot read the routing of the configuration ${url} runs: ${error instanceof Error ? error.message : String(error)}`,
      { hint, cause: error },
    );
  }
  const version = typeof body.versionInfo?.version === 'string' ? body.versionInfo.version : 'unknown';
  return { url, version, ...routing };
}
