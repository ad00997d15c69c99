// Test support for the Chaos Mesh emulation: a LocalTarget (mesh=false) with Chaos Mesh installed from
// `configure`, a small workload, and helpers to read pods and send traffic through fortio's fetch proxy.

import http from 'node:http';
import { type ChaosMeshInstall, installChaosMesh } from '../../../clusters/local/chaos/index.js';
import type { Pod } from '../../../clusters/local/controllers/kube-types.js';
import type { LocalTarget } from '../../../clusters/local/index.js';
import { KEYS, type MemoryStore, type StoredObject } from '../../../clusters/local/store/index.js';
import { type Booted, bootTarget, untilWith } from '../support/index.js';

export interface ChaosRig {
  target: LocalTarget;
  store: MemoryStore;
  chaos: ChaosMeshInstall;
  workDir: string;
  stop(): Promise<void>;
}

export async function bootChaosTarget(): Promise<ChaosRig> {
  let chaos: ChaosMeshInstall | undefined;
  let workDir = '';
  let booted: Booted;
  try {
    booted = await bootTarget({
      backoffScale: 0.02,
      dirPrefix: 'meshdrill-chaos-',
      settings: { mesh: 'false' },
      configure: (cluster) => {
        chaos = installChaosMesh(cluster);
        workDir = cluster.workDir;
      },
    });
  } catch (error) {
    await chaos?.stop();
    throw error;
  }
  const store = booted.target.cluster?.store as MemoryStore;
  return {
    target: booted.target,
    store,
    chaos: chaos as ChaosMeshInstall,
    workDir,
    async stop() {
      await chaos?.stop();
      await booted.stop();
    },
  };
}

/** Polls at the chaos tests' pace: 10 s by default, every 50 ms, a throwing probe counts as "not yet". */
export const until = untilWith({ timeoutMs: 10_000, intervalMs: 50, retryErrors: true });

export function fortioDeployment(
  namespace: string,
  name: string,
  extra: { memoryLimit?: string; initContainers?: unknown[] } = {},
): StoredObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          ...(extra.initContainers ? { initContainers: extra.initContainers } : {}),
          containers: [
            {
              name: 'app',
              image: 'fortio/fortio',
              args: ['server', '-http-port', '8080'],
              ports: [{ containerPort: 8080, name: 'http' }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
              ...(extra.memoryLimit ? { resources: { limits: { memory: extra.memoryLimit } } } : {}),
            },
          ],
        },
      },
    },
  } as unknown as StoredObject;
}

export function service(namespace: string, name: string): StoredObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
  } as unknown as StoredObject;
}

export function podsOf(store: MemoryStore, namespace: string, app: string): Pod[] {
  return store.list(KEYS.pods, { namespace, labelSelector: `app=${app}` }).items as unknown as Pod[];
}

export function readyPod(store: MemoryStore, namespace: string, app: string): Pod | undefined {
  return podsOf(store, namespace, app).find(
    (p) =>
      !p.metadata.deletionTimestamp &&
      p.status?.phase === 'Running' &&
      (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  );
}

export interface Fetched {
  status: number;
  ms: number;
  error?: string;
}

/** GET with a bounded wait; a timeout or reset is status 0. */
export function get(url: string, timeoutMs = 3000): Promise<Fetched> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.once('error', (e) => resolve({ status: 0, ms: performance.now() - started, error: e.message }));
  });
}

export function chaosObject(
  kind: string,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): StoredObject {
  return {
    apiVersion: 'chaos-mesh.org/v1alpha1',
    kind,
    metadata: { name, namespace },
    spec,
  } as unknown as StoredObject;
}

export function conditionOf(object: StoredObject | undefined, type: string): string | undefined {
  const status = object?.status as { conditions?: { type: string; status: string }[] } | undefined;
  return status?.conditions?.find((c) => c.type === type)?.status;
}

export function recordsOf(
  object: StoredObject | undefined,
): { id: string; phase: string; selectorKey: string; injectedCount: number; recoveredCount: number }[] {
  const status = object?.status as { experiment?: { containerRecords?: [] } } | undefined;
  return status?.experiment?.containerRecords ?? [];
}
