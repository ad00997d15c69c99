// Config pushes: each connected proxy's configuration built from the current snapshot and written to its stream
// when it changed (or always, when forced), and the debounce that turns a burst of events into one push.

import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../../../../harness/model/index.js';
import { buildProxyConfig, proxyNodeForPod } from '../config/build.js';
import type { MeshSnapshot } from '../config/snapshot.js';
import type { ProxyConfig } from '../model/proxy-config.js';
import { reloadCa } from './ca-source.js';
import type { Connection, IstiodState } from './state.js';

const XDS_TYPES = ['cds', 'eds', 'lds', 'rds'];

/** The proxy's pod from the snapshot; without it istiod cannot know the labels or service account yet. */
function podOf(snapshot: MeshSnapshot, conn: Connection): KubeObject {
  const pod = snapshot.pods.find(
    (p) =>
      p.metadata.name === conn.status.pod && (p.metadata.namespace ?? 'default') === conn.status.namespace,
  );
  // Wait for the informer: meanwhile the pod is known by name and IP only.
  return (
    pod ??
    ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: conn.status.pod, namespace: conn.status.namespace },
      status: { podIP: conn.ip },
    } as KubeObject)
  );
}

/** Builds the proxy's configuration (unversioned); undefined, counted and logged when the build fails. */
function buildFor(
  s: IstiodState,
  snapshot: MeshSnapshot,
  conn: Connection,
  pod: KubeObject,
): ProxyConfig | undefined {
  try {
    return buildProxyConfig({
      snapshot,
      node: proxyNodeForPod(pod, conn.status.mode, s.mesh),
      version: '',
      ...(s.mesh ? { options: s.mesh } : {}),
    });
  } catch (error) {
    s.metrics.pushes.inc({ type: 'cds_builderr' });
    s.log(`error: building config for ${conn.status.id}: ${(error as Error).message}\n`);
    return undefined;
  }
}

/** Pushes the proxy's configuration when it differs from the last one sent, or always when `force`. */
export function pushTo(s: IstiodState, conn: Connection, force: boolean): void {
  const snapshot = s.source.snapshot();
  const pod = podOf(snapshot, conn);
  const started = performance.now();
  const config = buildFor(s, snapshot, conn, pod);
  if (!config) return;
  // Compared without the version, which differs on every push.
  const body = JSON.stringify({ ...config, version: '' });
  if (!force && body === conn.lastConfigJson) return;
  s.pushCounter += 1;
  const version = `${new Date().toISOString()}/${s.pushCounter}`;
  const nonce = randomUUID();
  config.version = version;
  conn.res.write(`${JSON.stringify({ type: 'config', version, nonce, config })}\n`);
  if (!conn.res.writable) {
    for (const t of XDS_TYPES) s.metrics.pushes.inc({ type: `${t}_senderr` });
    return;
  }
  conn.lastConfigJson = body;
  conn.status.sentVersion = version;
  conn.status.sentNonce = nonce;
  conn.pushedAt = Date.now();
  for (const t of XDS_TYPES) s.metrics.pushes.inc({ type: t });
  s.metrics.pushTime.observe({ type: 'cds' }, (performance.now() - started) / 1000);
}

export function pushAll(s: IstiodState, reason: string): void {
  s.metrics.pushTriggers.inc({ type: reason });
  s.metrics.refreshInventory(s.source.snapshot());
  for (const conn of s.connections.values()) pushTo(s, conn, false);
}

/** A watched object changed: push after the debounce, re-reading `cacerts` first. */
export function onConfigChange(s: IstiodState): void {
  s.firstEventAt ??= Date.now();
  if (s.debounceTimer) clearTimeout(s.debounceTimer);
  // PILOT_DEBOUNCE_AFTER with PILOT_DEBOUNCE_MAX (10 s): a constant stream of events still pushes.
  const wait = Date.now() - s.firstEventAt > 10 * s.debounceMs ? 0 : s.debounceMs;
  s.debounceTimer = setTimeout(() => {
    s.firstEventAt = undefined;
    void reloadCa(s).then(() => pushAll(s, 'config'));
  }, wait);
}
