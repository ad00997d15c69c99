// How the built-in driver sends one request: keep-alive pooling through undici, a per-request timeout, and
// every failure classified (refused, reset, timeout, other) instead of thrown. Injectable for tests.
//
// Envoy response flags: Envoy reports them in access logs and the `response_flags` metric label, not to clients.
// When a gateway (or meshdrill's local emulation) adds an `x-envoy-response-flags` response header, its value
// ("UF,URX") is counted per flag; otherwise byFlag stays empty.

import type { Client, Dispatcher } from 'undici';
import { ConnectionPool, type PooledRequest } from './connection-pool.js';
import { type Deadlined, DeadlineQueue } from './deadline-queue.js';
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

/** The reason a request was cut off by its deadline (classified `timeout`). */
class RequestTimeoutError extends Error {}
/** The reason a request was cut off by abortAll() (stop, interrupt). */
class RequestAbortedError extends Error {}

const TIMEOUT_OUTCOME: RequestOutcome = { kind: 'error', error: 'timeout' };
const ABORTED_OUTCOME: RequestOutcome = { kind: 'aborted' };

/**
 * One request, as the raw handler undici dispatches to (the legacy callbacks undici uses internally, so no
 * adapter; no response stream, no parsed header object, no AbortController, no timer): this object and its
 * promise are all a request allocates on our side.
 */
class InFlight implements PooledRequest, Deadlined {
  done = false;
  connection: Client | undefined;
  private abort: ((error: Error) => void) | undefined;
  /** Why we cut it off before undici connected it; applied when undici does. */
  private cutOff: Error | undefined;
  private status = 0;
  private flags: string | undefined;

  constructor(
    readonly deadline: number,
    private readonly pool: ConnectionPool,
    private readonly settle: (outcome: RequestOutcome) => void,
  ) {}

  expire(): void {
    this.cut(new RequestTimeoutError('request deadline passed'));
  }

  /** Ends the request early: on its deadline (timeout) or at abortAll (aborted). */
  cut(error: Error): void {
    if (this.done) return;
    if (this.abort !== undefined) {
      this.abort(error);
      return;
    }
    // Not on a socket yet (waiting for a connection): settle now; undici's onConnect aborts it if it gets there.
    this.cutOff = error;
    this.finish(error instanceof RequestTimeoutError ? TIMEOUT_OUTCOME : ABORTED_OUTCOME);
  }

  onConnect(abort: (error: Error) => void): void {
    if (this.cutOff !== undefined) abort(this.cutOff);
    else this.abort = abort;
  }
  onHeaders(statusCode: number, headers: Buffer[] | string[] | null): boolean {
    // 1xx informational answers come through here too; the final status is the last one seen.
    this.status = statusCode;
    if (headers !== null) {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        const name = headers[i] as Buffer | string;
        // Only a name of the right length is decoded and compared.
        if (
          name.length === RESPONSE_FLAGS_HEADER.length &&
          name.toString().toLowerCase() === RESPONSE_FLAGS_HEADER
        ) {
          const value = (headers[i + 1] as Buffer | string).toString();
          this.flags = this.flags === undefined ? value : `${this.flags},${value}`;
        }
      }
    }
    return true;
  }
  onData(): boolean {
    // The body is read and dropped: latency ends when all of it has arrived.
    return true;
  }
  onComplete(): void {
    this.finish(
      this.flags === undefined
        ? { kind: 'response', status: this.status }
        : { kind: 'response', status: this.status, flags: this.flags },
    );
  }
  onError(error: Error): void {
    if (error instanceof RequestTimeoutError) this.finish(TIMEOUT_OUTCOME);
    else if (error instanceof RequestAbortedError) this.finish(ABORTED_OUTCOME);
    else this.finish({ kind: 'error', error: classifyClientError(error) });
  }
  onUpgrade(): void {
    this.finish({ kind: 'error', error: 'other' });
  }

  private finish(outcome: RequestOutcome): void {
    if (this.done) return;
    this.done = true;
    this.pool.release(this);
    this.settle(outcome);
  }
}

/** A request's dispatch options, built once per request of the mix and reused (undici only reads them). */
function prepareRequest(request: OutgoingRequest, basePath: string, host: string | undefined) {
  const headers: Record<string, string> = { ...(host === undefined ? {} : { host }), ...request.headers };
  return {
    path: basePath + request.path,
    method: request.method.toUpperCase() as Dispatcher.HttpMethod,
    headers: Object.entries(headers).flat(),
    ...(request.body === undefined ? {} : { body: Buffer.from(request.body) }),
  } satisfies Dispatcher.DispatchOptions;
}

/** Keep-alive connections to one origin (see connection-pool.ts), with one deadline timer for all requests. */
export function createUndiciTransport(baseUrl: string, options: UndiciTransportOptions): LoadTransport {
  const url = new URL(baseUrl);
  const basePath = url.pathname.replace(/\/$/, '');
  const pool = new ConnectionPool(url.origin, {
    connections: options.connections,
    keepAliveTimeoutMs: 30_000,
  });
  const prepared = new WeakMap<OutgoingRequest, Dispatcher.DispatchOptions>();
  const deadlines = new DeadlineQueue<InFlight>();
  let stopping = false;

  return {
    send(request, timeoutMs) {
      if (stopping) return Promise.resolve(ABORTED_OUTCOME);
      let dispatchOptions = prepared.get(request);
      if (dispatchOptions === undefined) {
        dispatchOptions = prepareRequest(request, basePath, options.host);
        prepared.set(request, dispatchOptions);
      }
      const ready = dispatchOptions;
      return new Promise<RequestOutcome>((settle) => {
        const inFlight = new InFlight(performance.now() + timeoutMs, pool, settle);
        deadlines.add(inFlight);
        pool.dispatch(ready, inFlight);
      });
    },
    abortAll() {
      stopping = true;
      deadlines.stop();
      for (const request of deadlines.pending()) request.cut(new RequestAbortedError('load stopped'));
    },
    async close() {
      deadlines.stop();
      await pool.close();
    },
  };
}
