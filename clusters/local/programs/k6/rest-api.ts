// k6's REST API (`--address`), the part the k6-operator uses: GET /v1/status (the runner's readiness probe and
// the operator's readiness check) and PATCH /v1/status (the starter un-pauses each runner; `stopped: true` ends
// the test). Bodies are k6's JSON:API shapes (api/v1/status.go).

import http from 'node:http';

/** k6's lib.ExecutionStatus values the stand-in passes through. */
export const EXECUTION_STATUS = { initDone: 3, pausedBeforeRun: 4, running: 7, ended: 9 } as const;

export interface RunState {
  status: number;
  paused: boolean;
  vus: number;
  vusMax: number;
  stopped: boolean;
  running: boolean;
}

export interface RunControl {
  state(): RunState;
  /** Returns an error message when the change is not possible. */
  setPaused(paused: boolean): string | undefined;
  stop(): void;
}

/** `--address` as k6 takes it ("host:port"); 0.0.0.0 means the pod's own IP here (pods share the host). */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = colon < 0 ? '' : address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(colon < 0 ? address : address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --address "${address}"`);
  const podIp = process.env.MESHDRILL_POD_IP ?? '127.0.0.1';
  return { host: host === '' || host === '0.0.0.0' || host === '::' ? podIp : host, port };
}

function statusBody(state: RunState): string {
  return JSON.stringify({
    data: {
      type: 'status',
      id: 'default',
      attributes: {
        status: state.status,
        paused: state.paused,
        vus: state.vus,
        'vus-max': state.vusMax,
        stopped: state.stopped,
        running: state.running,
        tainted: false,
      },
    },
  });
}

function apiError(res: http.ServerResponse, status: number, title: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ status: String(status), title, detail }] }));
}

const MAX_BODY = 64 * 1024;

export function startRestApi(
  address: { host: string; port: number },
  control: RunControl,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/v1/status') {
      apiError(res, 404, 'Not Found', `the k6 stand-in serves only /v1/status, not ${path}`);
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(statusBody(control.state()));
      return;
    }
    if (req.method !== 'PATCH') {
      apiError(res, 405, 'Method Not Allowed', `${req.method} /v1/status: use GET or PATCH`);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      let attributes: { paused?: unknown; stopped?: unknown };
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { attributes?: object } };
        attributes = (body.data?.attributes ?? {}) as typeof attributes;
      } catch (error) {
        apiError(res, 400, 'Invalid data', (error as Error).message);
        return;
      }
      if (attributes.stopped === true) control.stop();
      else if (typeof attributes.paused === 'boolean') {
        const problem = control.setPaused(attributes.paused);
        if (problem) {
          apiError(res, 400, 'Pause error', problem);
          return;
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(statusBody(control.state()));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}
