// A stand-in for a user's Alertmanager on 127.0.0.1: GET /api/v2/status and /api/v2/alerts answered in the v2
// API's JSON shape (as the real 0.25 binary answers them: status with config.original as a YAML string, alerts
// with fingerprint, receivers [{name}] and status {state, inhibitedBy, silencedBy}), the alerts filtered by the
// `filter=alertname="X"` matcher the way the real API filters them. Records each request's path.

import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAmAlert {
  labels: Record<string, string>;
  startsAt: string;
  receivers: string[];
  state?: 'active' | 'suppressed' | 'unprocessed';
  inhibitedBy?: string[];
  silencedBy?: string[];
}

export interface FakeAlertmanager {
  url: string;
  requests: string[];
  alerts: FakeAmAlert[];
  stop(): Promise<void>;
}

export async function startFakeAlertmanager(
  configYaml: string,
  version = '0.28.1',
): Promise<FakeAlertmanager> {
  const requests: string[] = [];
  const alerts: FakeAmAlert[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/api/v2/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          cluster: { peers: [], status: 'disabled' },
          config: { original: configYaml },
          uptime: new Date().toISOString(),
          versionInfo: {
            branch: 'HEAD',
            buildDate: '',
            buildUser: '',
            goVersion: 'go1.23',
            revision: '',
            version,
          },
        }),
      );
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/v2/alerts') {
      const matchers = url.searchParams.getAll('filter').map((f) => /^(\w+)="(.*)"$/.exec(f));
      const body = alerts
        .filter((a) => matchers.every((m) => m !== null && a.labels[m[1] as string] === m[2]))
        .map((a, i) => ({
          annotations: {},
          endsAt: new Date(Date.parse(a.startsAt) + 300_000).toISOString(),
          fingerprint: `f${i.toString(16).padStart(15, '0')}`,
          receivers: a.receivers.map((name) => ({ name })),
          startsAt: a.startsAt,
          status: {
            inhibitedBy: a.inhibitedBy ?? [],
            silencedBy: a.silencedBy ?? [],
            state: a.state ?? 'active',
          },
          updatedAt: a.startsAt,
          labels: a.labels,
        }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    alerts,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
