// Sidecar pairs as real child processes with file-based config, real HTTP and real mTLS on loopback:
// mTLS success, expired / unknown-CA peers → 503 UF,URX at reporter="source" only, STRICT vs PERMISSIVE,
// NR/NC local replies, the access log, and metric names/labels/buckets from ISTIO-FACTS.md.

import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  type CertificateAuthority,
  createSelfSignedAuthority,
  generateCacerts,
  loadPluggedInAuthority,
} from '../../../clusters/local/mesh/ca/index.js';
import type { MeshSnapshot } from '../../../clusters/local/mesh/config/index.js';
import { DRILL_STATS_INCLUSION_REGEXPS } from '../../../clusters/shared/index.js';
import { DURATION_BUCKETS_MS, ISTIO_LABELS } from '../../../clusters/local/mesh/proxy/stats.js';
import type { KubeObject } from '../../../harness/model/kube-object.js';
import { istio, pod, service, snapshot } from './fixtures.js';
import {
  fetchText,
  type ProxyChild,
  startApp,
  startPodSidecar,
  sumMetric,
  viaProxy,
  waitForOutput,
} from './proxy-harness.js';

const NS = 'mtls';
const CLIENT_IP = '127.42.0.11';
const SERVER_IP = '127.42.0.12';
const EXPIRED_IP = '127.42.0.13';
const FOREIGN_IP = '127.42.0.14';
const STRICT_IP = '127.42.0.15';

