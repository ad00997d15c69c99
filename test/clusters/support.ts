// Test support for the kind and existing targets: a scratch host whose PATH holds only the fake tools, a log of
// their argv, an in-memory KubeClient seeded like a cluster, and golden files.

import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Host } from '../../clusters/shared/host.js';
import type { KubeClient, ObjectKey } from '../../harness/kube/index.js';
import type { KubeObject } from '../../harness/model/kube-object.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FAKE_BIN = resolve(here, '../fixtures/fake-bin');
export const GOLDEN_DIR = resolve(here, '../fixtures/golden/kind');

export interface ToolCall {
  tool: string;
  args: string[];
  env: Record<string, string>;
}

export interface Sandbox {
  dir: string;
  home: string;
  workDir: string;
  stateDir: string;
  env: Record<string, string>;
  /** Host overrides for createKindTarget / createExistingTarget. */
  host(kube?: KubeClient): Partial<Host>;
  calls(): Promise<ToolCall[]>;
  /** The calls as command lines (`kind get clusters`). */
  lines(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** A scratch HOME, work dir and fake-tool state; PATH is `pathDirs` (the fake bin by default) and nothing else. */
export async function createSandbox(
  options: { pathDirs?: string[]; env?: Record<string, string> } = {},
): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-clusters-'));
  const home = join(dir, 'home');
  const workDir = join(dir, 'work');
  const stateDir = join(dir, 'state');
  await mkdir(home, { recursive: true });
  const log = join(dir, 'calls.jsonl');
  const env: Record<string, string> = {
    PATH: (options.pathDirs ?? [FAKE_BIN]).join(':'),
    HOME: home,
    FAKE_NODE: process.execPath,
    FAKE_TOOL_JS: join(FAKE_BIN, 'fake-tool.mjs'),
    FAKE_BIN_LOG: log,
    FAKE_STATE_DIR: stateDir,
    // The kind network's gateway, where the notification receiver listens: on a real host the bridge's own address;
    // here loopback, the one address this machine is sure to have.
    FAKE_KIND_GATEWAY: '127.0.0.1',
    ...options.env,
  };
  const calls = async (): Promise<ToolCall[]> => {
    try {
      return (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ToolCall);
    } catch {
      return [];
    }
  };
  return {
    dir,
    home,
    workDir,
    stateDir,
    env,
    host: (kube) => ({
      env,
      homeDir: home,
      platform: 'linux',
      arch: 'x64',
      pollMs: 10,
      ...(kube ? { createKubeClient: () => kube } : {}),
    }),
    calls,
    lines: async () => (await calls()).map((c) => [c.tool, ...c.args].join(' ').replaceAll(dir, '$SANDBOX')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

const keyString = (k: { kind: string; namespace?: string | undefined; name?: string | undefined }): string =>
  `${k.kind}/${k.namespace ?? ''}/${k.name ?? ''}`;

function matchesSelector(labels: Record<string, string>, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return k !== undefined && (v === undefined ? k in labels : labels[k] === v);
  });
}

/** An in-memory cluster behind the KubeClient interface. Deployments applied become Available at once. */
export class FakeCluster {
  readonly objects = new Map<string, KubeObject>();
  readonly applied: string[] = [];
  version = 'v1.34.0';

  put(object: KubeObject): void {
    this.objects.set(keyString({ kind: object.kind, ...object.metadata }), structuredClone(object));
  }

  seedNode(name: string, ready = true): void {
    this.put({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      status: {
        conditions: [
          { type: 'Ready', status: ready ? 'True' : 'False', message: ready ? '' : 'kubelet starting' },
        ],
      },
    });
  }

  seedDeployment(
    namespace: string,
    name: string,
    options: { image?: string; labels?: Record<string, string>; available?: boolean } = {},
  ): void {
    this.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels: options.labels ?? {} },
      spec: {
        template: { spec: { containers: [{ name: 'main', image: options.image ?? 'example/app:1' }] } },
      },
      status: {
        replicas: 1,
        readyReplicas: options.available === false ? 0 : 1,
        conditions: [{ type: 'Available', status: options.available === false ? 'False' : 'True' }],
      },
    });
  }

  seedCrd(name: string): void {
    this.put({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
      status: { conditions: [{ type: 'Established', status: 'True' }] },
    });
  }

  seedService(
    namespace: string,
    name: string,
    ports: { name?: string; port: number }[],
    labels: Record<string, string> = {},
    status?: unknown,
  ): void {
    this.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels },
      spec: { ports },
      ...(status ? { status } : {}),
    });
  }

  /** What a finished Istio + Chaos Mesh install leaves behind (what the fake istioctl/helm cannot create). */
  seedInstalledStack(options: { revision?: string; istioTag?: string } = {}): void {
    const istiod = options.revision ? `istiod-${options.revision}` : 'istiod';
    this.seedDeployment('istio-system', istiod, {
      image: `docker.io/istio/pilot:${options.istioTag ?? '1.30.3'}`,
      labels: { app: 'istiod' },
    });
    this.seedDeployment('istio-system', 'istio-ingressgateway');
    this.seedService('istio-system', 'istio-ingressgateway', [{ name: 'http2', port: 80 }]);
    this.seedDeployment('chaos-mesh', 'chaos-controller-manager');
    for (const crd of [
      'podchaos.chaos-mesh.org',
      'networkchaos.chaos-mesh.org',
      'stresschaos.chaos-mesh.org',
      'testruns.k6.io',
    ]) {
      this.seedCrd(crd);
    }
    this.seedDeployment('k6-operator-system', 'k6-operator-controller-manager');
  }

  kube(): KubeClient {
    return {
      apply: async (object) => {
        this.applied.push(keyString({ kind: object.kind, ...object.metadata }));
        const stored = structuredClone(object);
        if (object.kind === 'Deployment') {
          stored.status = {
            replicas: 1,
            readyReplicas: 1,
            conditions: [{ type: 'Available', status: 'True' }],
          };
        }
        const previous = this.objects.get(keyString({ kind: object.kind, ...object.metadata }));
        this.put(
          previous?.status && object.kind !== 'Deployment' ? { ...stored, status: previous.status } : stored,
        );
        return stored;
      },
      replace: async (object) => {
        this.put(structuredClone(object));
        return object;
      },
      get: async (key: ObjectKey) => structuredClone(this.objects.get(keyString(key))),
      list: async (_apiVersion, kind, query = {}) =>
        [...this.objects.values()].filter(
          (o) =>
            o.kind === kind &&
            (!query.namespace || o.metadata.namespace === query.namespace) &&
            matchesSelector(o.metadata.labels ?? {}, query.labelSelector) &&
            (!query.fieldSelector || query.fieldSelector === `metadata.name=${o.metadata.name}`),
        ),
      delete: async (key) => this.objects.delete(keyString(key)),
      patch: async (key, patch) => {
        const current = this.objects.get(keyString(key));
        if (!current) throw new Error(`${keyString(key)} not found`);
        const merged = {
          ...current,
          ...patch,
          metadata: { ...current.metadata, ...(patch.metadata as object) },
        } as KubeObject;
        this.put(merged);
        return merged;
      },
      podLog: async () => '',
      serverVersion: async () => this.version,
    };
  }
}

/** Compares text with a golden file; `UPDATE_GOLDEN=1` rewrites it. A missing golden file is a failure. */
export async function expectGolden(name: string, actual: string): Promise<void> {
  const path = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = await readFile(path, 'utf8');
  } catch {
    throw new Error(`golden file ${path} is missing: run the test with UPDATE_GOLDEN=1 and review the diff`);
  }
  expect(actual, `differs from ${path} (UPDATE_GOLDEN=1 regenerates it after review)`).to.equal(expected);
}

/** Whether a process is still alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
