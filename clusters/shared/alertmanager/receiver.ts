// The webhook receiver every notification of meshdrill's Alertmanager (local, kind) reaches: it records each
// delivery with the time it arrived (what a pager would have shown the on-call), and lists them for the harness.
// POST /hook/<receiver> (meshdrill's routing) or /hook/<routing id>/<receiver> (a scenario's routing,
// clusters/shared/alertmanager/config.ts) takes Alertmanager's webhook payload (version 4); GET /notifications
// answers the list.

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedNotification {
  receiver: string;
  /** The scenario routing whose Alertmanager sent it; absent for meshdrill's own routing. */
  routing?: string;
  /** Epoch ms when it arrived here. */
  receivedAt: number;
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; startsAt: string }[];
}

export interface NotificationReceiver {
  /** Base URL; Alertmanager posts to `${url}/hook/<receiver>`. */
  url: string;
  received(): readonly ReceivedNotification[];
  stop(): Promise<void>;
}

/** At most this many notifications are kept (a drill sees a handful; a runaway loop must not grow memory). */
const MAX_KEPT = 10_000;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 4 * 1024 * 1024) throw new Error('payload too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Listens on `host` (127.0.0.1 unless told): anyone who can reach it can record a notification, so it listens
 * only where the Alertmanager is — this host for the local target, the kind network's gateway for kind.
 */
export async function startNotificationReceiver(host = '127.0.0.1'): Promise<NotificationReceiver> {
  const notifications: ReceivedNotification[] = [];
  const server = createServer((req, res) => {
    const hook = /^\/hook\/(?:([^/?]+)\/)?([^/?]+)$/.exec(req.url ?? '');
    if (req.method === 'POST' && hook) {
      const receivedAt = Date.now();
      readBody(req)
        .then((text) => {
          const payload = JSON.parse(text) as Omit<ReceivedNotification, 'receiver' | 'receivedAt'>;
          notifications.push({
            receiver: decodeURIComponent(hook[2] ?? ''),
            ...(hook[1] === undefined ? {} : { routing: decodeURIComponent(hook[1]) }),
            receivedAt,
            status: payload.status,
            alerts: (payload.alerts ?? []).map((a) => ({
              status: a.status,
              labels: a.labels,
              startsAt: a.startsAt,
            })),
          });
          if (notifications.length > MAX_KEPT) notifications.shift();
          res.writeHead(200).end();
        })
        .catch((error: unknown) => res.writeHead(400).end(String(error)));
      return;
    }
    if (req.method === 'GET' && req.url === '/notifications') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(notifications));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    received: () => notifications,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
