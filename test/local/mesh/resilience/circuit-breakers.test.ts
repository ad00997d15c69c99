// Circuit-breaker facts (ISTIO-FACTS.md "Routing, retries, resilience") through real sidecar processes:
// DestinationRule connectionPool caps → 503 UO and upstream_rq_pending_overflow; maxRetries and retryBudget
// cap concurrent retries (upstream_rq_retry_overflow); amplification through a two-hop chain with aggressive
// retries is capped by a retry budget.

import { expect } from 'chai';
import type http from 'node:http';
import {
  maxActiveRetries,
  parseThresholds,
  UNLIMITED,
} from '../../../../clusters/local/mesh/proxy/resilience/circuit-breaker.js';
import { istio, pod, service, snapshot } from '../fixtures.js';
import { sumMetric } from '../proxy-harness.js';
import {
  ALL_CLUSTER_STATS,
  adminJson,
  clusterStat,
  flagsOf,
  Rig,
  type SidecarHandle,
  scrape,
  sendMany,
  viaProxy,
  waitForVersion,
} from './rig.js';

const NS = 'breakers';
const A_IP = '127.48.1.11';
const B_IP = '127.48.1.12';
const C_IP = '127.48.1.13';
const SLOW_IP = '127.48.1.14';
const cluster = (svc: string) => `outbound|8080||${svc}.${NS}.svc.cluster.local`;

