// Network faults as netem would apply them, for whatever carries a pod's traffic (the programs' outbound HTTP, the
// kube-proxy stand-in, the sidecar proxy): reads a pod's rule file (clusters/local/chaos-hooks.ts), picks the
// rules that bind one direction ("leg") of a connection between two pod IPs, and turns them into a per-chunk
// verdict — a delay (latency ± jitter, correlated), a loss retransmitted after TCP's RTO, or a black hole.

import { readFileSync, statSync } from 'node:fs';
import type { NetworkFaultRule } from '../../chaos-hooks.js';

export type { NetworkFaultRule } from '../../chaos-hooks.js';

/** ClusterIPs come from SERVICE_CIDR (network/service-ips.ts, 127.96.0.0/16): traffic to them is the kube-proxy's. */
export function isServiceAddress(ip: string): boolean {
  return ip.startsWith('127.96.');
}

const fileCache = new Map<
  string,
  { mtimeMs: number; size: number; checkedAt: number; rules: NetworkFaultRule[] }
>();

/** Parses a rule file's text; anything malformed is ignored rule by rule (a fault file never breaks traffic). */
export function parseNetworkFaults(text: string): NetworkFaultRule[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const rules = (parsed as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return [];
  const out: NetworkFaultRule[] = [];
  for (const r of rules as unknown[]) {
    if (typeof r !== 'object' || r === null) continue;
    const o = r as Record<string, unknown>;
    const action = o.action;
    const direction = o.direction;
    if (action !== 'delay' && action !== 'loss' && action !== 'partition') continue;
    if (direction !== 'to' && direction !== 'from' && direction !== 'both') continue;
    const peers =
      o.peers === '*'
        ? '*'
        : Array.isArray(o.peers)
          ? (o.peers as unknown[]).filter((p): p is string => typeof p === 'string')
          : undefined;
    if (peers === undefined) continue;
    out.push({
      source: typeof o.source === 'string' ? o.source : '',
      action,
      direction,
      peers,
      ...(typeof o.delayMs === 'number' ? { delayMs: o.delayMs } : {}),
      ...(typeof o.jitterMs === 'number' ? { jitterMs: o.jitterMs } : {}),
      ...(typeof o.lossPercent === 'number' ? { lossPercent: o.lossPercent } : {}),
      ...(typeof o.correlation === 'number' ? { correlation: o.correlation } : {}),
    });
  }
  return out;
}

/**
 * The rules in a pod's file, re-read when the file changes (checked at most every 100 ms: the controller writes
 * temp + rename, so a reader sees the old or the new file whole). A missing file means no faults.
 */
export function readNetworkFaults(file: string | undefined, now = Date.now()): NetworkFaultRule[] {
  if (!file) return [];
  const cached = fileCache.get(file);
  if (cached && now - cached.checkedAt < 100) return cached.rules;
  try {
    const st = statSync(file);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) {
      cached.checkedAt = now;
      return cached.rules;
    }
    const rules = parseNetworkFaults(readFileSync(file, 'utf8'));
    fileCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, checkedAt: now, rules });
    return rules;
  } catch {
    fileCache.set(file, { mtimeMs: -1, size: -1, checkedAt: now, rules: [] });
    return [];
  }
}

function peerMatches(rule: NetworkFaultRule, peer: string): boolean {
  return rule.peers === '*' || rule.peers.includes(peer);
}

/**
 * The rules that bind the leg `from` → `to` of a connection, given each end's own rules (either may be unknown:
 * pass [] when that end shapes its own traffic elsewhere). A rule binds the sender's egress when its direction is
 * `to`/`both`, and the receiver's ingress when `from`/`both` — each rule is owned by one pod, so it binds once.
 */
export function rulesForLeg(
  sender: { ip: string; rules: NetworkFaultRule[] },
  receiver: { ip: string; rules: NetworkFaultRule[] },
): NetworkFaultRule[] {
  return [
    ...sender.rules.filter((r) => r.direction !== 'from' && peerMatches(r, receiver.ip)),
    ...receiver.rules.filter((r) => r.direction !== 'to' && peerMatches(r, sender.ip)),
  ];
}

export type ChunkVerdict =
  | { kind: 'pass'; delayMs: number }
  | { kind: 'blackhole'; reason: 'partition' | 'loss' };

/** State carried across chunks of one leg (netem's correlation of successive jitter and loss draws). */
export interface LegState {
  lastJitter: Map<string, number>;
  lastLost: Map<string, boolean>;
}

export function createLegState(): LegState {
  return { lastJitter: new Map(), lastLost: new Map() };
}

const RTO_MS = 200;
const MAX_RETRANSMITS = 15;

/**
 * What happens to one chunk (≈ packet train) crossing a leg bound by `rules`. Partition: nothing passes. Delay:
 * latency plus jitter drawn from ±jitter, correlated with the previous draw as netem's `correlation` (percent).
 * Loss: each transmission is lost with the given probability and resent after an RTO that doubles, as TCP does;
 * after 15 retransmissions the connection is as good as dead (a black hole), so 100 % loss stalls it.
 */
export function judgeChunk(
  rules: NetworkFaultRule[],
  state: LegState,
  random: () => number = Math.random,
): ChunkVerdict {
  let delayMs = 0;
  for (const rule of rules) {
    const corr = Math.min(1, Math.max(0, (rule.correlation ?? 0) / 100));
    if (rule.action === 'partition') return { kind: 'blackhole', reason: 'partition' };
    if (rule.action === 'delay') {
      const jitter = rule.jitterMs ?? 0;
      const fresh = jitter > 0 ? (random() * 2 - 1) * jitter : 0;
      const previous = state.lastJitter.get(rule.source) ?? fresh;
      const drawn = corr * previous + (1 - corr) * fresh;
      state.lastJitter.set(rule.source, drawn);
      delayMs += Math.max(0, (rule.delayMs ?? 0) + drawn);
    } else if (rule.action === 'loss') {
      const p = Math.min(1, Math.max(0, (rule.lossPercent ?? 0) / 100));
      let rto = RTO_MS;
      let attempts = 0;
      for (;;) {
        const previous = state.lastLost.get(rule.source);
        const draw = random() < p;
        const lost = previous !== undefined && random() < corr ? previous : draw;
        state.lastLost.set(rule.source, lost);
        if (!lost) break;
        attempts++;
        if (attempts > MAX_RETRANSMITS || p >= 1) return { kind: 'blackhole', reason: 'loss' };
        delayMs += rto;
        rto = Math.min(120_000, rto * 2);
      }
    }
  }
  return { kind: 'pass', delayMs };
}

/** This pod's own rule file, as the kubelet names it in the container's environment. */
export function ownFaultsFile(): string | undefined {
  return process.env.MESHDRILL_NETWORK_FAULTS_FILE;
}
