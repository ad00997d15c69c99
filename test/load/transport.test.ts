// Tests of the undici transport on a loopback server: connections bounded and reused, the single deadline timer
// timing out stalled requests (including ones still waiting for a connection), abortAll, Envoy flags; and the
// deadline queue on its own.

import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { type Deadlined, DeadlineQueue } from '../../harness/load/deadline-queue.js';
import { createUndiciTransport, RESPONSE_FLAGS_HEADER } from '../../harness/load/transport.js';

const GET = { method: 'GET', path: '/', headers: {} };

describe('load/transport (undici, loopback)', function () {
  this.timeout(10_000);
  let connections = 0;
  let stall = false;
  const stalled: ServerResponse[] = [];
  const server = createServer((req, res) => {
    if (stall) {
      stalled.push(res);
      return;
    }
    res.setHeader(RESPONSE_FLAGS_HEADER, req.url === '/flags' ? 'UF,URX' : '-');
    res.end('ok');
  });
  server.on('connection', () => {
    connections += 1;
  });
  let base = '';
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    stall = false;
    for (const res of stalled.splice(0)) res.destroy();
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('answers many concurrent requests over a bounded, reused set of connections, with their flags', async () => {
    connections = 0;
    const transport = createUndiciTransport(base, { connections: 16 });
    try {
      const first = await Promise.all(Array.from({ length: 300 }, () => transport.send(GET, 5000)));
      expect(first.every((o) => o.kind === 'response' && o.status === 200)).to.equal(true);
      expect(connections).to.be.within(1, 16);
      const opened = connections;
      const second = await Promise.all(Array.from({ length: 100 }, () => transport.send(GET, 5000)));
      expect(second.filter((o) => o.kind === 'response')).to.have.length(100);
      expect(connections, 'keep-alive: no new connection for the second batch').to.equal(opened);
      expect(await transport.send({ ...GET, path: '/flags' }, 5000)).to.deep.equal({
        kind: 'response',
        status: 200,
        flags: 'UF,URX',
      });
    } finally {
      await transport.close();
    }
  });

  it('times out stalled requests — those waiting for a connection too — on one deadline timer', async () => {
    stall = true;
    const transport = createUndiciTransport(base, { connections: 2 });
    try {
      const started = performance.now();
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => transport.send(GET, 150)));
      const took = performance.now() - started;
      expect(outcomes).to.deep.equal(Array.from({ length: 10 }, () => ({ kind: 'error', error: 'timeout' })));
      expect(took).to.be.within(140, 1500);
    } finally {
      await transport.close();
    }
  });

  it('abortAll ends every request in flight or waiting as aborted, and refuses new ones', async () => {
    stall = true;
    const transport = createUndiciTransport(base, { connections: 1 });
    try {
      const pending = Array.from({ length: 5 }, () => transport.send(GET, 5000));
      const deadline = Date.now() + 3000;
      while (stalled.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      transport.abortAll();
      expect(await Promise.all(pending)).to.deep.equal(
        Array.from({ length: 5 }, () => ({ kind: 'aborted' })),
      );
      expect(await transport.send(GET, 5000)).to.deep.equal({ kind: 'aborted' });
    } finally {
      await transport.close();
    }
  });
});

describe('load/transport against a closed port', () => {
  it('counts every request refused, also those queued behind a connection that failed to connect', async () => {
    // A port that was just free: listen, note it, close.
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, 'close');
    const transport = createUndiciTransport(`http://127.0.0.1:${port}`, { connections: 2 });
    try {
      // More requests than connections: undici fails a connection's queue in one loop, and the pool must not
      // re-dispatch into it from there (that tripped an assertion inside undici).
      const outcomes = await Promise.all(Array.from({ length: 12 }, () => transport.send(GET, 2000)));
      expect(outcomes).to.deep.equal(Array.from({ length: 12 }, () => ({ kind: 'error', error: 'refused' })));
    } finally {
      await transport.close();
    }
  });
});

describe('load/deadline-queue', () => {
  class Entry implements Deadlined {
    done = false;
    expired = false;
    constructor(readonly deadline: number) {}
    expire(): void {
      this.expired = true;
      this.done = true;
    }
  }

  it('expires only entries past their deadline and not finished, in send order', async () => {
    const queue = new DeadlineQueue<Entry>();
    const now = performance.now();
    const entries = [new Entry(now + 20), new Entry(now + 25), new Entry(now + 30), new Entry(now + 400)];
    for (const e of entries) queue.add(e);
    (entries[1] as Entry).done = true; // answered in time
    const deadline = Date.now() + 2000;
    while (!(entries[2] as Entry).expired && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(entries.map((e) => e.expired)).to.deep.equal([true, false, true, false]);
    expect([...queue.pending()]).to.deep.equal([entries[3]]);
    queue.stop();
  });
});
