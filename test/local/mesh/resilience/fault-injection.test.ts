// Fault injection facts (ISTIO-FACTS.md, VirtualService `fault`) through a real sidecar process: abort →
// the configured status with flag FI and the app never sees the request; delay → flag DI and the added
// latency; both applied to their percentage of requests (a 50 % abort over 1,000 requests within tolerance).

import { expect } from 'chai';
import { decideFault } from '../../../../clusters/local/mesh/proxy/resilience/fault-injection.js';
import { istio, pod, service, snapshot } from '../fixtures.js';
import { sumMetric } from '../proxy-harness.js';
import { flagsOf, Rig, scrape, sendMany, viaProxy } from './rig.js';

const NS = 'faults';
const CLIENT_IP = '127.48.2.11';
const APP_IP = '127.48.2.12';

describe('resilience: fault injection (child process sidecar)', function () {
  this.timeout(60_000);
  const rig = new Rig(NS);
  let appHits = 0;
  const vs = (host: string, fault: Record<string, unknown>) =>
    istio('VirtualService', host, NS, {
      hosts: [host],
      http: [{ route: [{ destination: { host } }], fault }],
    });

  before(async () => {
    await rig.app(APP_IP, (_req, res) => {
      appHits += 1;
      res.writeHead(200).end('ok');
    });
    const world = snapshot({
      pods: [
        pod('client-1', NS, CLIENT_IP, { app: 'client' }, { sa: 'client' }),
        pod('app-1', NS, APP_IP, { app: 'app' }, { sidecar: false }),
      ],
      services: ['abort-all', 'abort-half', 'delay-all', 'delay-half', 'legacy'].map((n) =>
        service(n, NS, { app: 'app' }),
      ),
      virtualServices: [
        vs('abort-all', { abort: { httpStatus: 503, percentage: { value: 100 } } }),
        vs('abort-half', { abort: { httpStatus: 500, percentage: { value: 50 } } }),
        vs('delay-all', { delay: { fixedDelay: '200ms', percentage: { value: 100 } } }),
        vs('delay-half', { delay: { fixedDelay: '30ms', percentage: { value: 50 } } }),
        // The deprecated integer `percent`.
        vs('legacy', { abort: { httpStatus: 429, percent: 100 } }),
      ],
    });
    await rig.sidecar(world.pods[0] as (typeof world.pods)[0], world);
  });
  after(() => rig.stop());
  const get = (svc: string) => viaProxy(CLIENT_IP, `http://${svc}.${NS}:8080/`);

  it('abort 100 %: the configured status, body "fault filter abort", flag FI; the app never sees it; metrics say FI', async () => {
    appHits = 0;
    const r = await get('abort-all');
    expect([r.status, flagsOf(r), r.body]).to.deep.equal([503, 'FI', 'fault filter abort']);
    expect(appHits).to.equal(0);
    const src = await scrape(CLIENT_IP);
    expect(
      sumMetric(src, 'istio_requests_total', {
        reporter: 'source',
        destination_service_name: 'abort-all',
        response_code: '503',
        response_flags: 'FI',
      }),
    ).to.equal(1);
  });

  it('abort 50 % over 1,000 requests: the aborted share is 50 % ± 5 points, the rest reach the app', async () => {
    appHits = 0;
    const replies = await sendMany(1000, 16, () => get('abort-half'));
    const aborted = replies.filter((r) => r.status === 500 && flagsOf(r) === 'FI').length;
    const passed = replies.filter((r) => r.status === 200 && flagsOf(r) === '-').length;
    expect(aborted + passed).to.equal(1000);
    expect(aborted / 1000).to.be.within(0.45, 0.55);
    expect(appHits).to.equal(passed);
  });

  it('delay 100 %: the request reaches the app after fixedDelay, with flag DI', async () => {
    appHits = 0;
    const started = Date.now();
    const r = await get('delay-all');
    const elapsed = Date.now() - started;
    expect([r.status, flagsOf(r), r.body]).to.deep.equal([200, 'DI', 'ok']);
    expect(elapsed).to.be.within(195, 600);
    expect(appHits).to.equal(1);
  });

  it('delay 50 % over 400 requests: about half carry DI (± 8 points) and all succeed', async () => {
    const replies = await sendMany(400, 16, () => get('delay-half'));
    expect(replies.every((r) => r.status === 200)).to.equal(true);
    const delayed = replies.filter((r) => flagsOf(r) === 'DI').length;
    expect(delayed / 400).to.be.within(0.42, 0.58);
  });

  it('the deprecated integer `percent` still applies (429 FI)', async () => {
    const r = await get('legacy');
    expect([r.status, flagsOf(r)]).to.deep.equal([429, 'FI']);
  });

  it('delay and abort draw independently; the delay comes first, so both flags can be set (DI,FI)', () => {
    const draws = [0.1, 0.1];
    const decision = decideFault(
      { delay: { fixedDelayMs: 5, percent: 50 }, abort: { httpStatus: 503, percent: 50 } },
      () => draws.shift() ?? 0.9,
    );
    expect(decision).to.deep.equal({ delayMs: 5, abort: { httpStatus: 503 } });
    expect(decideFault(undefined, Math.random)).to.deep.equal({});
  });
});
