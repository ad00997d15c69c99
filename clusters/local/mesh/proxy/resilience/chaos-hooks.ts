// The proxy's side of the chaos hooks contract (clusters/local/chaos-hooks.ts): the per-pod network-fault and
// clock-offset files, polled for changes every 250 ms, and the pure look-ups the data path asks per request.
// A request exchange has two legs: outbound, the request goes `to` the peer and the response comes `from` it;
// inbound the other way round. A rule delays (with jitter) or drops each leg it covers, as netem would.

import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { NetworkFaultRule, NetworkFaultsFile, TimeOffsetFile } from '../../../chaos-hooks.js';
import { asArray, asNumber, asRecord, asString } from '../../model/read.js';

export type Leg = 'to' | 'from';

export interface LegEffect {
  delayMs: number;
  /** Partition, or a loss draw that hit: the leg's bytes never arrive. */
  dropped: boolean;
}

function parseRule(value: unknown): NetworkFaultRule | undefined {
  const r = asRecord(value);
  const action = asString(r.action);
  const direction = asString(r.direction) ?? 'to';
  if (action !== 'delay' && action !== 'loss' && action !== 'partition') return undefined;
  if (direction !== 'to' && direction !== 'from' && direction !== 'both') return undefined;
  const peers = r.peers === '*' ? '*' : asArray(r.peers).filter((p): p is string => typeof p === 'string');
  const delayMs = asNumber(r.delayMs);
  const jitterMs = asNumber(r.jitterMs);
  const lossPercent = asNumber(r.lossPercent);
  return {
    source: asString(r.source) ?? 'unknown',
    action,
    direction,
    peers,
    ...(delayMs !== undefined ? { delayMs } : {}),
    ...(jitterMs !== undefined ? { jitterMs } : {}),
    ...(lossPercent !== undefined ? { lossPercent } : {}),
  };
}

export function parseNetworkFaults(text: string): NetworkFaultsFile {
  const parsed: unknown = JSON.parse(text);
  return {
    rules: asArray(asRecord(parsed).rules)
      .map(parseRule)
      .filter((r): r is NetworkFaultRule => r !== undefined),
  };
}

/** The effect of the rules on one leg of traffic with `peerIp` (pure; `random` in [0, 1)). */
export function legEffect(
  rules: NetworkFaultRule[],
  leg: Leg,
  peerIp: string | undefined,
  random: () => number,
): LegEffect {
  let delayMs = 0;
  let dropped = false;
  for (const r of rules) {
    if (r.direction !== 'both' && r.direction !== leg) continue;
    if (r.peers !== '*' && (peerIp === undefined || !r.peers.includes(peerIp))) continue;
    if (r.action === 'partition') dropped = true;
    else if (r.action === 'loss') dropped ||= random() * 100 < (r.lossPercent ?? 0);
    else {
      const jitter = r.jitterMs ?? 0;
      delayMs += Math.max(0, (r.delayMs ?? 0) + (jitter > 0 ? (random() * 2 - 1) * jitter : 0));
    }
  }
  return { delayMs, dropped };
}

/** Polls a file's mtime (~250 ms) and hands its text to `load` on every change, also when it appears or goes. */
function pollFile(path: string, load: (text: string | undefined) => void): () => void {
  const read = (): void => {
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = undefined;
    }
    load(text);
  };
  read();
  const listener = (): void => read();
  watchFile(path, { interval: 250 }, listener);
  return () => unwatchFile(path, listener);
}

export interface ChaosHooks {
  leg(leg: Leg, peerIp: string | undefined): LegEffect;
  /** The network-fault rules in force (for the admin config dump). */
  rules(): NetworkFaultRule[];
  /** The pod's clock: real time plus the TimeChaos offset. */
  now(): number;
  offsetMs(): number;
  /** Called whenever the offset changes (certificate rotation re-plans). */
  onClockChange(listener: () => void): void;
  stop(): void;
}

export function startChaosHooks(
  files: { networkFaults?: string; timeOffset?: string },
  log: (line: string) => void = () => undefined,
  random: () => number = Math.random,
): ChaosHooks {
  let rules: NetworkFaultRule[] = [];
  let offset = 0;
  const clockListeners: (() => void)[] = [];
  const stops: (() => void)[] = [];
  if (files.networkFaults) {
    stops.push(
      pollFile(files.networkFaults, (text) => {
        try {
          rules = text === undefined || text.trim() === '' ? [] : parseNetworkFaults(text).rules;
        } catch {
          // A half-written file: keep the rules in force until the next complete write.
          log(
            `warning: network faults file ${files.networkFaults} is not valid JSON; keeping previous rules\n`,
          );
        }
      }),
    );
  }
  if (files.timeOffset) {
    stops.push(
      pollFile(files.timeOffset, (text) => {
        let next = offset;
        try {
          next =
            text === undefined || text.trim() === ''
              ? 0
              : (asNumber(asRecord(JSON.parse(text) as unknown).offsetMs) ?? 0);
        } catch {
          return;
        }
        if (next === offset) return;
        offset = next;
        for (const l of clockListeners) l();
      }),
    );
  }
  return {
    leg: (leg, peerIp) =>
      rules.length === 0 ? { delayMs: 0, dropped: false } : legEffect(rules, leg, peerIp, random),
    rules: () => rules,
    now: () => Date.now() + offset,
    offsetMs: () => offset,
    onClockChange: (l) => clockListeners.push(l),
    stop: () => {
      for (const s of stops) s();
    },
  };
}

/** A clock-only hooks object for proxies started without the env vars. */
export const NO_CHAOS: ChaosHooks = {
  leg: () => ({ delayMs: 0, dropped: false }),
  rules: () => [],
  now: () => Date.now(),
  offsetMs: () => 0,
  onClockChange: () => undefined,
  stop: () => undefined,
};

export type { TimeOffsetFile };
