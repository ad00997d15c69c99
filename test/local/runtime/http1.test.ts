// The data plane's HTTP/1.1 codec: heads and bodies parsed as RFC 9112 frames them (pure tables, every split
// point of a chunked body), and real exchanges against node:http on both sides — the lean server answering
// node:http's client, the lean client and its pool talking to a node:http server — for keep-alive, pipelining,
// framing, 100-continue, connection limits and servers that close idle connections.

import { expect } from 'chai';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import {
  BodyReader,
  type ClientResponse,
  ConnectionPool,
  serveHttp1,
} from '../../../clusters/local/programs/lib/http1/index.js';
import {
  addHeaderLine,
  type Headers,
  parseRequestHead,
  parseResponseHead,
  requestFraming,
  responseFraming,
} from '../../../clusters/local/programs/lib/http1/head.js';

const HOST = '127.0.0.1';

function readAll(reader: (sink: (c: Buffer) => void) => BodyReader, input: Buffer, split: number[]): Buffer {
  const chunks: Buffer[] = [];
  const r = reader((c) => chunks.push(Buffer.from(c)));
  let pending = Buffer.alloc(0);
  let at = 0;
  for (const cut of [...split, input.length]) {
    pending = Buffer.concat([pending, input.subarray(at, cut)]);
    at = cut;
    const used = r.feed(pending, 0);
    pending = pending.subarray(used);
  }
  expect(r.done, 'body complete').to.equal(true);
  return Buffer.concat(chunks);
}