describe('resilience: circuit breakers and retry budgets (child process sidecars)', function () {
  this.timeout(90_000);
  const rig = new Rig(NS);
  let a: SidecarHandle;
  let b: SidecarHandle;
  let cHits = 0;
  let slowHits = 0;

  const dr = (host: string, trafficPolicy: Record<string, unknown>) =>
    istio('DestinationRule', host, NS, { host, trafficPolicy });
  const vs = (host: string, retries: Record<string, unknown>) =>
    istio('VirtualService', host, NS, {
      hosts: [host],
      http: [{ route: [{ destination: { host } }], retries }],
    });
  const aggressive = { attempts: 5, retryOn: '5xx', backoff: '2ms' };

  const pods = [
    pod('a-1', NS, A_IP, { app: 'a' }, { sa: 'a' }),
    pod('b-1', NS, B_IP, { app: 'b' }, { sa: 'b' }),
    pod('c-1', NS, C_IP, { app: 'c' }, { sidecar: false }),
    pod('slow-1', NS, SLOW_IP, { app: 'slow' }, { sidecar: false }),
  ];
  const baseWorld = (extra: { budget?: boolean } = {}) =>
    snapshot({
      pods,
      services: [
        service('b', NS, { app: 'b' }),
        service('c', NS, { app: 'c' }),
        ...['pending', 'requests', 'retries', 'open'].map((n) => service(n, NS, { app: 'slow' })),
      ],
      virtualServices: [
        vs('b', aggressive),
        vs('c', aggressive),
        vs('retries', { attempts: 3, retryOn: '503', backoff: '1ms' }),
      ],
      destinationRules: [
        dr('pending', {
          connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } },
        }),
        dr('requests', { connectionPool: { http: { http2MaxRequests: 2 } } }),
        dr('retries', { connectionPool: { http: { maxRetries: 1 } } }),
        ...(extra.budget
          ? [
              dr('b', { retryBudget: { percent: 20, minRetryConcurrency: 1 } }),
              dr('c', { retryBudget: { percent: 20, minRetryConcurrency: 1 } }),
            ]
          : []),
      ],
    });

  before(async () => {
    // c always fails slowly enough for requests to overlap; slow answers /ok/MS or /503/MS after MS.
    await rig.app(C_IP, (_req, res) => {
      cHits += 1;
      setTimeout(() => res.writeHead(503).end('c is down'), 20);
    });
    await rig.app(SLOW_IP, (req: http.IncomingMessage, res: http.ServerResponse) => {
      slowHits += 1;
      const [, kind, ms] = (req.url ?? '').split('/');
      setTimeout(() => res.writeHead(kind === '503' ? 503 : 200).end(kind), Number(ms ?? 0));
    });
    // b's app calls c through b's own sidecar (HTTP_PROXY style) and answers with c's status.
    await rig.app(B_IP, (_req, res) => {
      viaProxy(B_IP, `http://c.${NS}:8080/`).then(
        (r) => res.writeHead(r.status).end(r.body),
        () => res.writeHead(500).end('b failed'),
      );
    });
    const world = baseWorld();
    [a, b] = await Promise.all([
      rig.sidecar(pods[0] as (typeof pods)[0], world, { env: ALL_CLUSTER_STATS }),
      rig.sidecar(pods[1] as (typeof pods)[1], world, { env: ALL_CLUSTER_STATS }),
    ]);
  });
  after(() => rig.stop());
  const get = (svc: string, path = '/') => viaProxy(A_IP, `http://${svc}.${NS}:8080${path}`);

  it('thresholds default to 2^32−1 (nothing capped) and come from connectionPool; the budget replaces maxRetries', () => {
    const none = parseThresholds({});
    expect([none.maxConnections, none.maxPendingRequests, none.maxRequests, none.maxRetries]).to.deep.equal([
      UNLIMITED,
      UNLIMITED,
      UNLIMITED,
      UNLIMITED,
    ]);
    const t = parseThresholds({ connectionPool: { http: { maxRetries: 7 } }, retryBudget: {} });
    expect(t.retryBudget).to.deep.equal({ percent: 20, minRetryConcurrency: 3 });
    expect(maxActiveRetries(t, 10, 0)).to.equal(3);
    expect(maxActiveRetries(t, 100, 50)).to.equal(30);
    expect(
      maxActiveRetries(parseThresholds({ connectionPool: { http: { maxRetries: 7 } } }), 100, 0),
    ).to.equal(7);
  });

  it('http1MaxPendingRequests 1 with maxConnections 1: one active, one pending, the rest 503 UO "reset reason: overflow"', async () => {
    const replies = await sendMany(6, 6, () => get('pending', '/ok/300'));
    const ok = replies.filter((r) => r.status === 200);
    const overflow = replies.filter((r) => r.status === 503 && flagsOf(r) === 'UO');
    expect(ok).to.have.length(2);
    expect(overflow).to.have.length(4);
    expect(overflow[0]?.body).to.equal(
      'upstream connect error or disconnect/reset before headers. reset reason: overflow',
    );
    expect(
      await clusterStat(A_IP, 'envoy_cluster_upstream_rq_pending_overflow', cluster('pending')),
    ).to.equal(4);
    const src = await scrape(A_IP);
    expect(
      sumMetric(src, 'istio_requests_total', { destination_service_name: 'pending', response_flags: 'UO' }),
    ).to.equal(4);
  });

  it('http2MaxRequests 2: a third concurrent request overflows (503 UO, counted as pending overflow)', async () => {
    const replies = await sendMany(5, 5, () => get('requests', '/ok/300'));
    expect(replies.filter((r) => r.status === 200)).to.have.length(2);
    expect(replies.filter((r) => flagsOf(r) === 'UO')).to.have.length(3);
    expect(
      await clusterStat(A_IP, 'envoy_cluster_upstream_rq_pending_overflow', cluster('requests')),
    ).to.equal(3);
  });

  it('maxRetries 1: concurrent retries beyond one are refused → upstream_rq_retry_overflow, response passed on with UO', async () => {
    slowHits = 0;
    const replies = await sendMany(10, 10, () => get('retries', '/503/150'));
    const overflow = await clusterStat(A_IP, 'envoy_cluster_upstream_rq_retry_overflow', cluster('retries'));
    const retried = await clusterStat(A_IP, 'envoy_cluster_upstream_rq_retry', cluster('retries'));
    expect(overflow).to.be.at.least(5);
    expect(replies.every((r) => r.status === 503)).to.equal(true);
    expect(replies.some((r) => flagsOf(r) === 'UO')).to.equal(true);
    // Every request made one first attempt; the retries that got through are the rest.
    expect(slowHits).to.equal(10 + retried);
    expect(retried).to.be.below(30);
  });

  it('two-hop amplification (destination/source) with aggressive retries is (1+5)² = 36, and a retry budget caps it', async () => {
    const measure = async (): Promise<{ amplification: number; overflow: number }> => {
      cHits = 0;
      const before = sumMetric(await scrape(A_IP), 'istio_requests_total', {
        reporter: 'source',
        destination_service_name: 'b',
      });
      const replies = await sendMany(30, 30, () => get('b'));
      expect(replies.every((r) => r.status === 503)).to.equal(true);
      const after = sumMetric(await scrape(A_IP), 'istio_requests_total', {
        reporter: 'source',
        destination_service_name: 'b',
      });
      const overflow =
        (await clusterStat(A_IP, 'envoy_cluster_upstream_rq_retry_overflow', cluster('b'))) +
        (await clusterStat(B_IP, 'envoy_cluster_upstream_rq_retry_overflow', cluster('c')));
      return { amplification: cHits / (after - before), overflow };
    };
    const unbounded = await measure();
    expect(unbounded.amplification).to.equal(36);
    expect(unbounded.overflow).to.equal(0);

    const world = baseWorld({ budget: true });
    rig.configure(a, world, '2');
    rig.configure(b, world, '2');
    await Promise.all([waitForVersion(A_IP, '2'), waitForVersion(B_IP, '2')]);
    const status = (await adminJson(B_IP, '/clusters?format=json')) as {
      cluster_statuses: { name: string; circuit_breakers: { thresholds: { retry_budget?: unknown }[] } }[];
    };
    expect(
      status.cluster_statuses.find((c) => c.name === cluster('c'))?.circuit_breakers.thresholds[0]
        ?.retry_budget,
    ).to.deep.equal({
      budget_percent: 20,
      min_retry_concurrency: 1,
    });
    const budgeted = await measure();
    expect(budgeted.overflow).to.be.above(0);
    expect(budgeted.amplification).to.be.below(unbounded.amplification / 2);
  });
});
