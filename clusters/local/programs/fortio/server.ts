// The `fortio server` emulation: echo on every path (with the echo query parameters), /debug, the UI fetch
// proxies under /fortio/fetch/ and /fortio/fetch2/, the https redirector, -M multi-servers and -P TCP proxies.

import { connect, createServer as createTcpServer } from 'node:net';
import { hostname } from 'node:os';
import { resolveClusterHost } from '../lib/cluster-dns.js';
import {
  createHttp1Server,
  type Http1Server,
  type ServerRequest,
  type ServerResponse,
} from '../lib/http1/index.js';
import { sendOutbound } from '../lib/outbound-http.js';
import {
  generateClose,
  generateDelay,
  generateSize,
  generateStatus,
  parseHeaderParams,
} from './echo-params.js';

export const FORTIO_VERSION = '1.69.0';

export interface ServerConfig {
  httpPort: string;
  redirectPort: string;
  debugPath: string;
  uiPath: string;
  echoDefaultParams: string;
  maxEchoDelayMs: number;
  maxPayloadBytes: number;
  multi: string[];
  multiSerial: boolean;
  multiMirrorOrigin: boolean;
  tcpProxies: string[];
}

const TRACE_HEADERS = /^(x-request-id|b3|x-b3-.*|traceparent|tracestate)$/i;
const startTime = Date.now();

export function log(level: 'info' | 'warn' | 'err', msg: string, extra: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ ts: Date.now() / 1000, level, msg, ...extra });
  if (level === 'info') process.stdout.write(`${line}\n`);
  else process.stderr.write(`${line}\n`);
}

/** fortio's listen address rule: a bare port listens on every address — here, the pod's own IP. */
export function listenAddress(port: string): { host: string; port: number } {
  const podIp = process.env.MESHDRILL_POD_IP ?? '127.0.0.1';
  const colon = port.lastIndexOf(':');
  if (colon < 0) return { host: podIp, port: Number(port) };
  const host = port.slice(0, colon).replace(/^\[|\]$/g, '');
  return {
    host: host === '' || host === '0.0.0.0' || host === '::' ? podIp : host,
    port: Number(port.slice(colon + 1)),
  };
}

function payload(size: number): Buffer {
  // fortio sends a fixed pseudo-random text payload; any deterministic bytes serve the same purpose.
  const pattern = Buffer.from('Φορτίο fortio payload 0123456789abcdefghijklmnopqrstuvwxyz\n');
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += pattern.length) pattern.copy(out, i, 0, Math.min(pattern.length, size - i));
  return out;
}

async function handleEcho(config: ServerConfig, req: ServerRequest, res: ServerResponse): Promise<void> {
  let rawUrl = req.url ?? '/';
  if (!rawUrl.includes('?') && config.echoDefaultParams !== '')
    rawUrl = `${rawUrl}?${config.echoDefaultParams}`;
  const url = new URL(rawUrl, 'http://echo');
  const body = req.body;
  const q = (name: string): string => url.searchParams.get(name) ?? '';
  const delay = generateDelay(q('delay'), config.maxEchoDelayMs);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  const status = q('status') === '' ? 200 : generateStatus(q('status'));
  if (generateClose(q('close'))) res.setHeader('Connection', 'close');
  for (const [k, v] of parseHeaderParams(url.searchParams.getAll('header'))) res.appendHeader(k, v);
  const size = generateSize(q('size'), config.maxPayloadBytes);
  if (size >= 0) {
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(size));
    res.writeHead(status);
    res.end(payload(size));
    return;
  }
  for (const k of ['content-type', 'content-length']) {
    const v = req.headers[k];
    if (typeof v === 'string') res.setHeader(k, v);
  }
  res.writeHead(status);
  res.end(body);
}

async function handleDebug(req: ServerRequest, res: ServerResponse): Promise<void> {
  const body = req.body;
  const url = new URL(req.url ?? '/', 'http://debug');
  const distinct = new Map<string, string[]>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    distinct.set(name, [...(distinct.get(name) ?? []), raw[i + 1] as string]);
  }
  const upFor = Math.round((Date.now() - startTime) / 100) / 10;
  const headerLines = Object.keys(req.headers)
    .filter((k) => k !== 'host')
    .map((k) => k.replace(/(^|-)(\w)/g, (_m, d: string, c: string) => d + c.toUpperCase()))
    .sort()
    .map((k) => `${k}: ${(distinct.get(k.toLowerCase()) ?? []).join(',')}`);
  let text =
    `Φορτίο version ${FORTIO_VERSION} echo debug server up for ${upFor}s on ${hostname()} - request from ${req.socket.remoteAddress}:${req.socket.remotePort}\n\n` +
    `${req.method} ${req.url} HTTP/${req.httpVersion}\n\nheaders:\n\nHost: ${req.headers.host ?? ''}\n${headerLines.join('\n')}` +
    `\n\nbody:\n\n${body.subarray(0, 512).toString('utf8')}\n`;
  if (url.searchParams.get('env') === 'dump') {
    text += `\nenvironment:\n\n${Object.entries(process.env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`;
  }
  res.setHeader('Content-Type', 'text/plain; charset=UTF-8');
  res.end(text);
}

function onBehalfOf(req: ServerRequest, headers: Record<string, string | string[]>): void {
  headers['x-on-behalf-of'] = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
}

function copyHeaders(req: ServerRequest, all: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === 'host' || k === 'content-length' || k === 'connection') continue;
    if (all || TRACE_HEADERS.test(k)) out[k] = v;
  }
  return out;
}

