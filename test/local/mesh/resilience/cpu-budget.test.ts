// The proxy's modelled CPU limit (proxy/resilience/cpu-budget.ts): the kubelet's CFS quota for
// `resources.limits.cpu`, the proxy's requests spent against it at a documented cost each. Its capacity must not
// depend on this machine's CPU: the same offered load gets the same throughput with the event loop blocked.
// Controls: no limit, or three times the quota (three replicas' worth), carries the same load without a wait.

import { expect } from 'chai';
import type http from 'node:http';
import { CPU_MAX_ENV as KUBELET_ENV, cpuMaxOf } from '../../../../clusters/local/kubelet/cpu-quota.js';
import {
  CPU_MAX_ENV,
  CpuBudget,
  cpuLimitFromEnv,
} from '../../../../clusters/local/mesh/proxy/resilience/cpu-budget.js';
import { istio, pod, service, snapshot } from '../fixtures.js';
import { flagsOf, Rig, viaProxy } from './rig.js';

const NEVER = new AbortController().signal;

/** Offers `rps` for `ms` to the budget, each request giving up after `timeoutMs`; counts what ran and when. */
async function offer(
  budget: CpuBudget,
  rps: number,
  ms: number,
  timeoutMs: number,
  blockAt: number[] = [],
): Promise<{ ran: number; aborted: number; maxWaitMs: number }> {
  let ran = 0;
  let aborted = 0;
  let maxWaitMs = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const blocks = [...blockAt];
  for (let i = 0; i < (rps * ms) / 1000; i++) {
    const due = start + (i * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (blocks.length > 0 && performance.now() - start >= (blocks[0] as number)) {
      blocks.shift();
      // A busy machine: nothing runs on this event loop for 250 ms, timers included.
      const until = performance.now() + 250;
      while (performance.now() < until);
    }
    const sent = performance.now();
    const got = budget.acquire(AbortSignal.timeout(timeoutMs));
    pending.push(
      Promise.resolve(got).then((r) => {
        if (r === 'ok') ran++;
        else aborted++;
        maxWaitMs = Math.max(maxWaitMs, performance.now() - sent);
      }),
    );
  }
  await Promise.all(pending);
  return { ran, aborted, maxWaitMs };
}

describe('proxy CPU limit (CFS quota, modelled)', function () {
  this.timeout(60_000);

  it('the kubelet turns limits.cpu into cpu.max as Kubernetes does (quota = milliCPU × 100 ms, at least 1 ms)', () => {
    expect(cpuMaxOf({ cpu: '20m' })).to.equal('2000 100000');
    expect(cpuMaxOf({ cpu: '2' })).to.equal('200000 100000');
    expect(cpuMaxOf({ cpu: 0.5 })).to.equal('50000 100000');
    expect(cpuMaxOf({ cpu: '5m' })).to.equal('1000 100000');
    expect(cpuMaxOf({ memory: '1Gi' })).to.equal('max 100000');
    expect(cpuMaxOf(undefined)).to.equal('max 100000');
    expect(KUBELET_ENV).to.equal(CPU_MAX_ENV);
  });

  it('the proxy reads the quota and the cost per request (0.5 ms: 0.5 vCPU per 1000 req/s)', () => {
    expect(cpuLimitFromEnv({ [CPU_MAX_ENV]: '2000 100000' })).to.deep.equal({
      quotaMs: 2,
      periodMs: 100,
      costMs: 0.5,
    });
    expect(cpuLimitFromEnv({ [CPU_MAX_ENV]: 'max 100000' })).to.equal(undefined);
    expect(cpuLimitFromEnv({})).to.equal(undefined);
    const limit = cpuLimitFromEnv({ [CPU_MAX_ENV]: '2000 100000' });
    expect(new CpuBudget(limit as NonNullable<typeof limit>).capacityPerSecond()).to.equal(40);
  });

  it('20m carries 40 req/s: 60 req/s offered queue, and past a 300 ms deadline a third gives up', async () => {
    const budget = new CpuBudget({ quotaMs: 2, periodMs: 100, costMs: 0.5 });
    const r = await offer(budget, 60, 3000, 300);
    // ≈ 120 run (40/s for 3 s, plus the deadline's tail), ≈ 60 give up.
    expect(r.ran).to.be.within(110, 135);
    expect(r.aborted).to.be.within(45, 70);
    expect(r.maxWaitMs).to.be.at.least(250);
  });

  it('the same throughput when the machine is busy (event loop blocked 250 ms twice): late timers lose no quota', async () => {
    const budget = new CpuBudget({ quotaMs: 2, periodMs: 100, costMs: 0.5 });
    const r = await offer(budget, 60, 3000, 300, [800, 1800]);
    // The quiet run's bounds: 40/s for 3 s plus the deadline's tail.
    expect(r.ran).to.be.within(110, 135);
    expect(r.ran + r.aborted).to.equal(180);
  });

  it('control: three times the quota (three replicas) carries 60 req/s with no wait and nothing given up', async () => {
    const budget = new CpuBudget({ quotaMs: 6, periodMs: 100, costMs: 0.5 });
    const r = await offer(budget, 60, 2000, 300);
    expect(r.aborted).to.equal(0);
    expect(r.ran).to.equal(120);
    expect(r.maxWaitMs).to.be.below(150);
  });

  it('a request that gives up leaves the queue; the next ones are not held behind it', async () => {
    const budget = new CpuBudget({ quotaMs: 0.5, periodMs: 100, costMs: 0.5 });
    expect(budget.acquire(NEVER)).to.equal('ok');
    const controller = new AbortController();
    const first = budget.acquire(controller.signal);
    const second = budget.acquire(NEVER);
    expect(budget.waiting()).to.equal(2);
    controller.abort();
    expect(await first).to.equal('aborted');
    expect(budget.waiting()).to.equal(1);
    expect(await second).to.equal('ok');
  });
});

const NS = 'cpu';
const LIMITED_IP = '127.48.7.11';
const UNLIMITED_IP = '127.48.7.12';
const APP_IP = '127.48.7.13';

describe('proxy CPU limit through a real proxy process: 504 UT under the route timeout', function () {
  this.timeout(60_000);
  const rig = new Rig(NS);

  before(async () => {
    await rig.app(APP_IP, (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(200).end('ok');
    });
    const world = snapshot({
      pods: [
        pod('limited-1', NS, LIMITED_IP, { app: 'limited' }),
        pod('unlimited-1', NS, UNLIMITED_IP, { app: 'unlimited' }),
        pod('app-1', NS, APP_IP, { app: 'app' }, { sidecar: false }),
      ],
      services: [service('app', NS, { app: 'app' })],
      virtualServices: [
        istio('VirtualService', 'app', NS, {
          hosts: ['app'],
          http: [{ route: [{ destination: { host: 'app' } }], timeout: '500ms' }],
        }),
      ],
    });
    await Promise.all([
      rig.sidecar(world.pods[0] as (typeof world.pods)[0], world, { env: { [CPU_MAX_ENV]: '2000 100000' } }),
      rig.sidecar(world.pods[1] as (typeof world.pods)[0], world, { env: { [CPU_MAX_ENV]: 'max 100000' } }),
    ]);
  });
  after(() => rig.stop());

  /** 60 req/s for 3 s through the proxy at `ip`; the status and flags of every reply. */
  async function drive(ip: string): Promise<string[]> {
    const replies: Promise<string>[] = [];
    const start = performance.now();
    for (let i = 0; i < 180; i++) {
      const wait = start + (i * 1000) / 60 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      replies.push(
        viaProxy(ip, `http://app.${NS}:8080/`).then(
          (r) => `${r.status} ${flagsOf(r)}`,
          () => 'error',
        ),
      );
    }
    return Promise.all(replies);
  }
  const count = (list: string[], what: string) => list.filter((s) => s === what).length;

  it('a 20m proxy answers a third of 60 req/s with 504 UT; the same proxy without a limit answers all', async () => {
    const limited = await drive(LIMITED_IP);
    expect(count(limited, '504 UT')).to.be.within(35, 80);
    expect(count(limited, '200 -') + count(limited, '504 UT')).to.equal(180);
    const unlimited = await drive(UNLIMITED_IP);
    expect(count(unlimited, '200 -')).to.equal(180);
  });
});
