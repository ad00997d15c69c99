// Outbound HTTP of container programs: cluster names through the cluster DNS emulation, and through
// HTTP_PROXY when the pod has one (set by the mesh's sidecar injector, standing in for iptables redirection).

import { request } from 'node:http';
import { resolveClusterHost } from './cluster-dns.js';

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

export function sendOutbound(req: OutboundRequest): Promise<OutboundResponse> {
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
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { ...options, method: req.method ?? 'GET', headers, timeout: req.timeoutMs ?? 60_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`timeout after ${req.timeoutMs ?? 60_000} ms`)));
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}
