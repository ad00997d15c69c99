// The server side of an HTTP/1.1 connection on a socket the caller accepted (plain or TLS): reads each request
// with its whole body, hands it to the handler, and writes the response — head and first data in one write,
// content-length or chunked framing, keep-alive between requests, requests that arrive early (pipelined) held
// until the response before them is done.
//
// Why not node:http: on the two-core machines this runs on, node:http costs about 430 µs of CPU per request at the
// drills' rates (tens per second, each request a wake-up of its own), this codec about half of that — and every
// emulated sidecar, gateway and app handles every request.

import { createServer, type Server, type Socket } from 'node:net';
import { BodyReader } from './body.js';
import {
  findHeadEnd,
  HeadError,
  type Headers,
  hasHeader,
  httpDate,
  keepsAlive,
  MAX_HEAD_BYTES,
  type OutgoingHeaders,
  parseRequestHead,
  reasonPhrase,
  requestFraming,
  writeFields,
} from './head.js';

const EMPTY: Buffer = Buffer.alloc(0);

export interface ServeOptions {
  /** Idle time between requests after which the connection is closed (Envoy's and node:http's idle timeout). */
  keepAliveTimeoutMs?: number;
}

export type RequestHandler = (req: ServerRequest, res: ServerResponse) => void;

export class ServerRequest {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly httpVersion: string,
    readonly headers: Headers,
    readonly body: Buffer,
    readonly socket: Socket,
    private readonly headText: string,
  ) {}

  /** node:http's `rawHeaders`: names as sent and values, alternating (read only by rare paths). */
  get rawHeaders(): string[] {
    const out: string[] = [];
    for (const line of this.headText.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) out.push(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    return out;
  }
}

type Framing = 'length' | 'chunked' | 'close' | 'none';

export class ServerResponse {
  statusCode = 200;
  statusMessage: string | undefined;
  headersSent = false;
  finished = false;
  private readonly fields = new Map<string, [string, string | number | readonly string[]]>();
  private head: string | undefined;
  private framing: Framing = 'length';

