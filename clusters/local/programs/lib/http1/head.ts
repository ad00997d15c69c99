// HTTP/1.1 message heads (RFC 9112): finding the end of a head, parsing a request or status line and its fields
// into Node's header shape (lower-case names, duplicates joined as node:http joins them), deciding how a body is
// framed, and writing a head back out. Pure: no sockets here.

import type { IncomingHttpHeaders } from 'node:http';

/** Header fields as node:http holds them (its type only: single-valued fields such as host are strings). */
export type Headers = IncomingHttpHeaders;
/** Header fields to send: a value may be a number (content-length) or a list (one line each). */
export type OutgoingHeaders = Record<string, string | number | readonly string[] | undefined>;

/** The largest head accepted (Envoy's default `max_request_headers_kb` is 60). */
export const MAX_HEAD_BYTES = 60 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Where the head ends (the index after its blank line), or -1 when it has not all arrived yet. */
export function findHeadEnd(buffer: Buffer): number {
  const at = buffer.indexOf(CRLFCRLF);
  return at < 0 ? -1 : at + 4;
}

// node:http keeps the first value of these and drops later ones (IncomingMessage#_addHeaderLine).
const SINGLE_VALUED = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** Adds one field line as node:http does: set-cookie collects a list, cookie joins with "; ", others ", ". */
export function addHeaderLine(headers: Headers, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) {
    headers[name] = name === 'set-cookie' ? [value] : value;
  } else if (name === 'set-cookie') {
    (existing as string[]).push(value);
  } else if (!SINGLE_VALUED.has(name)) {
    headers[name] = `${existing as string}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
}

export class HeadError extends Error {
  constructor(
    readonly status: 400 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
    this.name = 'HeadError';
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses the field lines after the start line (`lines[1..]`). */
function parseFields(lines: string[]): Headers {
  const headers: Headers = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HeadError(400, `malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HeadError(400, `invalid header name: ${JSON.stringify(name)}`);
    addHeaderLine(headers, name.toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

export interface RequestHead {
  method: string;
  url: string;
  /** "1.1" or "1.0". */
  httpVersion: string;
  headers: Headers;
}

export function parseRequestHead(text: string): RequestHead {
  const lines = text.split('\r\n');
  const start = lines[0] ?? '';
  const first = start.indexOf(' ');
  const last = start.lastIndexOf(' ');
  if (first <= 0 || last <= first) throw new HeadError(400, 'malformed request line');
  const method = start.slice(0, first);
  const url = start.slice(first + 1, last);
  const version = start.slice(last + 1);
  if (!TOKEN.test(method)) throw new HeadError(400, `invalid method: ${JSON.stringify(method)}`);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') {
    throw new HeadError(version.startsWith('HTTP/') ? 505 : 400, `unsupported protocol: ${version}`);
  }
  return { method, url, httpVersion: version.slice(5), headers: parseFields(lines) };
}

export interface ResponseHead {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  headers: Headers;
}

export function parseResponseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const start = lines[0] ?? '';
  const m = /^HTTP\/(1\.[01]) (\d{3})(?: (.*))?$/.exec(start);
  if (!m) throw new HeadError(400, `malformed status line: ${JSON.stringify(start.slice(0, 80))}`);
  return {
    httpVersion: m[1] as string,
    statusCode: Number(m[2]),
    statusMessage: m[3] ?? '',
    headers: parseFields(lines),
  };
}

/** How a message's body is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'until-close' };

function contentLengthOf(headers: Headers): number | undefined {
  const value = headers['content-length'];
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^\d+$/.test(text)) throw new HeadError(400, `invalid content-length: ${JSON.stringify(text)}`);
  return Number(text);
}

function isChunked(headers: Headers): boolean {
  const te = headers['transfer-encoding'];
  if (te === undefined) return false;
  const codings = String(te).toLowerCase().split(',');
  if (codings[codings.length - 1]?.trim() !== 'chunked') {
    throw new HeadError(501, `unsupported transfer-encoding: ${String(te)}`);
  }
  return true;
}

export function requestFraming(headers: Headers): BodyFraming {
  if (isChunked(headers)) return { kind: 'chunked' };
  const length = contentLengthOf(headers);
  return length === undefined || length === 0 ? { kind: 'none' } : { kind: 'length', length };
}

export function responseFraming(head: ResponseHead, requestMethod: string): BodyFraming {
  const status = head.statusCode;
  if (requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) {
    return { kind: 'none' };
  }
  if (isChunked(head.headers)) return { kind: 'chunked' };
  const length = contentLengthOf(head.headers);
  if (length !== undefined) return length === 0 ? { kind: 'none' } : { kind: 'length', length };
  return { kind: 'until-close' };
}

/** Whether the connection stays open after this message (`Connection` tokens and the protocol version). */
export function keepsAlive(headers: Headers, httpVersion: string): boolean {
  const connection = headers.connection;
  const tokens = connection === undefined ? '' : String(connection).toLowerCase();
  if (tokens.includes('close')) return false;
  return httpVersion === '1.1' || tokens.includes('keep-alive');
}

/** Appends `name: value` lines for every header (lists one line per value); names are written as given. */
export function writeFields(out: string, headers: OutgoingHeaders): string {
  let text = out;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'object') {
      for (const v of value) text += `${name}: ${v}\r\n`;
    } else {
      text += `${name}: ${value}\r\n`;
    }
  }
  return text;
}

/** Whether a header of that name (any case) is present. */
export function hasHeader(headers: OutgoingHeaders, lowerName: string): boolean {
  for (const name in headers) {
    if (headers[name] !== undefined && name.toLowerCase() === lowerName) return true;
  }
  return false;
}

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

let dateSecond = -1;
let dateText = '';
/** The `Date` header value, formatted once per second. */
export function httpDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}
