// The client side of HTTP/1.1 connections: one request at a time on a connection (head and body in one write),
// the response head handed on as soon as it is read and its body streamed to whoever consumes it, and a pool that
// keeps connections alive between requests within the limits a DestinationRule sets (requests per connection,
// connection lifetime), dropping idle ones the server closed.

import type { Socket } from 'node:net';
import { BodyReader } from './body.js';
import {
  findHeadEnd,
  HeadError,
  type Headers,
  hasHeader,
  keepsAlive,
  MAX_HEAD_BYTES,
  type OutgoingHeaders,
  parseResponseHead,
  responseFraming,
  writeFields,
} from './head.js';

const EMPTY: Buffer = Buffer.alloc(0);

export interface ClientRequest {
  method: string;
  path: string;
  headers: OutgoingHeaders;
  body: Buffer;
}

/** Where a response body goes. */
export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
  /** The body was cut short (the connection closed or was destroyed before it ended). */
  abort(): void;
}

const DISCARD: BodySink = { data: () => undefined, end: () => undefined, abort: () => undefined };

export class ClientResponse {
  private sink: BodySink | undefined;
  private queued: Buffer[] = [];
  private state: 'open' | 'ended' | 'aborted' = 'open';

  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly httpVersion: string,
    readonly headers: Headers,
    private readonly connection: ClientConnection,
  ) {}

  /** Starts delivering the body (what arrived before this call first). */
  consume(sink: BodySink): void {
    this.sink = sink;
    for (const chunk of this.queued) sink.data(chunk);
    this.queued = [];
    if (this.state === 'ended') sink.end();
    else if (this.state === 'aborted') sink.abort();
  }

  /** Reads the body to its end and drops it (the connection can then serve another request). */
  discard(): void {
    this.consume(DISCARD);
  }

  /** Gives up on the response: its connection is closed. */
  destroy(): void {
    this.connection.destroy();
  }

  /** @internal */
  deliver(chunk: Buffer): void {
    if (this.sink) this.sink.data(chunk);
    else this.queued.push(chunk);
  }

  /** @internal */
  finish(how: 'ended' | 'aborted'): void {
    if (this.state !== 'open') return;
    this.state = how;
    if (!this.sink) return;
    if (how === 'ended') this.sink.end();
    else this.sink.abort();
  }
}

export interface ExchangeCallbacks {
  response(response: ClientResponse): void;
  /** No response head arrived: the connection failed, closed or was destroyed first. */
  error(error: NodeJS.ErrnoException): void;
}

interface Exchange {
  method: string;
  callbacks: ExchangeCallbacks;
  closeAfter: boolean;
  response?: ClientResponse;
  reader?: BodyReader;
}

function connectionReset(message = 'socket hang up'): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = 'ECONNRESET';
  return error;
}

/** One upstream connection; `onReusable` is called when a response has ended and another request may follow. */
export class ClientConnection {
  readonly openedAt = Date.now();
  requests = 0;
  closed = false;
  private pending: Buffer = EMPTY;
  private exchange: Exchange | undefined;

  constructor(
    readonly socket: Socket,
    private readonly onReusable: (connection: ClientConnection) => void,
    private readonly onClosed: (connection: ClientConnection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.close(connectionReset()));
    // A server that closes an idle keep-alive connection half-closes first.
    socket.on('end', () => {
      if (!this.exchange) socket.destroy();
    });
  }

  get idle(): boolean {
    return this.exchange === undefined && !this.closed;
  }

  /** Sends a request; the head and body leave in one write. */
  send(request: ClientRequest, callbacks: ExchangeCallbacks): void {
    if (this.closed || this.exchange) {
      callbacks.error(connectionReset('connection not available'));
      return;
    }
    this.requests += 1;
    const headers: OutgoingHeaders = { ...request.headers };
    const body = request.body;
    if (body.length > 0 || hasHeader(headers, 'content-length')) {
      for (const name in headers) if (name.toLowerCase() === 'content-length') delete headers[name];
      headers['content-length'] = body.length;
    }
    const head = `${writeFields(`${request.method} ${request.path} HTTP/1.1\r\n`, headers)}\r\n`;
    const connection = headers.connection ?? headers.Connection;
    this.exchange = {
      method: request.method,
      callbacks,
      closeAfter: connection !== undefined && String(connection).toLowerCase().includes('close'),
    };
    this.socket.write(body.length === 0 ? head : Buffer.concat([Buffer.from(head, 'latin1'), body]));
  }