describe('sidecar proxy pairs (child processes, real mTLS)', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: CertificateAuthority;
  const children: ProxyChild[] = [];
  const apps: http.Server[] = [];
  let appHits = 0;

  const clientPod = pod('client-1', NS, CLIENT_IP, { app: 'client', version: 'v1' }, { sa: 'client' });
  const serverPod = pod('reviews-1', NS, SERVER_IP, { app: 'reviews', version: 'v1' }, { sa: 'reviews' });
  const expiredPod = pod('expired-1', NS, EXPIRED_IP, { app: 'expired', version: 'v1' }, { sa: 'expired' });
  const foreignPod = pod('foreign-1', NS, FOREIGN_IP, { app: 'foreign', version: 'v1' }, { sa: 'foreign' });
  const strictPod = pod('strict-1', NS, STRICT_IP, { app: 'strict', version: 'v1' }, { sa: 'strict' });
  const strictPa = istio('PeerAuthentication', 'strict', NS, {
    selector: { matchLabels: { app: 'strict' } },
    mtls: { mode: 'STRICT' },
  });
  const world: MeshSnapshot = snapshot({
    pods: [clientPod, serverPod, expiredPod, foreignPod, strictPod],
    services: [
      service('reviews', NS, { app: 'reviews' }),
      service('expired', NS, { app: 'expired' }),
      service('foreign', NS, { app: 'foreign' }),
      service('strict', NS, { app: 'strict' }),
    ],
    virtualServices: [
      istio('VirtualService', 'reviews', NS, {
        hosts: ['reviews'],
        http: [
          {
            match: [{ uri: { prefix: '/v3' } }],
            route: [{ destination: { host: 'reviews', subset: 'v3' } }],
          },
          { match: [{ uri: { prefix: '/' } }], route: [{ destination: { host: 'reviews' } }] },
        ],
      }),
      istio('VirtualService', 'strict', NS, {
        hosts: ['strict'],
        http: [{ match: [{ uri: { exact: '/only' } }], route: [{ destination: { host: 'strict' } }] }],
      }),
    ],
    peerAuthentications: [strictPa],
  });

  async function startEcho(ip: string): Promise<void> {
    apps.push(
      await startApp(ip, (req, res) => {
        appHits += 1;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`hello from ${ip} path=${req.url}`);
      }),
    );
  }

  async function startSidecar(
    p: KubeObject,
    serviceAccount: string,
    certTtlMs: number,
    authority: CertificateAuthority,
    env?: Record<string, string>,
  ) {
    const child = await startPodSidecar({ world, pod: p, serviceAccount, certTtlMs, authority, dir, env });
    children.push(child);
    return child;
  }

  let client: ProxyChild;
  let server: ProxyChild;
  let expired: ProxyChild;
  let foreign: ProxyChild;
  let strict: ProxyChild;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshdrill-mtls-'));
    ca = await loadPluggedInAuthority(await generateCacerts({ intermediateValidityMs: 3600_000 }));
    const otherCa = await createSelfSignedAuthority();
    for (const ip of [SERVER_IP, EXPIRED_IP, FOREIGN_IP, STRICT_IP]) await startEcho(ip);
    [client, server, expired, foreign, strict] = await Promise.all([
      // The client exports its TLS handshake stats, with the stats matcher meshdrill's mesh config gives proxies.
      startSidecar(clientPod, 'client', 3600_000, ca, {
        PROXY_CONFIG: JSON.stringify({
          proxyStatsMatcher: { inclusionRegexps: [...DRILL_STATS_INCLUSION_REGEXPS] },
        }),
      }),
      startSidecar(serverPod, 'reviews', 3600_000, ca),
      // Its certificate expires 1.5 s from now (long before the test calls it).
      startSidecar(expiredPod, 'expired', 1_500, ca),
      startSidecar(foreignPod, 'foreign', 3600_000, otherCa),
      startSidecar(strictPod, 'strict', 3600_000, ca),
    ]);
    await new Promise((r) => setTimeout(r, Math.max(0, 1_600)));
  });

  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    for (const a of apps) a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mTLS between sidecars: 200, counted at source (security unknown) and destination (mutual_tls, SPIFFE principal)', async () => {
    const before = appHits;
    const reply = await viaProxy(CLIENT_IP, `http://reviews.${NS}.svc.cluster.local:8080/hello`);
    expect(reply.status).to.equal(200);
    expect(reply.body).to.equal(`hello from ${SERVER_IP} path=/hello`);
    expect(appHits).to.equal(before + 1);
    const src = await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`);
    expect(
      sumMetric(src, 'istio_requests_total', {
        reporter: 'source',
        response_code: '200',
        destination_service: `reviews.${NS}.svc.cluster.local`,
        destination_workload: 'reviews-v1',
        destination_app: 'reviews',
        source_workload: 'client-v1',
        connection_security_policy: 'unknown',
      }),
    ).to.equal(1);
    const dst = await fetchText(`http://${SERVER_IP}:15020/stats/prometheus`);
    expect(
      sumMetric(dst, 'istio_requests_total', {
        reporter: 'destination',
        response_code: '200',
        connection_security_policy: 'mutual_tls',
        source_principal: `spiffe://cluster.local/ns/${NS}/sa/client`,
        source_workload: 'client-v1',
        source_app: 'client',
        destination_workload: 'reviews-v1',
      }),
    ).to.equal(1);
  });

  it('an expired peer certificate → 503 UF,URX with CERTIFICATE_VERIFY_FAILED, counted at reporter="source" only', async () => {
    const reply = await viaProxy(CLIENT_IP, `http://expired.${NS}:8080/x`);
    expect(reply.status).to.equal(503);
    expect(reply.headers['x-envoy-response-flags']).to.equal('UF,URX');
    expect(reply.body).to.match(
      /^upstream connect error or disconnect\/reset before headers\. retried and the latest reset reason: connection failure, transport failure reason: TLS_error:.*CERTIFICATE_VERIFY_FAILED/,
    );
    const src = await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`);
    expect(
      sumMetric(src, 'istio_requests_total', {
        reporter: 'source',
        response_code: '503',
        response_flags: 'UF,URX',
        destination_service_name: 'expired',
      }),
    ).to.equal(1);
    const dst = await fetchText(`http://${EXPIRED_IP}:15020/stats/prometheus`);
    expect(sumMetric(dst, 'istio_requests_total', { reporter: 'destination' })).to.equal(0);
    expect(sumMetric(dst, 'istio_agent_cert_expiry_seconds', { resource_name: 'default' })).to.be.below(0);
    await waitForOutput(
      client,
      /" 503 UF,URX upstream_reset_before_response_started\{connection_failure\} - "TLS_error:.*CERTIFICATE_VERIFY_FAILED/,
    );
  });

  it("the caller's TLS handshake stats: ssl.handshake for a good peer, ssl.fail_verify_error (not connection_error) for an expired or foreign one", async () => {
    const cluster = (host: string) => `outbound|8080||${host}.${NS}.svc.cluster.local`;
    const tlsStats = async (host: string) => {
      const text = await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`);
      const of = (stat: string) =>
        sumMetric(text, `envoy_cluster_ssl_${stat}`, { cluster_name: cluster(host) });
      return { ok: of('handshake'), verify: of('fail_verify_error'), error: of('connection_error') };
    };
    // A fresh connection to a valid peer: one handshake, no failure.
    expect(await viaProxy(CLIENT_IP, `http://strict.${NS}:8080/only`)).to.include({ status: 200 });
    expect(await tlsStats('strict')).to.deep.equal({ ok: 1, verify: 0, error: 0 });
    // An expired peer: each attempt (the first and its retries) fails verification; no handshake succeeds.
    const before = await tlsStats('expired');
    expect(await viaProxy(CLIENT_IP, `http://expired.${NS}:8080/x`)).to.include({ status: 503 });
    const after = await tlsStats('expired');
    expect(after.ok).to.equal(0);
    expect(after.error).to.equal(0);
    expect(after.verify - before.verify).to.be.at.least(1);
    expect(await viaProxy(CLIENT_IP, `http://foreign.${NS}:8080/`)).to.include({ status: 503 });
    expect((await tlsStats('foreign')).verify).to.be.at.least(1);
    expect((await tlsStats('foreign')).ok).to.equal(0);
  });

  it('a peer from an unknown CA → 503 UF,URX; the server never sees the request', async () => {
    const before = appHits;
    const reply = await viaProxy(CLIENT_IP, `http://foreign.${NS}:8080/`);
    expect(reply.status).to.equal(503);
    expect(reply.headers['x-envoy-response-flags']).to.equal('UF,URX');
    expect(appHits).to.equal(before);
    const dst = await fetchText(`http://${FOREIGN_IP}:15020/stats/prometheus`);
    expect(sumMetric(dst, 'istio_requests_total', {})).to.equal(0);
  });

  it('STRICT resets plaintext; PERMISSIVE accepts it and records connection_security_policy="none"', async () => {
    const plain = (ip: string, port: number) =>
      new Promise<string>((resolve) => {
        const req = http.request({
          host: ip,
          port: 15006,
          path: '/p',
          headers: { 'x-meshdrill-original-dst': `${ip}:${port}` },
          agent: false,
        });
        req.once('response', (res) => {
          res.resume();
          resolve(String(res.statusCode));
        });
        req.once('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
        req.end();
      });
    expect(await plain(STRICT_IP, 8080)).to.equal('ECONNRESET');
    expect(await plain(SERVER_IP, 8080)).to.equal('200');
    const dst = await fetchText(`http://${SERVER_IP}:15020/stats/prometheus`);
    expect(
      sumMetric(dst, 'istio_requests_total', { reporter: 'destination', connection_security_policy: 'none' }),
    ).to.equal(1);
    // Through the client sidecar the STRICT server gets mTLS (auto-mTLS) and answers.
    expect((await viaProxy(CLIENT_IP, `http://strict.${NS}:8080/only`)).status).to.equal(200);
  });

  it('no matching route → 404 NR; a subset without a DestinationRule → 503 NC (local replies with x-envoy-response-flags)', async () => {
    const nr = await viaProxy(CLIENT_IP, `http://strict.${NS}:8080/ONLY`);
    expect(nr.status).to.equal(404);
    expect(nr.headers['x-envoy-response-flags']).to.equal('NR');
    const nc = await viaProxy(CLIENT_IP, `http://reviews:8080/v3/x`);
    expect(nc.status).to.equal(503);
    expect(nc.headers['x-envoy-response-flags']).to.equal('NC');
    const src = await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`);
    expect(sumMetric(src, 'istio_requests_total', { response_code: '404', response_flags: 'NR' })).to.equal(
      1,
    );
    expect(sumMetric(src, 'istio_requests_total', { response_code: '503', response_flags: 'NC' })).to.equal(
      1,
    );
  });

  it('NR and NC reach no cluster: the destination service is the Host header as sent, its namespace unknown', async () => {
    // Istio's stats filter: no upstream cluster metadata → destination_service and destination_service_name
    // both fall back to the Host header (port included); with no peer, destination_service_namespace=unknown.
    expect((await viaProxy(CLIENT_IP, `http://strict.${NS}:8080/Only`)).status).to.equal(404);
    expect((await viaProxy(CLIENT_IP, `http://reviews:8080/v3/y`)).status).to.equal(503);
    const src = await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`);
    const unrouted = (host: string, code: string, flag: string): number =>
      sumMetric(src, 'istio_requests_total', {
        destination_service: host,
        destination_service_name: host,
        destination_service_namespace: 'unknown',
        response_code: code,
        response_flags: flag,
      });
    expect(unrouted(`strict.${NS}:8080`, '404', 'NR')).to.be.greaterThan(0);
    expect(unrouted('reviews:8080', '503', 'NC')).to.be.greaterThan(0);
  });

  it('metric names, the Istio label set and the duration buckets match ISTIO-FACTS.md', async () => {
    const text = await fetchText(`http://${SERVER_IP}:15020/stats/prometheus`);
    const sample = text.split('\n').find((l) => l.startsWith('istio_requests_total{')) ?? '';
    const labelNames = [...sample.matchAll(/([a-z_]+)="/g)].map((m) => m[1]);
    expect(labelNames).to.deep.equal([...ISTIO_LABELS]);
    const les = text
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('istio_request_duration_milliseconds_bucket{') &&
          l.includes('reporter="destination"') &&
          l.includes('response_code="200"') &&
          l.includes('mutual_tls'),
      )
      .map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    expect(les).to.deep.equal([...DURATION_BUCKETS_MS.map(String), '+Inf']);
    for (const name of [
      'envoy_server_memory_allocated',
      'envoy_server_memory_heap_size',
      'envoy_server_live',
      'envoy_server_days_until_first_cert_expiring',
      'envoy_cluster_manager_active_clusters',
      'istio_agent_cert_expiry_seconds{resource_name="default"}',
    ]) {
      expect(text, name).to.include(`\n${name}`);
    }
    expect(sumMetric(text, 'envoy_server_memory_allocated', {})).to.be.above(1_000_000);
    // Per-cluster stats only with proxyStatsMatcher inclusion.
    expect(text).to.not.include('envoy_cluster_upstream_rq_retry');
    expect(strict.pid).to.be.a('number');
    expect(server.pid).to.be.a('number');
    expect(expired.pid).to.be.a('number');
    expect(foreign.pid).to.be.a('number');
  });
});
