// Outbound HTTP of container programs: cluster names through the cluster DNS emulation, and through
// HTTP_PROXY when the pod has one (set by the mesh's sidecar injector, standing in for iptables redirection).
// Connections leave from the pod's own IP, as in a cluster; a direct call to another pod's IP honours this pod's
// NetworkChaos rules (traffic to a ClusterIP is shaped by the kube-proxy stand-in, via a sidecar by the proxy).

import { connect, isIP, type Socket } from 'node:net';
import { resolveClusterHost } from './cluster-dns.js';
import { ConnectionPool } from './http1/index.js';
import {
  type ChunkVerdict,
  createLegState,
  isServiceAddress,
  judgeChunk,
  ownFaultsFile,
  readNetworkFaults,
  rulesForLeg,
} from './network-faults.js';

export interface OutboundRequest {
  url: string;
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer;
  timeoutMs?: number;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function proxyFor(target: URL): URL | undefined {
  const proxy = process.env.HTTP_PROXY ?? process.env.http_proxy;
  if (!proxy) return undefined;
  const noProxy = (process.env.NO_PROXY ?? process.env.no_proxy ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (
    noProxy.some(
      (n) => n === '*' || target.hostname === n || target.hostname.endsWith(n.startsWith('.') ? n : `.${n}`),
    )
  ) {
    return undefined;
  }
  return new URL(proxy.includes('://') ? proxy : `http://${proxy}`);
}

/** Delay and loss of this pod's own rules for a direct pod-to-pod call (undefined: nothing to apply). */
function directLegs(host: string): { request: () => ChunkVerdict; response: () => ChunkVerdict } | undefined {
  const self = process.env.MESHDRILL_POD_IP;
  if (!self || isIP(host) !== 4 || host === self || isServiceAddress(host) || host.startsWith('127.0.0.')) {
    return undefined;
  }
  const own = () => readNetworkFaults(ownFaultsFile());
  if (own().length === 0) return undefined;
  const up = createLegState();
  const down = createLegState();
  return {
    request: () => judgeChunk(rulesForLeg({ ip: self, rules: own() }, { ip: host, rules: [] }), up),
    response: () => judgeChunk(rulesForLeg({ ip: host, rules: [] }, { ip: self, rules: own() }), down),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function sendOutbound(req: OutboundRequest): Promise<OutboundResponse> {
  const target = new URL(req.url.includes('://') ? req.url : `http://${req.url}`);
  const legs = proxyFor(target) ? undefined : directLegs(resolveClusterHost(target.hostname));
  if (!legs) return sendNow(req);
  const timeoutMs = req.timeoutMs ?? 60_000;
  const started = Date.now();
  const verdict = legs.request();
  if (verdict.kind === 'blackhole') {
    // The SYN never arrives: the caller's timeout is all that ends it.
    await sleep(timeoutMs);
    throw new Error(
      `timeout after ${timeoutMs} ms (connect ${target.host}: no route through a network fault)`,
    );
  }
  await sleep(verdict.delayMs);
  const response = await sendNow({ ...req, timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) });
  const back = legs.response();
  if (back.kind === 'blackhole') {
    await sleep(Math.max(0, timeoutMs - (Date.now() - started)));
    throw new Error(
      `timeout after ${timeoutMs} ms (no response from ${target.host} through a network fault)`,
    );
  }
  await sleep(back.delayMs);
  return response;
}

/** Keep-alive connections per destination and source address (node:http's global agent keeps them too). */
const pools = new Map<string, ConnectionPool>();

function poolFor(host: string, port: number, localAddress: string | undefined): ConnectionPool {
  const key = `${host}:${port}|${localAddress ?? ''}`;
  let pool = pools.get(key);
  if (!pool) {
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
        socket.once('connect', () => {
          socket.removeListener('error', reject);
          resolve(socket);
        });
        socket.once('error', reject);
      });
    pool = new ConnectionPool(open);
    pools.set(key, pool);
  }
  return pool;
}

async function sendNow(req: OutboundRequest): Promise<OutboundResponse> {
  const target = new URL(req.url.includes('://') ? req.url : `http://${req.url}`);
  const proxy = proxyFor(target);
  const headers: Record<string, string | string[]> = { ...(req.headers ?? {}) };
  const hasHost = Object.keys(headers).some((h) => h.toLowerCase() === 'host');
  if (!hasHost) headers.host = target.host;
  const options = proxy
    ? // Proxy form: absolute URI on the request line, the proxy resolves the name (as Envoy would).
      { host: resolveClusterHost(proxy.hostname), port: Number(proxy.port || 80), path: target.href }
    : {
        host: resolveClusterHost(target.hostname),
        port: Number(target.port || 80),
        path: `${target.pathname}${target.search}`,
      };
  // Like a pod's traffic, it leaves from the pod's IP (the kube-proxy stand-in tells pods apart by it).
  const podIp = process.env.MESHDRILL_POD_IP;
  const localAddress = podIp && isIP(podIp) === 4 && isIP(options.host) === 4 ? podIp : undefined;
  const timeoutMs = req.timeoutMs ?? 60_000;
  const connection = await poolFor(options.host, options.port, localAddress).acquire();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`timeout after ${timeoutMs} ms`));
      connection.destroy();
    }, timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    connection.send(
      { method: req.method ?? 'GET', path: options.path, headers, body: req.body ?? Buffer.alloc(0) },
      {
        response(res) {
          const chunks: Buffer[] = [];
          res.consume({
            data: (c) => chunks.push(c),
            end() {
              clearTimeout(timer);
              resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) });
            },
            abort: () => fail(new Error('socket hang up')),
          });
        },
        error: fail,
      },
    );
  });
}
