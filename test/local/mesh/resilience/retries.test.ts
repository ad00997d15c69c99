// Retry and timeout facts (ISTIO-FACTS.md "Routing, retries, resilience") through a real sidecar process:
// Istio's default policy, VirtualService `retries` (attempts, retryOn policies and bare codes, perTryTimeout,
// backoff), route timeout 504 UT, x-envoy-attempt-count, URX, and no cap on concurrent retries by default.

import { expect } from 'chai';
import type http from 'node:http';
import {
  backoffMs,
  isRetriableFailure,
  isRetriableStatus,
  parseRetryOn,
} from '../../../../clusters/local/mesh/proxy/resilience/retry-policy.js';
import { istio, pod, service, snapshot } from '../fixtures.js';
import { clusterStat, flagsOf, Rig, sendMany, statsEnv, viaProxy } from './rig.js';

const NS = 'retries';
const CLIENT_IP = '127.48.0.11';
const APP_IP = '127.48.0.12';
const DEAD_IP = '127.48.0.13';
const cluster = (svc: string) => `outbound|8080||${svc}.${NS}.svc.cluster.local`;

describe('resilience: retries and timeouts (child process sidecar)', function () {
  this.timeout(60_000);
  const rig = new Rig(NS);
  let seen: { path: string; attempt: string }[] = [];

  const vs = (host: string, http: Record<string, unknown>) =>
    istio('VirtualService', host, NS, {
      hosts: [host],
      http: [{ route: [{ destination: { host } }], ...http }],
    });

  before(async () => {
    // The app answers by path: /status/NNN, /reset (drops the connection), /slow/MS.
    await rig.app(APP_IP, (req: http.IncomingMessage, res: http.ServerResponse) => {
      const path = req.url ?? '/';
      seen.push({ path, attempt: String(req.headers['x-envoy-attempt-count']) });
      const status = /^\/status\/(\d+)/.exec(path);
      if (status) return void res.writeHead(Number(status[1])).end(`app ${status[1]}`);
      if (path === '/reset') return void req.socket.destroy();
      const slow = /^\/slow\/(\d+)/.exec(path);
      if (slow) return void setTimeout(() => res.writeHead(200).end('late'), Number(slow[1]));
      res.writeHead(200).end('ok');
    });
    const apps = { app: 'app' };
    const world = snapshot({
      pods: [
        pod('client-1', NS, CLIENT_IP, { app: 'client' }, { sa: 'client' }),
        pod('app-1', NS, APP_IP, apps, { sidecar: false }),
        pod('dead-1', NS, DEAD_IP, { app: 'dead' }, { sidecar: false }),
      ],
      services: [
        ...[
          'plain',
          'off',
          'off-unset',
          'fivexx',
          'gw',
          'codes',
          'four',
          'pertry',
          'slow',
          'backoff',
          'many',
        ].map((n) => service(n, NS, apps)),
        service('dead', NS, { app: 'dead' }),
        service('dead-off', NS, { app: 'dead' }),
        service('dead-cf', NS, { app: 'dead' }),
      ],
      virtualServices: [
        vs('off', { retries: { attempts: 0 } }),
        vs('off-unset', { retries: { retryOn: '5xx' } }),
        vs('dead-off', { retries: { attempts: 0 } }),
        vs('dead-cf', { retries: { attempts: 4, retryOn: 'connect-failure' } }),
        vs('fivexx', { retries: { attempts: 2, retryOn: '5xx' } }),
        vs('gw', { retries: { attempts: 2, retryOn: 'gateway-error' } }),
        vs('codes', { retries: { attempts: 3, retryOn: '500,reset' } }),
        vs('four', { retries: { attempts: 1, retryOn: 'retriable-4xx' } }),
        vs('pertry', { retries: { attempts: 2, retryOn: '5xx', perTryTimeout: '100ms' } }),
        vs('slow', { timeout: '150ms' }),
        vs('backoff', { retries: { attempts: 1, retryOn: '503', backoff: '300ms' } }),
        vs('many', { retries: { attempts: 3, retryOn: '503', backoff: '1ms' } }),
      ],
    });
    await rig.sidecar(world.pods[0] as (typeof world.pods)[0], world, {
      env: statsEnv({
        inclusionRegexps: ['.*upstream_rq_retry.*', '.*upstream_cx_connect_fail', '.*rq_timeout'],
      }),
    });
  });
  after(() => rig.stop());
  beforeEach(() => {
    seen = [];
  });
  const get = (svc: string, path = '/') => viaProxy(CLIENT_IP, `http://${svc}.${NS}:8080${path}`);

  it('default policy: an app 503 is not retried (one attempt, no flags)', async () => {
    const r = await get('plain', '/status/503');
    expect([r.status, flagsOf(r), r.body]).to.deep.equal([503, '-', 'app 503']);
    expect(seen.map((s) => s.attempt)).to.deep.equal(['1']);
  });

  it('default policy: a connection failure is retried twice → 503 UF,URX and three connect failures', async () => {
    const r = await get('dead');
    expect([r.status, flagsOf(r)]).to.deep.equal([503, 'UF,URX']);
    expect(r.body).to.equal(
      'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection failure, transport failure reason: delayed connect error: 111',
    );
    expect(await clusterStat(CLIENT_IP, 'envoy_cluster_upstream_cx_connect_fail', cluster('dead'))).to.equal(
      3,
    );
    expect(await clusterStat(CLIENT_IP, 'envoy_cluster_upstream_rq_retry', cluster('dead'))).to.equal(2);
    expect(
      await clusterStat(CLIENT_IP, 'envoy_cluster_upstream_rq_retry_limit_exceeded', cluster('dead')),
    ).to.equal(1);
  });

  it('default policy: a reset before response headers is retried (3 attempts, 503 UC,URX)', async () => {
    const r = await get('plain', '/reset');
    expect([r.status, flagsOf(r)]).to.deep.equal([503, 'UC,URX']);
    expect(seen.map((s) => s.attempt)).to.deep.equal(['1', '2', '3']);
  });

  it('attempts: 0 disables retries: one connection attempt, 503 UF without URX, reset reason not "retried"', async () => {
    const r = await get('dead-off');
    expect([r.status, flagsOf(r)]).to.deep.equal([503, 'UF']);
    expect(r.body).to.include('. reset reason: connection failure');
    expect(
      await clusterStat(CLIENT_IP, 'envoy_cluster_upstream_cx_connect_fail', cluster('dead-off')),
    ).to.equal(1);
  });

  it('retries without attempts also disables retries (Istio treats attempts 0/unset as "no policy")', async () => {
    const r = await get('off-unset', '/status/500');
    expect(r.status).to.equal(500);
    expect(seen).to.have.length(1);
    const r2 = await get('off', '/reset');
    expect(flagsOf(r2)).to.equal('UC');
  });

  it('retryOn connect-failure: at most 1 + attempts connection attempts', async () => {
    const r = await get('dead-cf');
    expect(flagsOf(r)).to.equal('UF,URX');
    expect(
      await clusterStat(CLIENT_IP, 'envoy_cluster_upstream_cx_connect_fail', cluster('dead-cf')),
    ).to.equal(5);
  });

  it('retryOn 5xx retries any 5xx; x-envoy-attempt-count counts 1, 2, 3 upstream; the last response is URX', async () => {
    const r = await get('fivexx', '/status/500');
    expect([r.status, flagsOf(r), r.body]).to.deep.equal([500, 'URX', 'app 500']);
    expect(seen.map((s) => s.attempt)).to.deep.equal(['1', '2', '3']);
  });

  it('retryOn gateway-error retries 502/503/504 but not 500', async () => {
    await get('gw', '/status/502');
    expect(seen).to.have.length(3);
    seen = [];
    const r = await get('gw', '/status/500');
    expect([r.status, flagsOf(r)]).to.deep.equal([500, '-']);
    expect(seen).to.have.length(1);
  });

  it('bare status codes in retryOn ("500,reset") become retriable-status-codes; other codes are not retried', async () => {
    await get('codes', '/status/500');
    expect(seen).to.have.length(4);
    seen = [];
    await get('codes', '/status/503');
    expect(seen).to.have.length(1);
  });

  it('retryOn retriable-4xx retries 409 only', async () => {
    await get('four', '/status/409');
    expect(seen).to.have.length(2);
    seen = [];
    await get('four', '/status/404');
    expect(seen).to.have.length(1);
  });

  it('perTryTimeout bounds each attempt; retried under 5xx; exhausted → 504 UT,URX "upstream request timeout"', async () => {
    const started = Date.now();
    const r = await get('pertry', '/slow/400');
    expect([r.status, flagsOf(r), r.body]).to.deep.equal([504, 'UT,URX', 'upstream request timeout']);
    expect(seen).to.have.length(3);
    expect(Date.now() - started).to.be.within(300, 1200);
  });

  it('route timeout → 504 UT after the timeout, not after the slow upstream', async () => {
    const started = Date.now();
    const r = await get('slow', '/slow/800');
    expect([r.status, flagsOf(r), r.body]).to.deep.equal([504, 'UT', 'upstream request timeout']);
    expect(Date.now() - started).to.be.within(140, 600);
    expect(await clusterStat(CLIENT_IP, 'envoy_cluster_upstream_rq_timeout', cluster('slow'))).to.equal(1);
  });

  it('backoff: fully jittered in [0, base·2^(n−1)), capped at 10 × base (default base 25 ms)', () => {
    const policy = { attempts: 5, retryOn: '5xx' };
    expect(backoffMs(1, policy, () => 0.999)).to.equal(24);
    expect(backoffMs(3, policy, () => 0.999)).to.equal(99);
    expect(backoffMs(9, policy, () => 0.999)).to.equal(249);
    expect(backoffMs(9, { ...policy, backoffBaseMs: 100 }, () => 0.999)).to.equal(999);
    expect(backoffMs(2, policy, () => 0)).to.equal(0);
  });

  it('VirtualService backoff sets the base: the gap before a retry is jittered below it (mean ≈ base / 2)', async () => {
    const gaps: number[] = [];
    for (let i = 0; i < 12; i++) {
      seen = [];
      const started = Date.now();
      await get('backoff', '/status/503');
      gaps.push(Date.now() - started);
      expect(seen).to.have.length(2);
    }
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(Math.max(...gaps)).to.be.below(300 + 150);
    expect(mean).to.be.within(50, 280);
  });

  it('no cap on concurrent retries by default: 40 concurrent failing requests all get 1 + 3 attempts, no overflow', async () => {
    const replies = await sendMany(40, 40, () => get('many', '/status/503'));
    expect(replies.every((r) => r.status === 503 && flagsOf(r) === 'URX')).to.equal(true);
    expect(seen).to.have.length(160);
    expect(await clusterStat(CLIENT_IP, 'envoy_cluster_upstream_rq_retry', cluster('many'))).to.equal(120);
    expect(
      await clusterStat(CLIENT_IP, 'envoy_cluster_upstream_rq_retry_overflow', cluster('many')),
    ).to.equal(0);
  });

  it('retry policy table: Envoy policies against statuses and failures (pure)', () => {
    const p = (s: string) => parseRetryOn(s);
    expect(isRetriableStatus(p('5xx'), 500)).to.equal(true);
    expect(isRetriableStatus(p('gateway-error'), 500)).to.equal(false);
    expect(isRetriableStatus(p('retriable-status-codes'), 503)).to.equal(false);
    expect(isRetriableStatus(p('503'), 503)).to.equal(true);
    expect(isRetriableFailure(p('connect-failure'), 'reset')).to.equal(false);
    expect(isRetriableFailure(p('connect-failure'), 'connect-failure')).to.equal(true);
    expect(isRetriableFailure(p('5xx'), 'per-try-timeout')).to.equal(true);
    expect(isRetriableFailure(p('5xx'), 'overflow')).to.equal(false);
    expect(isRetriableFailure(p('retriable-status-codes'), 'connect-failure')).to.equal(false);
  });
});
