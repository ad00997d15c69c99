// Benchmark of the local target: boot to API ready and to the first pod Ready (goals < 2 s and < 5 s on a
// 2-core machine), and the idle memory of the whole target (RSS of this process + every process it started).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESOURCES } from '../clusters/local/controllers/index.js';
import { createLocalTarget } from '../clusters/local/index.js';
import { readRssBytes } from '../clusters/local/kubelet/index.js';

interface Run {
  apiReadyMs: number;
  provisionMs: number;
  firstPodReadyMs: number;
  idleRssMiB: { harness: number; prometheus: number; containers: number; total: number };
  /** Each container process at idle: its command line (shortened) and RSS in MiB. */
  perProcess: { command: string; rssMiB: number }[];
}

const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

function commandOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return argv
      .map((a) => a.slice(a.lastIndexOf('/') + 1))
      .join(' ')
      .slice(0, 70);
  } catch {
    return `pid ${pid}`;
  }
}

type LocalTarget = ReturnType<typeof createLocalTarget>;
type Cluster = NonNullable<LocalTarget['cluster']>;

/** A fortio pod whose readiness probe passes once its container serves. */
async function createFirstPod(cluster: Cluster): Promise<void> {
  await cluster.store.create(RESOURCES.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'first', namespace: 'default' },
    spec: {
      containers: [
        {
          name: 'fortio',
          image: 'fortio/fortio',
          ports: [{ containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  });
}

async function waitForFirstPodReady(cluster: Cluster): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const pod = cluster.store.get(RESOURCES.pods, 'default', 'first') as
      | { status?: { conditions?: { type: string; status: string }[] } }
      | undefined;
    if (pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error('first pod not Ready within 20 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The idle RSS of the harness, Prometheus and the containers, once Prometheus has settled. */
async function measureIdleMemory(
  target: LocalTarget,
  cluster: Cluster,
): Promise<Pick<Run, 'idleRssMiB' | 'perProcess'>> {
  // Let Prometheus settle into its scrape loop before measuring.
  await new Promise((r) => setTimeout(r, 5000));
  const prometheus = readRssBytes(cluster.prometheus.pid);
  const containerPids = target.pids().filter((p) => p !== cluster.prometheus.pid);
  const perProcess = containerPids.map((p) => ({ command: commandOf(p), rssMiB: mib(readRssBytes(p)) }));
  const containers = containerPids.reduce((s, p) => s + readRssBytes(p), 0);
  const harness = process.memoryUsage.rss();
  const idleRssMiB = {
    harness: mib(harness),
    prometheus: mib(prometheus),
    containers: mib(containers),
    total: mib(harness + prometheus + containers),
  };
  return { idleRssMiB, perProcess };
}

async function once(withIdle: boolean): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'meshdrill-bench-'));
  const target = createLocalTarget();
  const t0 = performance.now();
  try {
    const env = await target.provision({ workDir: dir, ruleFiles: [], settings: {} });
    const provisionMs = performance.now() - t0;
    const cluster = target.cluster;
    if (!cluster) throw new Error('no cluster after provision');
    await createFirstPod(cluster);
    await waitForFirstPodReady(cluster);
    const firstPodReadyMs = performance.now() - t0;
    const idle = withIdle
      ? await measureIdleMemory(target, cluster)
      : { idleRssMiB: { harness: 0, prometheus: 0, containers: 0, total: 0 }, perProcess: [] };
    return { apiReadyMs: env.timings.apiReady ?? 0, provisionMs, firstPodReadyMs, ...idle };
  } finally {
    await target.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs: Run[] = [];
for (let i = 0; i < 3; i++) runs.push(await once(i === 2));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (ms: number): string => `${Math.round(ms)} ms`;
console.log('local target (3 boots, median):');
console.log(`  boot → API ready:        ${fmt(median(runs.map((r) => r.apiReadyMs)))}   (goal < 2000 ms)`);
console.log(
  `  boot → provisioned:      ${fmt(median(runs.map((r) => r.provisionMs)))}   (incl. Prometheus ready)`,
);
console.log(
  `  boot → first pod Ready:  ${fmt(median(runs.map((r) => r.firstPodReadyMs)))}   (goal < 5000 ms)`,
);
const idle = runs[2]?.idleRssMiB;
console.log(
  `  idle memory (RSS, 1 fortio pod; goal total <= 250 MiB): total ${idle?.total} MiB = harness process ${idle?.harness} MiB + Prometheus ${idle?.prometheus} MiB + containers ${idle?.containers} MiB`,
);
for (const p of runs[2]?.perProcess ?? [])
  console.log(`    ${String(p.rssMiB).padStart(6)} MiB  ${p.command}`);
