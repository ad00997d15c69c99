// The kube-proxy stand-in on its own thread: traffic through a nodePort keeps its latency while the harness's main
// thread is blocked for 500 ms at a time; the same forwarder on the main thread, as a negative control, shows
// every block. Faults published for a pod reach the thread; a stop closes the listeners, promptly even when the
// backend died under load.

import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { freePort } from '../../support/ports.js';
import { createKubeProxy, type ListenerSpec } from '../../../clusters/local/network/kube-proxy.js';
import { startKubeProxyThread } from '../../../clusters/local/network/kube-proxy-thread.js';
import { createIsolatedBuiltinDriver } from '../../../harness/load/index.js';
import { p99WhileMainThreadBlocked, startServerThread } from '../../load/support.js';
import { until } from './support.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('local network: the kube-proxy thread', function () {
  this.timeout(30_000);
  let server: Awaited<ReturnType<typeof startServerThread>>;
  let backendPort: number;
  before(async () => {
    server = await startServerThread();
    backendPort = Number(new URL(server.url).port);
  });
  after(async () => {
    await server.stop();
  });

  const spec = (port: number): ListenerSpec => ({
    host: '127.0.0.1',
    port,
    service: 'default/echo',
    backends: [{ ip: '127.0.0.1', port: backendPort }],
  });

  it('forwards through a nodePort while the main thread is blocked for 500 ms, twice', async () => {
    const port = await freePort();
    const proxy = startKubeProxyThread();
    try {
      proxy.sync([spec(port)]);
      await until('listener open', () => proxy.openListeners().includes(`127.0.0.1:${port}`), 5000);
      const { p99 } = await p99WhileMainThreadBlocked(
        createIsolatedBuiltinDriver(),
        `http://127.0.0.1:${port}`,
      );
      // Two loopback hops take a millisecond or two; a block that reached the forwarder would add up to 500 ms.
      expect(p99, 'p99 through the nodePort with the main thread blocked').to.be.lessThan(25);
    } finally {
      await proxy.stop();
    }
    expect(await refused(port), 'the listener is closed after stop').to.equal(true);
  });

  it('negative control: the same forwarder on the main thread shows the blocks as latency', async () => {
    const port = await freePort();
    const proxy = createKubeProxy();
    try {
      proxy.sync([spec(port)]);
      await until('listener open', () => refused(port).then((r) => !r), 5000);
      const { p99 } = await p99WhileMainThreadBlocked(
        createIsolatedBuiltinDriver(),
        `http://127.0.0.1:${port}`,
      );
      expect(p99).to.be.greaterThan(300);
    } finally {
      await proxy.stop();
    }
  });

  it('applies the fault table it is handed: a partition of the backend stalls new connections', async () => {
    const port = await freePort();
    const proxy = startKubeProxyThread();
    try {
      proxy.sync([spec(port)]);
      await until('listener open', () => proxy.openListeners().length === 1, 5000);
      proxy.setFaults(
        new Map([
          [
            '127.0.0.1',
            [{ source: 'NetworkChaos/default/cut', action: 'partition', direction: 'both', peers: '*' }],
          ],
        ]),
      );
      const stalled = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) }).then(
        () => 'answered',
        (e: Error) => e.name,
      );
      expect(stalled).to.equal('TimeoutError');
      proxy.setFaults(new Map());
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      expect(res.status).to.equal(200);
    } finally {
      await proxy.stop();
    }
  });

  it('stops at once when its backend died under load, and leaves no thread busy (three rounds)', async () => {
    // What a drill's own cluster meets at teardown: its gateway gone while connections keep coming. With resets
    // instead of closes, some never completed, the stop waited out its grace, and the terminated thread spun at
    // 100 % CPU in Node's handle cleanup (5 rounds of 10 here).
    for (let round = 0; round < 3; round++) {
      const backend = http.createServer((_req, res) => res.end('ok'));
      await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
      const port = await freePort();
      const proxy = startKubeProxyThread();
      proxy.sync([
        {
          host: '127.0.0.1',
          port,
          service: 'default/echo',
          backends: [{ ip: '127.0.0.1', port: (backend.address() as AddressInfo).port }],
        },
      ]);
      await until('listener open', () => proxy.openListeners().length === 1, 5000);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
      let hammering = true;
      const hammer = async (): Promise<void> => {
        while (hammering) {
          await new Promise<void>((done) => {
            http
              .get({ host: '127.0.0.1', port, agent }, (res) => {
                res.resume();
                res.on('end', done);
              })
              .on('error', () => done());
          });
        }
      };
      const clients = Array.from({ length: 10 }, hammer);
      await new Promise((r) => setTimeout(r, 300));
      backend.closeAllConnections();
      backend.close();
      await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      await proxy.stop();
      const stopMs = Date.now() - t0;
      hammering = false;
      await Promise.all(clients);
      agent.destroy();
      const before = threadTicks();
      await new Promise((r) => setTimeout(r, 1000));
      const busy = [...threadTicks()].filter(([tid, ticks]) => ticks - (before.get(tid) ?? ticks) > 50);
      expect(stopMs, `round ${round}: the stop`).to.be.lessThan(2000);
      expect(busy, `round ${round}: threads over 50 % of a core in the second after the stop`).to.deep.equal(
        [],
      );
    }
  });
});

/** CPU ticks of each thread of this process. */
function threadTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended
    }
  }
  return out;
}