describe('HTTP/1.1 codec: heads and bodies (pure)', () => {
  it('joins repeated fields as node:http does', () => {
    const h: Headers = {};
    for (const [k, v] of [
      ['x-a', '1'],
      ['x-a', '2'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['cookie', 'c=3'],
      ['cookie', 'd=4'],
      ['host', 'first'],
      ['host', 'second'],
    ] as const)
      addHeaderLine(h, k, v);
    expect(h).to.deep.equal({
      'x-a': '1, 2',
      'set-cookie': ['a=1', 'b=2'],
      cookie: 'c=3; d=4',
      host: 'first',
    });
  });

  it('parses request and status lines; refuses malformed ones with the status to answer', () => {
    const req = parseRequestHead('GET /a?b=1 HTTP/1.1\r\nHost: x:8080\r\nX-Thing:  v \r\n');
    expect(req).to.deep.include({ method: 'GET', url: '/a?b=1', httpVersion: '1.1' });
    expect(req.headers).to.deep.equal({ host: 'x:8080', 'x-thing': 'v' });
    const res = parseResponseHead('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 3\r\n');
    expect(res).to.deep.include({
      statusCode: 503,
      statusMessage: 'Service Unavailable',
      httpVersion: '1.1',
    });
    const cases: [string, number][] = [
      ['GET /\r\n', 400],
      ['GET / HTTP/2.0\r\n', 505],
      ['GET / HTTP/1.1\r\nno colon here\r\n', 400],
      ['G(T / HTTP/1.1\r\n', 400],
    ];
    for (const [text, status] of cases) {
      expect(() => parseRequestHead(text), text)
        .to.throw()
        .with.property('status', status);
    }
  });

  it('frames bodies by RFC 9112 §6.3', () => {
    expect(requestFraming({})).to.deep.equal({ kind: 'none' });
    expect(requestFraming({ 'content-length': '5' })).to.deep.equal({ kind: 'length', length: 5 });
    expect(requestFraming({ 'transfer-encoding': 'chunked', 'content-length': '5' })).to.deep.equal({
      kind: 'chunked',
    });
    expect(() => requestFraming({ 'content-length': '-1' })).to.throw(/content-length/);
    expect(() => requestFraming({ 'transfer-encoding': 'gzip' })).to.throw(/transfer-encoding/);
    const head = (status: number, headers: Headers = {}) => ({
      statusCode: status,
      statusMessage: '',
      httpVersion: '1.1',
      headers,
    });
    expect(responseFraming(head(200), 'HEAD')).to.deep.equal({ kind: 'none' });
    expect(responseFraming(head(204), 'GET')).to.deep.equal({ kind: 'none' });
    expect(responseFraming(head(304), 'GET')).to.deep.equal({ kind: 'none' });
    expect(responseFraming(head(200), 'GET')).to.deep.equal({ kind: 'until-close' });
  });

  it('reads a chunked body split at every byte, extensions and trailers dropped', () => {
    const wire = Buffer.from('5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\nNEXT');
    const end = wire.length - 4;
    for (let cut = 1; cut < end; cut++) {
      const body = readAll((sink) => new BodyReader({ kind: 'chunked' }, sink), wire.subarray(0, end), [cut]);
      expect(body.toString(), `split at ${cut}`).to.equal('hello world');
    }
    // What follows the body is left for the next message.
    const r = new BodyReader({ kind: 'chunked' }, () => undefined);
    expect(r.feed(wire, 0)).to.equal(end);
  });

  it('reads a content-length body and leaves the rest; a bad chunk size is an error', () => {
    const r = new BodyReader({ kind: 'length', length: 3 }, () => undefined);
    expect(r.feed(Buffer.from('abcdef'), 0)).to.equal(3);
    expect(r.done).to.equal(true);
    const bad = new BodyReader({ kind: 'chunked' }, () => undefined);
    expect(() => bad.feed(Buffer.from('zz\r\n'), 0)).to.throw(/chunk size/);
  });
});

/** A lean server on a free port; each request is answered by `handle`. */
async function leanServer(
  handle: Parameters<typeof serveHttp1>[1],
  options: Parameters<typeof serveHttp1>[2] = {},
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveHttp1(socket, handle, options);
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function nodeRequest(
  options: http.RequestOptions,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes raw bytes on one connection and collects what comes back until the server closes it. */
async function rawExchange(port: number, wire: string): Promise<string> {
  const socket = net.connect(port, HOST);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(wire);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

describe('HTTP/1.1 codec: the server against node:http and raw clients', () => {
  it('answers node:http with its body, status and headers; content-length when ended at once', async () => {
    const server = await leanServer((req, res) => {
      res.setHeader('x-method', req.method);
      res.writeHead(201, { 'x-echo': String(req.headers['x-in']) });
      res.end(`got ${req.body.toString()}`);
    });
    try {
      const out = await nodeRequest(
        { host: HOST, port: server.port, method: 'POST', path: '/p', headers: { 'x-in': 'abc' } },
        'payload',
      );
      expect(out.status).to.equal(201);
      expect(out.body).to.equal('got payload');
      expect(out.headers).to.include({ 'x-method': 'POST', 'x-echo': 'abc', 'content-length': '11' });
      expect(out.headers.date).to.be.a('string');
    } finally {
      await server.close();
    }
  });

  it('streams a response written in parts as chunked, and reads a chunked request body', async () => {
    const server = await leanServer((req, res) => {
      res.writeHead(200);
      res.write('part1-');
      setTimeout(() => res.end(`part2-${req.body.length}`), 20);
    });
    try {
      const wire =
        'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
        '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
      const text = await rawExchange(server.port, wire);
      expect(text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      expect(text).to.include('transfer-encoding: chunked');
      expect(text).to.include('connection: close');
      expect(text.endsWith('6\r\npart1-\r\n7\r\npart2-5\r\n0\r\n\r\n')).to.equal(true);
    } finally {
      await server.close();
    }
  });

  it('serves pipelined requests in order on one connection, then honours Connection: close', async () => {
    let n = 0;
    const server = await leanServer((req, res) => {
      n += 1;
      const mine = n;
      // The first answer is slow: the second request must still wait for it.
      setTimeout(() => res.end(`${req.url}#${mine}`), mine === 1 ? 30 : 0);
    });
    try {
      const text = await rawExchange(
        server.port,
        'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      expect(text.indexOf('/a#1')).to.be.greaterThan(0);
      expect(text.indexOf('/b#2')).to.be.greaterThan(text.indexOf('/a#1'));
    } finally {
      await server.close();
    }
  });

  it('answers Expect: 100-continue before the body, HEAD without a body, and 400 for garbage', async () => {
    const server = await leanServer((req, res) => {
      expect(req.headers.expect).to.equal(undefined);
      res.setHeader('content-length', 5);
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    try {
      const socket = net.connect(server.port, HOST);
      const got: Buffer[] = [];
      socket.on('data', (c: Buffer) => got.push(c));
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n');
      await new Promise((r) => setTimeout(r, 50));
      expect(Buffer.concat(got).toString()).to.equal('HTTP/1.1 100 Continue\r\n\r\n');
      socket.end('abc');
      await once(socket, 'close');
      expect(Buffer.concat(got).toString()).to.match(/\r\n\r\nhello$/);

      const head = await rawExchange(server.port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(head).to.include('content-length: 5');
      expect(head.endsWith('\r\n\r\n')).to.equal(true);

      const bad = await rawExchange(server.port, 'NOT HTTP AT ALL\r\n\r\n');
      expect(bad).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
    } finally {
      await server.close();
    }
  });

  it('keeps one connection for many requests from node:http keep-alive agents', async () => {
    const peers = new Set<number>();
    const server = await leanServer((req, res) => {
      peers.add(req.socket.remotePort ?? 0);
      res.end('ok');
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 20; i++) {
        const out = await nodeRequest({ host: HOST, port: server.port, path: `/${i}`, agent });
        expect(out.body).to.equal('ok');
      }
      expect(peers.size).to.equal(1);
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});

/** A node:http server (the reference peer for the client). */
async function nodeServer(
  handle: http.RequestListener,
  configure: (s: http.Server) => void = () => undefined,
): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const server = http.createServer(handle);
  configure(server);
  server.on('connection', () => {
    connections += 1;
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function poolTo(port: number, limits: ConstructorParameters<typeof ConnectionPool>[1] = {}): ConnectionPool {
  return new ConnectionPool(
    () =>
      new Promise((resolve, reject) => {
        const s = net.connect(port, HOST);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }),
    limits,
  );
}

async function fetchVia(
  pool: ConnectionPool,
  request: { method?: string; path?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ response: ClientResponse; body: string }> {
  const connection = await pool.acquire();
  const response = await new Promise<ClientResponse>((resolve, reject) =>
    connection.send(
      {
        method: request.method ?? 'GET',
        path: request.path ?? '/',
        headers: { host: 'upstream', ...request.headers },
        body: Buffer.from(request.body ?? ''),
      },
      { response: resolve, error: reject },
    ),
  );
  const body = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.consume({
      data: (c) => chunks.push(Buffer.from(c)),
      end: () => resolve(Buffer.concat(chunks).toString()),
      abort: () => reject(new Error('aborted')),
    });
  });
  return { response, body };
}

describe('HTTP/1.1 codec: the client and its pool against node:http', () => {
  it('sends a body with its length, reads chunked and content-length responses, reuses one connection', async () => {
    const server = await nodeServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = `${req.method} ${req.url} ${req.headers['content-length'] ?? '-'} ${Buffer.concat(chunks)}`;
        if (req.url === '/chunked') {
          res.write(text.slice(0, 4));
          res.end(text.slice(4));
        } else res.end(text);
      });
    });
    const pool = poolTo(server.port);
    try {
      const a = await fetchVia(pool, { method: 'POST', path: '/x', body: 'hello' });
      expect(a.response.statusCode).to.equal(200);
      expect(a.body).to.equal('POST /x 5 hello');
      const b = await fetchVia(pool, { path: '/chunked' });
      expect(b.response.headers['transfer-encoding']).to.equal('chunked');
      expect(b.body).to.equal('GET /chunked - ');
      for (let i = 0; i < 10; i++) await fetchVia(pool);
      expect(server.connections()).to.equal(1);
    } finally {
      pool.destroy();
      await server.close();
    }
  });

  it('reads a body delimited by the close of the connection, and skips 1xx heads', async () => {
    const server = net.createServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nx: y\r\n\r\nuntil');
        setTimeout(() => s.end(' close'), 20);
      });
    });
    server.listen(0, HOST);
    await once(server, 'listening');
    const pool = poolTo((server.address() as net.AddressInfo).port);
    try {
      const out = await fetchVia(pool);
      expect(out.response.statusCode).to.equal(200);
      expect(out.body).to.equal('until close');
      expect(pool.size).to.equal(0);
    } finally {
      pool.destroy();
      server.close();
    }
  });

  it('reports a reset before the response head as an error, a cut body as an abort', async () => {
    const server = net.createServer((s) => {
      s.once('data', (d: Buffer) => {
        if (d.toString().startsWith('GET /reset')) s.destroy();
        else {
          s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort');
          setTimeout(() => s.destroy(), 20);
        }
      });
    });
    server.listen(0, HOST);
    await once(server, 'listening');
    const pool = poolTo((server.address() as net.AddressInfo).port);
    try {
      const error = await fetchVia(pool, { path: '/reset' }).catch((e: NodeJS.ErrnoException) => e);
      expect(error).to.be.instanceOf(Error).with.property('code', 'ECONNRESET');
      const cut = await fetchVia(pool, { path: '/cut' }).catch((e: Error) => e);
      expect(cut).to.be.instanceOf(Error).with.property('message', 'aborted');
    } finally {
      pool.destroy();
      server.close();
    }
  });

  it('drops an idle connection the server closed, and opens a new one for the next request', async () => {
    const server = await nodeServer(
      (_req, res) => res.end('ok'),
      (s) => {
        s.keepAliveTimeout = 50;
      },
    );
    const pool = poolTo(server.port);
    try {
      await fetchVia(pool);
      // node:http closes an idle connection some time after keepAliveTimeout (it adds a buffer of its own).
      for (let waited = 0; pool.size > 0 && waited < 3000; waited += 50)
        await new Promise((r) => setTimeout(r, 50));
      expect(pool.size, 'closed by the server while idle').to.equal(0);
      expect((await fetchVia(pool)).body).to.equal('ok');
      expect(server.connections()).to.equal(2);
    } finally {
      pool.destroy();
      await server.close();
    }
  });
});
