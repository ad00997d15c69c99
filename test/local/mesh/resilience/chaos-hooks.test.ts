// The proxy honours the per-pod chaos hook files (clusters/local/chaos-hooks.ts), hand-written here as the
// chaos controller would write them (temp + rename): NetworkChaos delay/jitter/loss/partition on traffic to
// peers (outbound, by endpoint IP) and from peers (inbound, by the source pod IP the client sidecar carries in
// its peer metadata), and a TimeChaos clock offset seen by certificate checks; removing a rule undoes it.

import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { NetworkFaultRule } from '../../../../clusters/local/chaos-hooks.js';
import { legEffect } from '../../../../clusters/local/mesh/proxy/resilience/chaos-hooks.js';
import { istio, pod, service, snapshot } from '../fixtures.js';
import { sumMetric } from '../proxy-harness.js';
import { adminJson, flagsOf, Rig, scrape, sendMany, viaProxy, waitUntil } from './rig.js';

const NS = 'chaos';
const A_IP = '127.48.6.11';
const B_IP = '127.48.6.12';
const C_IP = '127.48.6.13';

function writeAtomically(path: string, body: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(body));
  renameSync(`${path}.tmp`, path);
}

describe('resilience: chaos hook files in the sidecar (child process sidecars)', function () {
  this.timeout(90_000);
  const rig = new Rig(NS);
  const files = (pod: string) => ({
    net: join(rig.dir, `${pod}.network-faults.json`),
    time: join(rig.dir, `${pod}.time-offset.json`),
  });
  const aFiles = files('a');
  const bFiles = files('b');

  let generation = 0;
  const setRules = async (owner: { net: string }, ip: string, rules: Partial<NetworkFaultRule>[]) => {
    // A unique source per write, so the wait below sees this very file and not the previous one.
    generation += 1;
    const source = `NetworkChaos/chaos/test-${generation}`;
    const full = rules.map((r) => ({ source, direction: 'to', peers: '*', ...r }));
    writeAtomically(owner.net, { rules: full, generation });
    await waitUntil(`proxy ${ip} holds rules of generation ${generation}`, async () => {
      const dump = (await adminJson(ip, '/config_dump')) as { networkFaults: { source: string }[] };
      return rules.length === 0
        ? dump.networkFaults.length === 0
        : dump.networkFaults.length === rules.length && dump.networkFaults.every((r) => r.source === source);
    });
  };
  const setOffset = async (owner: { time: string }, ip: string, offsetMs: number) => {
    writeAtomically(owner.time, { offsetMs, source: 'TimeChaos/chaos/test' });
    await waitUntil(`proxy ${ip} clock offset ${offsetMs}`, async () => {
      const dump = (await adminJson(ip, '/config_dump')) as { clock: { offsetMs: number } };
      return dump.clock.offsetMs === offsetMs;
    });
  };
  const timed = async (send: () => ReturnType<typeof viaProxy>) => {
    const started = Date.now();
    const reply = await send();
    return { reply, ms: Date.now() - started };
  };
  const toB = () => viaProxy(A_IP, `http://b.${NS}:8080/`);
  const toC = () => viaProxy(A_IP, `http://c.${NS}:8080/`);
  const toCOnce = () => viaProxy(A_IP, `http://c-once.${NS}:8080/`);

  before(async () => {
    await rig.app(B_IP, (_req, res) => res.writeHead(200).end('b'));
    await rig.app(C_IP, (_req, res) => res.writeHead(200).end('c'));
    const world = snapshot({
      pods: [
        pod('a-1', NS, A_IP, { app: 'a' }, { sa: 'a' }),
        pod('b-1', NS, B_IP, { app: 'b' }, { sa: 'b' }),
        pod('c-1', NS, C_IP, { app: 'c' }, { sidecar: false }),
      ],
      services: [
        service('b', NS, { app: 'b' }),
        service('c', NS, { app: 'c' }),
        service('c-once', NS, { app: 'c' }),
      ],
      virtualServices: [
        istio('VirtualService', 'c-once', NS, {
          hosts: ['c-once'],
          http: [{ route: [{ destination: { host: 'c-once' } }], retries: { attempts: 0 } }],
        }),
      ],
    });
    const env = (f: { net: string; time: string }) => ({
      MESHDRILL_NETWORK_FAULTS_FILE: f.net,
      MESHDRILL_TIME_OFFSET_FILE: f.time,
    });
    await Promise.all([
      rig.sidecar(world.pods[0] as (typeof world.pods)[0], world, { env: env(aFiles) }),
      rig.sidecar(world.pods[1] as (typeof world.pods)[1], world, { env: env(bFiles) }),
    ]);
  });
  after(() => rig.stop());

  it('outbound delay to one peer (by endpoint IP) slows only traffic to it; removing the rule undoes it', async () => {
    await setRules(aFiles, A_IP, [{ action: 'delay', peers: [C_IP], delayMs: 250 }]);
    const slow = await timed(toC);
    const fast = await timed(toB);
    expect(slow.reply.status).to.equal(200);
    expect(slow.ms).to.be.within(240, 800);
    expect(fast.ms).to.be.below(200);
    await setRules(aFiles, A_IP, []);
    expect((await timed(toC)).ms).to.be.below(200);
  });

  it('direction both delays both legs (request and response): twice the delay', async () => {
    await setRules(aFiles, A_IP, [{ action: 'delay', direction: 'both', peers: [C_IP], delayMs: 150 }]);
    expect((await timed(toC)).ms).to.be.within(290, 900);
    await setRules(aFiles, A_IP, []);
  });

  it('jitter spreads the delay within ± jitter', async () => {
    await setRules(aFiles, A_IP, [{ action: 'delay', peers: [C_IP], delayMs: 150, jitterMs: 100 }]);
    const times: number[] = [];
    for (let i = 0; i < 12; i++) times.push((await timed(toC)).ms);
    await setRules(aFiles, A_IP, []);
    expect(Math.min(...times)).to.be.at.least(45);
    expect(Math.max(...times)).to.be.below(450);
    expect(Math.max(...times) - Math.min(...times)).to.be.above(40);
  });

  it('partition to a peer: connects time out (503 UF,URX "delayed connect error: 110" after the default retries); undone on removal', async () => {
    await setRules(aFiles, A_IP, [{ action: 'partition', peers: [C_IP] }]);
    const { reply, ms } = await timed(toC);
    expect([reply.status, flagsOf(reply)]).to.deep.equal([503, 'UF,URX']);
    expect(reply.body).to.include('delayed connect error: 110');
    expect(ms).to.be.within(2900, 6000);
    expect((await toB()).status).to.equal(200);
    await setRules(aFiles, A_IP, []);
    expect((await toC()).status).to.equal(200);
  });

  // ± 25 points is four standard deviations of a fair coin over 60 tries (σ ≈ 6.5 points): a false failure is
  // about one run in 15 000, while a loss that is not applied (0 %) or applied to everything (100 %) still fails.
  it('loss 50 %: about half of the single-attempt requests fail (± 25 points over 60)', async () => {
    await setRules(aFiles, A_IP, [{ action: 'loss', peers: [C_IP], lossPercent: 50 }]);
    const replies = await sendMany(60, 60, toCOnce);
    await setRules(aFiles, A_IP, []);
    const failed = replies.filter((r) => r.status === 503 && flagsOf(r) === 'UF').length;
    expect(failed + replies.filter((r) => r.status === 200).length).to.equal(60);
    expect(failed / 60).to.be.within(0.25, 0.75);
  });

  it('inbound: a `from` rule on the server pod delays requests from the listed source pod IP only', async () => {
    await setRules(bFiles, B_IP, [{ action: 'delay', direction: 'from', peers: [A_IP], delayMs: 250 }]);
    const slow = await timed(toB);
    expect(slow.reply.status).to.equal(200);
    expect(slow.ms).to.be.within(240, 900);
    await setRules(bFiles, B_IP, [
      { action: 'delay', direction: 'from', peers: ['127.9.9.9'], delayMs: 250 },
    ]);
    expect((await timed(toB)).ms).to.be.below(200);
    await setRules(bFiles, B_IP, []);
  });

  it('inbound partition from the source pod: black-holed, the client resets and retries, 503 URX; the server records nothing', async () => {
    const before = sumMetric(await scrape(B_IP), 'istio_requests_total', { reporter: 'destination' });
    await setRules(bFiles, B_IP, [{ action: 'partition', direction: 'from', peers: [A_IP] }]);
    const { reply, ms } = await timed(toB);
    await setRules(bFiles, B_IP, []);
    expect(reply.status).to.equal(503);
    expect(flagsOf(reply)).to.equal('UC,URX');
    expect(ms).to.be.at.least(2900);
    expect(sumMetric(await scrape(B_IP), 'istio_requests_total', { reporter: 'destination' })).to.equal(
      before,
    );
    expect((await toB()).status).to.equal(200);
  });

  it('TimeChaos on the client: its clock 2 h ahead sees the 1 h server certificate expired → 503 UF,URX CERTIFICATE_VERIFY_FAILED; agent expiry negative', async () => {
    await setOffset(aFiles, A_IP, 2 * 3600_000);
    const reply = await toB();
    expect([reply.status, flagsOf(reply)]).to.deep.equal([503, 'UF,URX']);
    expect(reply.body).to.include('CERTIFICATE_VERIFY_FAILED');
    const expiry = sumMetric(await scrape(A_IP), 'istio_agent_cert_expiry_seconds', {
      resource_name: 'default',
    });
    expect(expiry).to.be.below(0);
    await setOffset(aFiles, A_IP, 0);
    expect((await toB()).status).to.equal(200);
  });

  it('TimeChaos on the server: it rejects the client certificate as expired (SSLV3_ALERT_CERTIFICATE_EXPIRED)', async () => {
    await setOffset(bFiles, B_IP, 2 * 3600_000);
    const reply = await toB();
    await setOffset(bFiles, B_IP, 0);
    expect(reply.status).to.equal(503);
    expect(reply.body).to.include('SSLV3_ALERT_CERTIFICATE_EXPIRED');
    expect((await toB()).status).to.equal(200);
  });

  it('rule matching is pure: direction legs, peer lists and "*", loss draws (pure)', () => {
    const rules: NetworkFaultRule[] = [
      { source: 's', action: 'delay', direction: 'to', peers: ['10.0.0.1'], delayMs: 100 },
      { source: 's', action: 'loss', direction: 'from', peers: '*', lossPercent: 50 },
    ];
    expect(legEffect(rules, 'to', '10.0.0.1', () => 0.9)).to.deep.equal({ delayMs: 100, dropped: false });
    expect(legEffect(rules, 'to', '10.0.0.2', () => 0.9)).to.deep.equal({ delayMs: 0, dropped: false });
    expect(legEffect(rules, 'from', '10.0.0.2', () => 0.4)).to.deep.equal({ delayMs: 0, dropped: true });
    expect(legEffect(rules, 'from', '10.0.0.2', () => 0.6)).to.deep.equal({ delayMs: 0, dropped: false });
  });
});
