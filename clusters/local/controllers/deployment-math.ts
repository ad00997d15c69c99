// Pure rollout arithmetic of the Deployment controller: template hash, surge/unavailable bounds, and the
// next replica counts of the new and old ReplicaSets (kubernetes pkg/controller/deployment/rolling.go).

import type { IntOrString, PodTemplate } from './kube-types.js';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Stable JSON (sorted keys) so that equal templates hash equally whatever their key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The pod-template-hash label value: fnv32a of the template, rendered with Kubernetes' safe alphabet. */
export function computeTemplateHash(template: PodTemplate, collisionCount = 0): string {
  const hash = fnv32a(stableStringify(template) + (collisionCount > 0 ? String(collisionCount) : ''));
  return [...String(hash)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

/** Resolves an int-or-percent against a total (percentages round up for surge, down for unavailable). */
export function resolveIntOrPercent(
  value: IntOrString | undefined,
  total: number,
  roundUp: boolean,
  fallback: string,
): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const match = /^(\d+)%$/.exec(v);
  if (!match) {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function resolveSurgeAndUnavailable(
  replicas: number,
  rollingUpdate: { maxSurge?: IntOrString; maxUnavailable?: IntOrString } | undefined,
): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = resolveIntOrPercent(rollingUpdate?.maxSurge, replicas, true, '25%');
  let maxUnavailable = resolveIntOrPercent(rollingUpdate?.maxUnavailable, replicas, false, '25%');
  // Both zero would deadlock the rollout; Kubernetes then allows one unavailable.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

export interface RolloutReplicaSet {
  name: string;
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas */
  available: number;
  createdAt: string;
}

export interface RolloutPlan {
  newReplicas: number;
  /** Target spec.replicas per old ReplicaSet name (only those that change). */
  oldReplicas: Map<string, number>;
}

/** One step of a rolling update: how far to scale the new RS up and the old ones down right now. */
export function planRollingUpdate(
  desired: number,
  bounds: { maxSurge: number; maxUnavailable: number },
  newRs: RolloutReplicaSet,
  oldRss: RolloutReplicaSet[],
): RolloutPlan {
  const oldReplicas = new Map<string, number>();
  const oldTotal = oldRss.reduce((sum, rs) => sum + rs.replicas, 0);
  let newReplicas = newRs.replicas;

  // Scale up the new ReplicaSet within the surge budget.
  if (newReplicas > desired) {
    newReplicas = desired;
  } else if (newReplicas < desired) {
    const maxTotal = desired + bounds.maxSurge;
    const current = oldTotal + newReplicas;
    if (current < maxTotal) newReplicas = Math.min(desired, newReplicas + (maxTotal - current));
  }
  if (oldTotal === 0) return { newReplicas, oldReplicas };

  // Scale down old ReplicaSets without going below desired - maxUnavailable available pods.
  const allReplicas = oldTotal + newReplicas;
  const minAvailable = desired - bounds.maxUnavailable;
  const newUnavailable = Math.max(0, newRs.replicas - newRs.available);
  const sorted = [...oldRss].sort((a, b) =>
    a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0,
  );
  const current = (rs: RolloutReplicaSet): number => oldReplicas.get(rs.name) ?? rs.replicas;

  // First drop old replicas that are not available anyway (cleanupUnhealthyReplicas).
  const maxCleanup = allReplicas - minAvailable - newUnavailable;
  let cleaned = 0;
  for (const rs of sorted) {
    if (cleaned >= maxCleanup) break;
    const unhealthy = Math.max(0, rs.replicas - rs.available);
    const drop = Math.min(unhealthy, maxCleanup - cleaned);
    if (drop > 0) {
      oldReplicas.set(rs.name, rs.replicas - drop);
      cleaned += drop;
    }
  }
  // Then scale down available old replicas while enough pods stay available.
  const available =
    newRs.available + oldRss.reduce((sum, rs) => sum + Math.min(rs.available, current(rs)), 0);
  let budget = available - minAvailable;
  for (const rs of sorted) {
    if (budget <= 0) break;
    const drop = Math.min(current(rs), budget);
    if (drop > 0) {
      oldReplicas.set(rs.name, current(rs) - drop);
      budget -= drop;
    }
  }
  for (const rs of oldRss) if (oldReplicas.get(rs.name) === rs.replicas) oldReplicas.delete(rs.name);
  return { newReplicas, oldReplicas };
}