  constructor(
    readonly socket: Socket,
    private readonly request: { method: string; httpVersion: string },
    /** Whether the connection may carry another request after this response. */
    private keepAlive: boolean,
    private readonly onFinish: (keepAlive: boolean) => void,
  ) {}

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.fields.set(name.toLowerCase(), [name, value]);
    return this;
  }

  appendHeader(name: string, value: string | readonly string[]): this {
    const key = name.toLowerCase();
    const existing = this.fields.get(key);
    if (!existing) return this.setHeader(name, value);
    const before = existing[1];
    const list = [...(typeof before === 'object' ? before : [String(before)])];
    list.push(...(typeof value === 'string' ? [value] : value));
    this.fields.set(key, [existing[0], list]);
    return this;
  }

  getHeader(name: string): string | number | readonly string[] | undefined {
    return this.fields.get(name.toLowerCase())?.[1];
  }

  hasHeader(name: string): boolean {
    return this.fields.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.fields.delete(name.toLowerCase());
  }

  /** Sets the status and headers; nothing is written until the first data or `end` (one write for both). */
  writeHead(status: number, reasonOrHeaders?: string | OutgoingHeaders, headers?: OutgoingHeaders): this {
    if (this.headersSent) return this;
    this.statusCode = status;
    const extra = typeof reasonOrHeaders === 'object' ? reasonOrHeaders : headers;
    if (typeof reasonOrHeaders === 'string') this.statusMessage = reasonOrHeaders;
    if (extra) for (const name in extra) if (extra[name] !== undefined) this.setHeader(name, extra[name]);
    this.headersSent = true;
    return this;
  }

  /** Writes body data (the head goes with the first call). */
  write(chunk: Buffer | string): boolean {
    if (this.finished || this.socket.destroyed) return false;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.head === undefined) this.head = this.renderHead(undefined);
    if (data.length === 0 && this.head === '') return true;
    return this.socket.write(this.frame(data));
  }

  /** Ends the response; a response with nothing written yet gets its content-length from `chunk`. */
  end(chunk?: Buffer | string): this {
    if (this.finished) return this;
    this.finished = true;
    if (this.socket.destroyed) {
      this.onFinish(false);
      return this;
    }
    const data = chunk === undefined ? EMPTY : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let out: Buffer | string;
    if (this.head === undefined) {
      out = this.frame(data, this.renderHead(data.length));
    } else {
      out = this.frame(data);
      if (this.framing === 'chunked') out = Buffer.concat([out as Buffer, LAST_CHUNK]);
    }
    if (out.length > 0) this.socket.write(out);
    if (this.framing === 'close' || !this.keepAlive) this.socket.end();
    this.onFinish(this.keepAlive && this.framing !== 'close');
    return this;
  }

  destroy(): void {
    this.finished = true;
    this.socket.destroy();
  }

  /** The head; `bodyLength` is known when the whole body is given at once. Empties itself once written. */
  private renderHead(bodyLength: number | undefined): string {
    this.headersSent = true;
    const status = this.statusCode;
    const noBody = this.request.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    const headers: OutgoingHeaders = {};
    for (const [name, value] of this.fields.values()) headers[name] = value;
    if (!this.fields.has('date')) headers.date = httpDate();
    if (this.fields.has('transfer-encoding')) {
      // A handler's own framing header is the codec's business.
      delete headers[this.fields.get('transfer-encoding')?.[0] ?? ''];
    }
    if (noBody) {
      this.framing = 'none';
    } else if (this.fields.has('content-length')) {
      this.framing = 'length';
    } else if (bodyLength !== undefined) {
      this.framing = 'length';
      headers['content-length'] = bodyLength;
    } else if (this.request.httpVersion === '1.1') {
      this.framing = 'chunked';
      headers['transfer-encoding'] = 'chunked';
    } else {
      this.framing = 'close';
    }
    if (!this.keepAlive || this.framing === 'close') {
      if (!hasHeader(headers, 'connection')) headers.connection = 'close';
    } else if (this.request.httpVersion === '1.0') {
      headers.connection = 'keep-alive';
    }
    const connection = this.fields.get('connection')?.[1];
    if (connection !== undefined && String(connection).toLowerCase().includes('close'))
      this.keepAlive = false;
    return (
      writeFields(`HTTP/1.1 ${status} ${this.statusMessage ?? reasonPhrase(status)}\r\n`, headers) + '\r\n'
    );
  }

  /** Body data framed for the wire, after the head when it has not gone yet. */
  private frame(data: Buffer, head?: string): Buffer {
    const prefix = head ?? this.head ?? '';
    this.head = '';
    if (this.framing === 'none') return prefix === '' ? EMPTY : Buffer.from(prefix, 'latin1');
    if (this.framing === 'chunked') {
      if (data.length === 0) return prefix === '' ? EMPTY : Buffer.from(prefix, 'latin1');
      return Buffer.concat([Buffer.from(`${prefix}${data.length.toString(16)}\r\n`, 'latin1'), data, CRLF]);
    }
    if (prefix === '') return data;
    return data.length === 0
      ? Buffer.from(prefix, 'latin1')
      : Buffer.concat([Buffer.from(prefix, 'latin1'), data]);
  }
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** A response the codec sends itself for a request it could not read; the connection closes after it. */
function rejectRequest(socket: Socket, error: HeadError): void {
  const body = `${error.message}\n`;
  socket.end(
    `HTTP/1.1 ${error.status} ${reasonPhrase(error.status)}\r\ncontent-type: text/plain\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\ndate: ${httpDate()}\r\n\r\n${body}`,
  );
}

/**
 * Serves HTTP/1.1 on `socket` until either side closes it. `initial` holds bytes already read from the socket
 * (e.g. while sniffing for TLS); they are the start of the first request.
 */
export function serveHttp1(
  socket: Socket,
  handler: RequestHandler,
  options: ServeOptions = {},
  initial: Buffer = EMPTY,
): void {
  new Http1Connection(socket, handler, initial).start(options.keepAliveTimeoutMs ?? 30_000);
}

/** A request whose head has been read, its body being read into `chunks`. */
interface IncomingRequest {
  head: ReturnType<typeof parseRequestHead>;
  text: string;
  reader: BodyReader;
  chunks: Buffer[];
}

