// Retry facts of ISTIO-FACTS.md "Routing, retries, resilience" through real sidecar processes: an app 503 is not
// retried by default; `retryOn: 503` retries it (amplification = destination / source); connection failures
// are retried twice by default (UF,URX); x-envoy-attempt-count; per-cluster stats only with proxyStatsMatcher.

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createSelfSignedAuthority } from '../../../clusters/local/mesh/ca/index.js';
import { buildProxyConfig, proxyNodeForPod } from '../../../clusters/local/mesh/config/index.js';
import { istio, pod, service, snapshot } from './fixtures.js';
import {
  fetchText,
  issueCerts,
  type ProxyChild,
  startProxyChild,
  sumMetric,
  viaProxy,
  waitForOutput,
  writeConfig,
} from './proxy-harness.js';

const NS = 'retry';
const CLIENT_IP = '127.47.0.11';
const SERVER_IP = '127.47.0.12';
const DEAD_IP = '127.47.0.13';

describe('sidecar retries (child processes)', function () {
  this.timeout(60_000);
  let dir: string;
  const children: ProxyChild[] = [];
  let app: http.Server;
  let attemptsSeen: string[] = [];
  let client: ProxyChild;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshdrill-retry-'));
    const ca = await createSelfSignedAuthority();
    app = http.createServer((req, res) => {
      attemptsSeen.push(String(req.headers['x-envoy-attempt-count']));
      if (req.url === '/slow') {
        setTimeout(() => res.writeHead(200).end('late'), 600);
        return;
      }
      res.writeHead(503).end('app says 503');
    });
    app.listen(8080, SERVER_IP);
    await once(app, 'listening');
    const clientPod = pod('client-1', NS, CLIENT_IP, { app: 'client' }, { sa: 'client' });
    const serverPod = pod('flaky-1', NS, SERVER_IP, { app: 'flaky' }, { sa: 'flaky' });
    // In the mesh (has a sidecar in its spec) but nothing listens: connections are refused.
    const deadPod = pod('dead-1', NS, DEAD_IP, { app: 'dead' }, { sa: 'dead' });
    const world = snapshot({
      pods: [clientPod, serverPod, deadPod],
      services: [
        service('plain', NS, { app: 'flaky' }),
        service('retried', NS, { app: 'flaky' }),
        service('dead', NS, { app: 'dead' }),
        service('faulty', NS, { app: 'flaky' }),
        service('slow', NS, { app: 'flaky' }),
        service('empty', NS, { app: 'nobody' }),
      ],
      virtualServices: [
        istio('VirtualService', 'retried', NS, {
          hosts: ['retried'],
          http: [{ route: [{ destination: { host: 'retried' } }], retries: { attempts: 3, retryOn: '503' } }],
        }),
        istio('VirtualService', 'slow', NS, {
          hosts: ['slow'],
          http: [{ route: [{ destination: { host: 'slow' } }], timeout: '150ms' }],
        }),
        istio('VirtualService', 'faulty', NS, {
          hosts: ['faulty'],
          http: [
            {
              route: [{ destination: { host: 'faulty' } }],
              fault: { abort: { httpStatus: 418, percentage: { value: 100 } } },
            },
          ],
        }),
      ],
    });
    const start = async (p: typeof clientPod, sa: string, ip: string, env: Record<string, string> = {}) => {
      const certDir = join(dir, sa);
      await issueCerts(ca, certDir, NS, sa, 3600_000);
      const configFile = join(dir, `${sa}.json`);
      writeConfig(
        configFile,
        buildProxyConfig({ snapshot: world, node: proxyNodeForPod(p, 'sidecar'), version: '1' }),
      );
      const child = await startProxyChild({
        podIP: ip,
        podName: String(p.metadata.name),
        namespace: NS,
        serviceAccount: sa,
        configFile,
        certDir,
        env,
      });
      children.push(child);
      return child;
    };
    [client] = await Promise.all([
      start(clientPod, 'client', CLIENT_IP, {
        PROXY_CONFIG: JSON.stringify({
          proxyStatsMatcher: { inclusionRegexps: ['.*upstream_rq_retry.*', '.*upstream_cx_connect_fail'] },
        }),
      }),
      start(serverPod, 'flaky', SERVER_IP),
    ]);
  });

  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    attemptsSeen = [];
  });

  it('an application 503 is not retried by default (one attempt, flags "-")', async () => {
    const reply = await viaProxy(CLIENT_IP, `http://plain.${NS}:8080/`);
    expect(reply.status).to.equal(503);
    expect(reply.body).to.equal('app says 503');
    expect(reply.headers['x-envoy-response-flags']).to.equal(undefined);
    expect(attemptsSeen).to.deep.equal(['1']);
    const src = await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`);
    expect(
      sumMetric(src, 'istio_requests_total', {
        reporter: 'source',
        destination_service_name: 'plain',
        response_flags: '-',
        response_code: '503',
      }),
    ).to.equal(1);
  });

  it('retryOn "503" retries the app 503: 1 + attempts requests reach the destination, one is counted at the source (URX)', async () => {
    const reply = await viaProxy(CLIENT_IP, `http://retried.${NS}:8080/`);
    expect(reply.status).to.equal(503);
    expect(reply.headers['x-envoy-response-flags']).to.equal('URX');
    expect(attemptsSeen).to.deep.equal(['1', '2', '3', '4']);
    const src = await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`);
    const dst = await fetchText(`http://${SERVER_IP}:15020/stats/prometheus`);
    const source = sumMetric(src, 'istio_requests_total', {
      reporter: 'source',
      destination_service_name: 'retried',
    });
    const destination = sumMetric(dst, 'istio_requests_total', {
      reporter: 'destination',
      destination_service_name: 'retried',
    });
    expect(source).to.equal(1);
    // Amplification = destination rate / source rate for the same service.
    expect(destination / source).to.equal(4);
    expect(
      sumMetric(src, 'envoy_cluster_upstream_rq_retry', {
        cluster_name: `outbound|8080||retried.${NS}.svc.cluster.local`,
      }),
    ).to.equal(3);
  });

  it('connection failures are retried twice by default → 503 UF,URX with "delayed connect error: 111"', async () => {
    const reply = await viaProxy(CLIENT_IP, `http://dead.${NS}:8080/`);
    expect(reply.status).to.equal(503);
    expect(reply.headers['x-envoy-response-flags']).to.equal('UF,URX');
    expect(reply.body).to.include('delayed connect error: 111');
    const src = await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`);
    const cluster = `outbound|8080||dead.${NS}.svc.cluster.local`;
    expect(sumMetric(src, 'envoy_cluster_upstream_rq_retry', { cluster_name: cluster })).to.equal(2);
    expect(sumMetric(src, 'envoy_cluster_upstream_cx_connect_fail', { cluster_name: cluster })).to.equal(3);
    expect(
      sumMetric(src, 'envoy_cluster_upstream_rq_retry_limit_exceeded', { cluster_name: cluster }),
    ).to.equal(1);
    // Not in the inclusion list: not exported.
    expect(src).to.not.include('envoy_cluster_upstream_rq_total');
  });

  it('a VirtualService fault abort answers at the client sidecar with flag FI; the app never sees it', async () => {
    const reply = await viaProxy(CLIENT_IP, `http://faulty.${NS}:8080/`);
    expect(reply.status).to.equal(418);
    expect(reply.headers['x-envoy-response-flags']).to.equal('FI');
    expect(reply.body).to.equal('fault filter abort');
    expect(attemptsSeen).to.deep.equal([]);
    await waitForOutput(client, /" 418 FI fault_filter_abort /);
  });

  it('a route timeout answers 504 UT "upstream request timeout"', async () => {
    const started = Date.now();
    const reply = await viaProxy(CLIENT_IP, `http://slow.${NS}:8080/slow`);
    expect(reply.status).to.equal(504);
    expect(reply.headers['x-envoy-response-flags']).to.equal('UT');
    expect(reply.body).to.equal('upstream request timeout');
    expect(Date.now() - started).to.be.below(550);
  });

  it('a service without endpoints answers 503 UH "no healthy upstream"', async () => {
    const reply = await viaProxy(CLIENT_IP, `http://empty.${NS}:8080/`);
    expect(reply.status).to.equal(503);
    expect(reply.headers['x-envoy-response-flags']).to.equal('UH');
    expect(reply.body).to.equal('no healthy upstream');
  });
});
