// A probe that sends its own requests must not lock onto a rhythm of what it samples. The stand-in is a
// CPU-throttled proxy reduced to its timing: its queue moves once per 100 ms CFS period, so every answer leaves
// just after a period starts, and only requests that arrive late in a period wait past the route timeout (504).
// At a fixed interval that is a multiple of the period, the probe always arrives at the same early phase and sees
// only 200s; with the jittered pace it samples every phase and fires. Time is a fake clock, so this is exact.

import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import type { KubeClient } from '../../harness/kube/index.js';
import type { ConditionSpec } from '../../harness/model/index.js';
import {
  type ConditionContext,
  createPrometheusClient,
  pollPause,
  waitForCondition,
} from '../../harness/signals/index.js';

const PERIOD_MS = 100;
/** Arrivals at or after this phase of a period time out at the route (the users' 504 share: 40 %). */
const LATE_PHASE_MS = 60;
const PROBE: ConditionSpec = {
  kind: 'command',
  run: 'curl gw',
  expectExitCode: 0,
  outputPattern: 'HTTP 504',
};

/** A seeded uniform generator in [0, 1): the same sequence every run. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

function throttledGateway() {
  let clock = 0;
  const arrivals: number[] = [];
  const ctx: ConditionContext = {
    kube: {} as KubeClient,
    prometheus: createPrometheusClient('http://127.0.0.1:9'),
    ingressUrl: 'http://127.0.0.1:9',
    runCommand: async () => {
      const phase = clock % PERIOD_MS;
      arrivals.push(phase);
      // The answer leaves 2 ms into the next period, when the throttled worker runs again.
      clock = clock - phase + PERIOD_MS + 2;
      const stdout = phase >= LATE_PHASE_MS ? 'HTTP 504' : 'HTTP 200';
      return {
        command: 'curl gw',
        exitCode: 0,
        signal: null,
        stdout,
        stderr: '',
        durationMs: 0,
        timedOut: false,
      };
    },
  };
  const options = {
    origin: 0,
    withinMs: 30_000,
    pollMs: 2 * PERIOD_MS,
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
    },
  };
  return { ctx, options, arrivals };
}

describe('signals: a data-plane probe against a periodic queue', () => {
  it('at a fixed interval it locks onto the early phase and sees only 200s (the defect jitter removes)', async () => {
    const gw = throttledGateway();
    const outcome = await waitForCondition(PROBE, gw.ctx, { ...gw.options, random: () => 0.5 });
    expect(outcome.fired).to.equal(false);
    expect(gw.arrivals.length).to.be.above(50);
    expect(Math.max(...gw.arrivals)).to.be.below(LATE_PHASE_MS);
  });

  it('with the jittered pace it samples late phases too and fires within a few polls', async () => {
    const gw = throttledGateway();
    const outcome = await waitForCondition(PROBE, gw.ctx, { ...gw.options, random: seeded(7) });
    expect(outcome.fired).to.equal(true);
    expect(gw.arrivals.length).to.be.below(10);
    expect(outcome.evidence).to.equal('exit 0: HTTP 504');
  });

  it('jitters http and command probes over 0.5–1.5 intervals and keeps stored-sample sources at a fixed pace', () => {
    const random = seeded(11);
    const http = pollPause('http', 1000, random);
    const pauses = Array.from({ length: 400 }, () => http());
    expect(Math.min(...pauses)).to.be.at.least(500);
    expect(Math.max(...pauses)).to.be.below(1500);
    expect(Math.max(...pauses) - Math.min(...pauses)).to.be.above(800);
    const mean = pauses.reduce((a, b) => a + b, 0) / pauses.length;
    expect(mean).to.be.within(950, 1050);
    for (const kind of ['promql', 'alert', 'notification', 'kubernetes', 'log'] as const) {
      expect(pollPause(kind, 1000, random)()).to.equal(1000);
    }
  });

  it('leaves no abort listener behind per pause: a held fault means hundreds of polls on one signal', async () => {
    const gw = throttledGateway();
    const interrupt = new AbortController();
    let polls = 0;
    const ctx = {
      ...gw.ctx,
      signal: interrupt.signal,
      runCommand: async (script: string) => {
        polls++;
        return gw.ctx.runCommand(script);
      },
    };
    // Real pauses (1–3 ms), so the watch's own delay is what is measured.
    const outcome = await waitForCondition({ ...PROBE, outputPattern: 'never' }, ctx, {
      origin: Date.now(),
      withinMs: 400,
      pollMs: 2,
    });
    expect(outcome.fired).to.equal(false);
    expect(polls).to.be.above(50);
    expect(getEventListeners(interrupt.signal, 'abort')).to.have.length(0);
  });
});