/** One connection's read side: the bytes not yet consumed, the request being read, whether one is being served. */
class Http1Connection {
  private readonly socket: Socket;
  private readonly handler: RequestHandler;
  private pending: Buffer;
  private busy = false;
  private closed = false;
  private current: IncomingRequest | undefined;

  constructor(socket: Socket, handler: RequestHandler, initial: Buffer) {
    this.socket = socket;
    this.handler = handler;
    this.pending = initial;
  }

  start(keepAliveTimeoutMs: number): void {
    const { socket } = this;
    socket.setNoDelay(true);
    socket.setTimeout(keepAliveTimeoutMs);
    socket.on('timeout', () => {
      if (!this.busy) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      if (!this.busy) this.readRequests();
    });
    if (this.pending.length > 0) this.readRequests();
  }

  /** Reads and dispatches requests until one is being served, the connection closed, or more bytes are needed. */
  private readRequests(): void {
    while (!this.busy && !this.closed) {
      const request = this.current ?? this.readHead();
      if (!request || !this.readBody(request)) return;
      this.dispatch(request);
    }
  }

  /** The next request's head, once it is all here (undefined until then, or when it was refused). */
  private readHead(): IncomingRequest | undefined {
    if (this.pending.length === 0) return undefined;
    const end = findHeadEnd(this.pending);
    if (end < 0) {
      if (this.pending.length > MAX_HEAD_BYTES) {
        this.refuse(new HeadError(431, 'request header fields too large'));
      }
      return undefined;
    }
    const text = this.pending.toString('latin1', 0, end - 4);
    this.pending = this.pending.subarray(end);
    try {
      const head = parseRequestHead(text);
      const chunks: Buffer[] = [];
      const reader = new BodyReader(requestFraming(head.headers), (c) => chunks.push(c));
      this.current = { head, text, reader, chunks };
      if (String(head.headers.expect ?? '').toLowerCase() === '100-continue' && !reader.done) {
        // Envoy answers 100-continue itself and does not pass Expect on.
        this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      }
      delete head.headers.expect;
      return this.current;
    } catch (error) {
      this.refuse(error);
      return undefined;
    }
  }

  /** Feeds what is pending to the request's body; true once the body is complete. */
  private readBody(request: IncomingRequest): boolean {
    try {
      const used = request.reader.feed(this.pending, 0);
      this.pending = used === this.pending.length ? EMPTY : this.pending.subarray(used);
    } catch (error) {
      this.refuse(error);
      return false;
    }
    return request.reader.done;
  }

  private refuse(error: unknown): void {
    rejectRequest(this.socket, error instanceof HeadError ? error : new HeadError(400, String(error)));
    this.closed = true;
  }

  private dispatch(request: IncomingRequest): void {
    const { socket } = this;
    this.current = undefined;
    this.busy = true;
    const { head } = request;
    const body = request.chunks.length === 1 ? (request.chunks[0] as Buffer) : Buffer.concat(request.chunks);
    const req = new ServerRequest(
      head.method,
      head.url,
      head.httpVersion,
      head.headers,
      body,
      socket,
      request.text,
    );
    const res = new ServerResponse(socket, head, keepsAlive(head.headers, head.httpVersion), (again) =>
      this.responseDone(again),
    );
    try {
      this.handler(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  }

  private responseDone(again: boolean): void {
    this.busy = false;
    if (!again) {
      this.closed = true;
      this.pending = EMPTY;
      return;
    }
    // Requests that came while this one was served: read them now.
    if (this.pending.length > 0) setImmediate(() => this.readRequests());
  }
}

/** A listening server whose every connection speaks HTTP/1.1 through `serveHttp1`. */
export interface Http1Server extends Server {
  /** Destroys every open connection (node:http's closeAllConnections). */
  closeAllConnections(): void;
}

export function createHttp1Server(handler: RequestHandler, options: ServeOptions = {}): Http1Server {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveHttp1(socket, handler, options);
  }) as Http1Server;
  server.closeAllConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  return server;
}