async function handleFetch(config: ServerConfig, req: ServerRequest, res: ServerResponse): Promise<void> {
  const path = req.url ?? '';
  const fetch2 = `${config.uiPath}fetch2/`;
  let target: string | undefined;
  if (path.startsWith(fetch2)) {
    target = new URL(path, 'http://ui').searchParams.get('url')?.trim();
    if (!target) {
      res.writeHead(400).end('missing url query argument\n');
      return;
    }
  } else {
    target = path.slice(`${config.uiPath}fetch/`.length);
  }
  if (!/^https?:\/\//.test(target)) target = `http://${target}`;
  const headers = copyHeaders(req, true);
  onBehalfOf(req, headers);
  try {
    const out = await sendOutbound({ url: target, headers, timeoutMs: 5 * 60_000 });
    for (const [k, v] of Object.entries(out.headers)) {
      if (v !== undefined && k !== 'transfer-encoding' && k !== 'connection') res.setHeader(k, v);
    }
    res.writeHead(out.status).end(out.body);
  } catch (error) {
    res.writeHead(400).end(`Error for "${target}": ${(error as Error).message}\n`);
  }
}

function startHttp(
  address: { host: string; port: number },
  handler: (req: ServerRequest, res: ServerResponse) => Promise<void>,
  name: string,
): Http1Server {
  const server = createHttp1Server((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  server.on('error', (error) => {
    log('err', `Unable to serve ${name} on ${address.host}:${address.port}: ${error.message}`);
    process.exit(1);
  });
  server.listen(address.port, address.host, () => {
    log('info', `Fortio ${FORTIO_VERSION} ${name} listening on tcp ${address.host}:${address.port}`);
  });
  return server;
}

async function handleMulti(
  config: ServerConfig,
  destinations: string[],
  req: ServerRequest,
  res: ServerResponse,
): Promise<void> {
  const data = req.body;
  const requests = destinations.map((dest, i) => {
    const base = /^https?:\/\//.test(dest) ? dest : `http://${dest}`;
    const url = config.multiMirrorOrigin ? base.replace(/\/$/, '') + (req.url ?? '/') : base;
    const headers = copyHeaders(req, config.multiMirrorOrigin);
    onBehalfOf(req, headers);
    headers['x-fortio-multi-id'] = String(i + 1);
    return {
      url,
      method: config.multiMirrorOrigin ? (req.method ?? 'GET') : 'GET',
      headers,
      ...(config.multiMirrorOrigin ? { body: data } : {}),
    };
  });
  const one = async (r: (typeof requests)[number]): Promise<{ status: number; body: Buffer }> => {
    try {
      const out = await sendOutbound(r);
      return { status: out.status, body: out.body };
    } catch (error) {
      return { status: -1, body: Buffer.from(`Error for ${r.url}: ${(error as Error).message}\n`) };
    }
  };
  let results: { status: number; body: Buffer }[];
  if (config.multiSerial) {
    results = [];
    for (const r of requests) results.push(await one(r));
    // Serial mode answers with the first target's status.
    const first = results[0]?.status ?? -1;
    res.writeHead(first > 0 ? first : 503);
  } else {
    results = await Promise.all(requests.map(one));
    // Parallel mode: OK only if all OK; the first non-OK status wins.
    const bad = results.find((r) => r.status !== 200);
    const status = bad === undefined ? 200 : bad.status > 0 ? bad.status : 503;
    res.writeHead(status);
  }
  res.end(Buffer.concat(results.map((r) => r.body)));
}

function startTcpProxy(spec: string): void {
  const [local, dest] = spec.trim().split(/\s+/);
  if (!local || !dest) {
    log('err', `Invalid -P proxy spec "${spec}": expected "localport destination:port"`);
    process.exit(1);
  }
  const address = listenAddress(local);
  const colon = dest.lastIndexOf(':');
  const destHost = dest.slice(0, colon);
  const destPort = Number(dest.slice(colon + 1));
  const server = createTcpServer((client) => {
    const upstream = connect(destPort, resolveClusterHost(destHost));
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.listen(address.port, address.host, () =>
    log('info', `Fortio ${FORTIO_VERSION} proxy listening on tcp ${address.host}:${address.port} to ${dest}`),
  );
}

export function startServer(config: ServerConfig): void {
  const debugPath = config.debugPath;
  startHttp(
    listenAddress(config.httpPort),
    async (req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path.startsWith(`${config.uiPath}fetch/`) || path.startsWith(`${config.uiPath}fetch2/`))
        return handleFetch(config, req, res);
      if (debugPath !== '' && path.startsWith(`${debugPath.replace(/\/$/, '')}/echo/`))
        return handleEcho(config, req, res);
      if (debugPath !== '' && path === debugPath) return handleDebug(req, res);
      return handleEcho(config, req, res);
    },
    'echo server',
  );
  if (config.redirectPort !== 'disabled' && config.redirectPort !== '') {
    startHttp(
      listenAddress(config.redirectPort),
      async (req, res) => {
        res.writeHead(303, { Location: `https://${req.headers.host ?? ''}${req.url ?? '/'}` }).end();
      },
      'https redirector',
    );
  }
  for (const spec of config.multi) {
    const [local, ...destinations] = spec.trim().split(/\s+/);
    if (!local || destinations.length === 0) {
      log(
        'err',
        `Invalid -M multi-server spec "${spec}": expected "localport baseDestURL1 baseDestURL2 ..."`,
      );
      process.exit(1);
    }
    startHttp(
      listenAddress(local),
      (req, res) => handleMulti(config, destinations, req, res),
      'multi server',
    );
  }
  for (const spec of config.tcpProxies) startTcpProxy(spec);
}
