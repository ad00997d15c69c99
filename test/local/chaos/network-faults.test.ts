// The data-path rules of NetworkChaos (netem semantics, clusters/local/programs/lib/network-faults.ts): which rules
// bind which leg, delay with jitter, loss retransmitted after an RTO, 100 % loss and partition as black holes.

import { expect } from 'chai';
import type { NetworkFaultRule } from '../../../clusters/local/chaos-hooks.js';
import { parseGoDuration, pickByMode } from '../../../clusters/local/chaos/index.js';
import { SERVICE_CIDR } from '../../../clusters/local/network/index.js';
import {
  createLegState,
  isServiceAddress,
  judgeChunk,
  parseNetworkFaults,
  rulesForLeg,
} from '../../../clusters/local/programs/lib/network-faults.js';

const rule = (over: Partial<NetworkFaultRule>): NetworkFaultRule => ({
  source: 'NetworkChaos/ns/x',
  action: 'delay',
  direction: 'to',
  peers: ['10.0.0.2'],
  delayMs: 100,
  ...over,
});

describe('network fault rules', () => {
  it('a `to` rule binds the owner → peer leg only; `from` the peer → owner leg; `both` both; each once', () => {
    const a = { ip: '10.0.0.1', rules: [rule({ direction: 'to' })] };
    const b = { ip: '10.0.0.2', rules: [] };
    expect(rulesForLeg(a, b)).to.have.length(1);
    expect(rulesForLeg(b, a)).to.have.length(0);
    const from = { ip: '10.0.0.1', rules: [rule({ direction: 'from' })] };
    expect(rulesForLeg(from, b)).to.have.length(0);
    expect(rulesForLeg(b, from)).to.have.length(1);
    const both = { ip: '10.0.0.1', rules: [rule({ direction: 'both', peers: '*' })] };
    expect(rulesForLeg(both, { ip: '10.9.9.9', rules: [] })).to.have.length(1);
    expect(rulesForLeg({ ip: '10.9.9.9', rules: [] }, both)).to.have.length(1);
  });

  it('delay adds latency ± jitter; partition and 100 % loss black-hole; 50 % loss costs RTOs', () => {
    const state = createLegState();
    const draws = [0, 1, 0.5];
    const results = draws.map((d) => judgeChunk([rule({ jitterMs: 20 })], state, () => d));
    expect(results.map((r) => (r.kind === 'pass' ? Math.round(r.delayMs) : -1))).to.deep.equal([
      80, 120, 100,
    ]);
    expect(judgeChunk([rule({ action: 'partition' })], createLegState())).to.deep.equal({
      kind: 'blackhole',
      reason: 'partition',
    });
    expect(judgeChunk([rule({ action: 'loss', lossPercent: 100 })], createLegState()).kind).to.equal(
      'blackhole',
    );
    const seq = [0.1, 0.1, 0.9];
    const lossy = judgeChunk(
      [rule({ action: 'loss', lossPercent: 50 })],
      createLegState(),
      () => seq.shift() ?? 0.9,
    );
    expect(lossy).to.deep.equal({ kind: 'pass', delayMs: 200 + 400 });
  });

  it('malformed rule files and rules are ignored, never fatal', () => {
    expect(parseNetworkFaults('not json')).to.deep.equal([]);
    expect(parseNetworkFaults(JSON.stringify({ rules: [{ action: 'explode' }, rule({})] }))).to.have.length(
      1,
    );
  });

  it('service addresses are those of SERVICE_CIDR', () => {
    expect(SERVICE_CIDR).to.equal('127.96.0.0/16');
    expect(isServiceAddress('127.96.0.11')).to.equal(true);
    expect(isServiceAddress('127.1.0.11')).to.equal(false);
  });

  it('Go durations and pod modes as Chaos Mesh reads them', () => {
    expect(parseGoDuration('-10m')).to.deep.equal({ ok: true, ms: -600_000 });
    expect(parseGoDuration('1h30m')).to.deep.equal({ ok: true, ms: 5_400_000 });
    expect(parseGoDuration('500ms')).to.deep.equal({ ok: true, ms: 500 });
    expect(parseGoDuration('10')).to.deep.equal({ ok: false, error: 'time: missing unit in duration "10"' });
    const pods = Array.from({ length: 10 }, (_, i) => ({ metadata: { name: `p${i}` } })) as never[];
    const count = (mode: Parameters<typeof pickByMode>[1], value: string) => {
      const r = pickByMode(pods, mode, value, () => 0.5);
      return r.ok ? r.pods.length : 0;
    };
    expect([
      count('one', ''),
      count('all', ''),
      count('fixed', '3'),
      count('fixed-percent', '25'),
      count('fixed', '50'),
    ]).to.deep.equal([1, 10, 3, 2, 10]);
    expect(pickByMode(pods, 'fixed-percent', '5', () => 0.5)).to.deep.include({ ok: false });
    expect(pickByMode([], 'all', '', () => 0.5)).to.deep.equal({ ok: false, message: 'no pod is selected' });
  });
});
