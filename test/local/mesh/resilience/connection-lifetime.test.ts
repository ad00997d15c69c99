// DestinationRule connectionPool limits on an upstream connection's life (maxConnectionDuration,
// maxRequestsPerConnection), on the proxy's upstream connection pool against a loopback server that counts its
// connections.

import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { expect } from 'chai';
import {
  type ConnectionLifetime,
  parseConnectionLifetime,
} from '../../../../clusters/local/mesh/proxy/resilience/connection-lifetime.js';
import { ConnectionPool } from '../../../../clusters/local/programs/lib/http1/index.js';

describe('upstream connection lifetime (DestinationRule connectionPool)', () => {
  let server: http.Server;
  let port: number;
  const opened: Socket[] = [];
  let closed = 0;
  let holdNext: (() => void) | undefined;

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/slow') {
        holdNext = () => res.end('slow');
        return;
      }
      res.end('ok');
    });
    server.on('connection', (socket: Socket) => {
      opened.push(socket);
      socket.once('close', () => {
        closed += 1;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  beforeEach(() => {
    opened.length = 0;
    closed = 0;
  });

  function agentWith(lifetime: ConnectionLifetime): ConnectionPool {
    const connect = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      });
    return new ConnectionPool(connect, lifetime);
  }

  async function get(pool: ConnectionPool, path = '/'): Promise<string> {
    const connection = await pool.acquire();
    return new Promise((resolve, reject) => {
      connection.send(
        { method: 'GET', path, headers: { host: 'upstream' }, body: Buffer.alloc(0) },
        {
          response: (response) => {
            let body = '';
            response.consume({
              data: (d) => {
                body += d.toString();
              },
              end: () => resolve(body),
              abort: () => reject(new Error('aborted')),
            });
          },
          error: reject,
        },
      );
    });
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('reads tcp.maxConnectionDuration and http.maxRequestsPerConnection; absent or 0 means no limit', () => {
    expect(
      parseConnectionLifetime({
        connectionPool: { tcp: { maxConnectionDuration: '30s' }, http: { maxRequestsPerConnection: 5 } },
      }),
    ).to.deep.equal({ maxDurationMs: 30_000, maxRequests: 5 });
    expect(parseConnectionLifetime({})).to.deep.equal({});
    expect(
      parseConnectionLifetime({ connectionPool: { http: { maxRequestsPerConnection: 0 } } }),
    ).to.deep.equal({});
  });

  it('without limits, sequential requests share one pooled connection', async () => {
    const agent = agentWith({});
    for (let i = 0; i < 5; i++) expect(await get(agent)).to.equal('ok');
    expect(opened.length).to.equal(1);
    agent.destroy();
  });

  it('maxRequestsPerConnection closes a connection after that many requests', async () => {
    const agent = agentWith({ maxRequests: 2 });
    for (let i = 0; i < 5; i++) expect(await get(agent)).to.equal('ok');
    expect(opened.length).to.equal(3);
    agent.destroy();
  });

  it('maxConnectionDuration closes an idle pooled connection when it runs out; the next request opens a new one', async () => {
    const agent = agentWith({ maxDurationMs: 150 });
    expect(await get(agent)).to.equal('ok');
    await sleep(300);
    expect(closed).to.equal(1);
    expect(await get(agent)).to.equal('ok');
    expect(opened.length).to.equal(2);
    agent.destroy();
  });

  it('maxConnectionDuration drains: a request in flight when the duration runs out completes, then the connection closes', async () => {
    const agent = agentWith({ maxDurationMs: 100 });
    const slow = get(agent, '/slow');
    await sleep(250);
    expect(closed).to.equal(0);
    holdNext?.();
    expect(await slow).to.equal('slow');
    await sleep(50);
    expect(closed).to.equal(1);
    expect(await get(agent)).to.equal('ok');
    expect(opened.length).to.equal(2);
    agent.destroy();
  });
});