  destroy(): void {
    this.socket.destroy();
    this.close(connectionReset('request destroyed'));
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      this.advance();
    } catch (error) {
      // A response this client cannot read: the connection is of no further use.
      this.socket.destroy();
      this.close(error instanceof HeadError ? connectionReset(error.message) : connectionReset());
    }
  }

  private advance(): void {
    while (this.exchange && this.pending.length > 0) {
      const exchange = this.exchange;
      if (!exchange.response) {
        const end = findHeadEnd(this.pending);
        if (end < 0) {
          if (this.pending.length > MAX_HEAD_BYTES) throw new HeadError(431, 'response head too large');
          return;
        }
        const head = parseResponseHead(this.pending.toString('latin1', 0, end - 4));
        this.pending = this.pending.subarray(end);
        if (head.statusCode >= 100 && head.statusCode < 200 && head.statusCode !== 101) continue;
        const response = new ClientResponse(
          head.statusCode,
          head.statusMessage,
          head.httpVersion,
          head.headers,
          this,
        );
        exchange.response = response;
        exchange.reader = new BodyReader(responseFraming(head, exchange.method), (c) => response.deliver(c));
        exchange.closeAfter ||= !keepsAlive(head.headers, head.httpVersion);
        exchange.callbacks.response(response);
        if (this.exchange !== exchange) return; // destroyed by the callback
      }
      const used = exchange.reader?.feed(this.pending, 0) ?? 0;
      this.pending = used === this.pending.length ? EMPTY : this.pending.subarray(used);
      if (!exchange.reader?.done) return;
      this.complete(exchange);
    }
    if (!this.exchange && this.pending.length > 0) {
      // Bytes nobody asked for: the connection's framing is lost.
      this.socket.destroy();
    }
  }

  private complete(exchange: Exchange): void {
    this.exchange = undefined;
    exchange.response?.finish('ended');
    if (exchange.closeAfter) {
      this.socket.destroy();
      this.close(connectionReset());
    } else {
      this.onReusable(this);
    }
  }

  private close(error: NodeJS.ErrnoException): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    if (exchange) {
      if (!exchange.response) exchange.callbacks.error(error);
      else if (exchange.reader?.endsAtClose()) exchange.response.finish('ended');
      else exchange.response.finish('aborted');
    }
    if (this.closed) return;
    this.closed = true;
    this.onClosed(this);
  }
}

/** What a DestinationRule's connectionPool bounds (none set: a connection lives as long as it is used). */
export interface ConnectionLimits {
  maxRequests?: number;
  maxDurationMs?: number;
}

/**
 * Keep-alive connections to one upstream. A connection past its limits is drained, never cut mid-request: it
 * closes when idle or as soon as its current response ends (as in Envoy's HTTP/1 pool).
 */
export class ConnectionPool {
  private readonly free: ClientConnection[] = [];
  private readonly open = new Set<ClientConnection>();
  private readonly expired = new WeakSet<ClientConnection>();
  private closed = false;

  constructor(
    private readonly connect: () => Promise<Socket>,
    private readonly limits: ConnectionLimits = {},
  ) {}

  /** An idle connection, or a new one. Rejects with the connect function's error. */
  async acquire(): Promise<ClientConnection> {
    for (let c = this.free.pop(); c; c = this.free.pop()) if (c.idle) return c;
    const socket = await this.connect();
    const connection = new ClientConnection(
      socket,
      (c) => this.reusable(c),
      (c) => this.forget(c),
    );
    if (this.closed) {
      connection.destroy();
      throw connectionReset('connection pool closed');
    }
    this.open.add(connection);
    if (this.limits.maxDurationMs !== undefined) {
      const timer = setTimeout(() => {
        this.expired.add(connection);
        if (connection.idle) connection.destroy();
      }, this.limits.maxDurationMs);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    }
    return connection;
  }

  /** Closes every connection, idle or busy. */
  destroy(): void {
    this.closed = true;
    for (const c of [...this.open]) c.destroy();
    this.free.length = 0;
  }

  /** Connections open now (idle and busy). */
  get size(): number {
    return this.open.size;
  }

  private reusable(connection: ClientConnection): void {
    const spent = this.limits.maxRequests !== undefined && connection.requests >= this.limits.maxRequests;
    if (this.closed || spent || this.expired.has(connection)) {
      connection.destroy();
      return;
    }
    this.free.push(connection);
  }

  private forget(connection: ClientConnection): void {
    this.open.delete(connection);
    const at = this.free.indexOf(connection);
    if (at >= 0) this.free.splice(at, 1);
  }
}
