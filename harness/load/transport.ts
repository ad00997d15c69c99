// How the built-in driver sends one request: keep-alive pooling through undici, a per-request timeout, and
// every failure classified (refused, reset, timeout, other) instead of thrown. Injectable for tests.
//
// Envoy response flags: Envoy reports them in access logs and the `response_flags` metric label, not to clients.
// When a gateway (or meshdrill's local emulation) adds an `x-envoy-response-flags` response header, its value
// ("UF,URX") is counted per flag; otherwise byFlag stays empty.

import { Pool } from 'undici';
import type { ClientErrorKind, RequestOutcome } from './buckets.js';

export interface OutgoingRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadTransport {
  /** Never rejects: every failure becomes an outcome. Requests cut off by abortAll() yield `{ kind: 'aborted' }`. */
  send(request: OutgoingRequest, timeoutMs: number): Promise<RequestOutcome>;
  /** Aborts every request in flight (stop, interrupt). */
  abortAll(): void;
  close(): Promise<void>;
}

export const RESPONSE_FLAGS_HEADER = 'x-envoy-response-flags';

const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TimeoutError',
]);

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  // undici wraps the socket error: look through `cause` a few levels.
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const record = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof record.code === 'string') codes.push(record.code);
    if (typeof record.name === 'string') codes.push(record.name);
    current = record.cause;
  }
  return codes;
}

/** The client error kind of a failed request. */
export function classifyClientError(error: unknown): ClientErrorKind {
  const codes = codesOf(error);
  if (codes.some((c) => TIMEOUT.has(c))) return 'timeout';
  if (codes.some((c) => REFUSED.has(c))) return 'refused';
  if (codes.some((c) => RESET.has(c))) return 'reset';
  return 'other';
}

export interface UndiciTransportOptions {
  /** Keep-alive connections at most (the driver never has more requests in flight than maxInFlight). */
  connections: number;
  /** Host header for the ingress gateway's virtual hosts. */
  host?: string;
}

/** A keep-alive connection pool to one origin. */
export function createUndiciTransport(baseUrl: string, options: UndiciTransportOptions): LoadTransport {
  const url = new URL(baseUrl);
  const basePath = url.pathname.replace(/\/$/, '');
  const pool = new Pool(url.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    // Our own per-request timer governs; undici's must not fire first with its own error.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const hostHeader = options.host === undefined ? {} : { host: options.host };
  // One controller per request, kept in a set: listeners on a shared stop signal would pile up by thousands.
  const active = new Set<AbortController>();
  let stopping = false;

  return {
    async send(request, timeoutMs) {
      if (stopping) return { kind: 'aborted' };
      const controller = new AbortController();
      active.add(controller);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      try {
        const response = await pool.request({
          path: basePath + request.path,
          method: request.method as 'GET',
          headers: { ...hostHeader, ...request.headers },
          ...(request.body === undefined ? {} : { body: request.body }),
          signal: controller.signal,
        });
        // Drain the body so the connection goes back to the pool; latency ends when the body has arrived.
        await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
        const flags = response.headers[RESPONSE_FLAGS_HEADER];
        return {
          kind: 'response',
          status: response.statusCode,
          ...(flags === undefined ? {} : { flags: Array.isArray(flags) ? flags.join(',') : flags }),
        };
      } catch (error) {
        if (timedOut) return { kind: 'error', error: 'timeout' };
        if (controller.signal.aborted) return { kind: 'aborted' };
        return { kind: 'error', error: classifyClientError(error) };
      } finally {
        clearTimeout(timer);
        active.delete(controller);
      }
    },
    abortAll() {
      stopping = true;
      for (const controller of active) controller.abort();
    },
    async close() {
      await pool.destroy();
    },
  };
}
