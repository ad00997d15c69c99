// In-cluster load at scale (issue 15): the same constant rate sent by a k6-operator TestRun of N = 1, 2 and 4
// runner pods on the local target, through the ingress gateway to a fortio workload, and by the built-in
// generator from this host for comparison. Prints per N the achieved/target rate over the full seconds, p50/p95
// from the merged per-second histograms, drops and errors, and the merge's correctness: the per-second samples
// the driver merged while the runners ran, against one parser over every runner's points sorted by time (what
// one generator at the same total rate would have produced). The runners are the local stand-in for k6
// (docs/local-target-fidelity.md), so the figures measure the harness's path, not k6's.

import { createKubeClient, type KubeClient } from '../harness/kube/index.js';
import { createLoadDriver } from '../harness/load/index.js';
import { createK6InClusterDriver } from '../harness/load/k6/in-cluster-driver.js';
import { LogCursor } from '../harness/load/k6/log-cursor.js';
import { K6OutputParser } from '../harness/load/k6/output.js';
import type { LoadProfile, LoadSample } from '../harness/model/load.js';
import { mergeEncoded } from '../harness/slo/histogram.js';
import { applyAndRollOut, type Booted, bootTarget } from '../test/local/support/index.js';
import { k6WorkloadYaml } from '../test/local/support/k6-workload.js';

const RATE = Number(process.env.MESHDRILL_BENCH_K6_RATE ?? 60);
const SECONDS = Number(process.env.MESHDRILL_BENCH_K6_SECONDS ?? 15);
const RUNNERS = [1, 2, 4];
const HOST = 'front.bench.local';
const LOAD_NS = 'k6-bench';
const IN_CLUSTER_URL = 'http://istio-ingressgateway.istio-system.svc.cluster.local';

const WORKLOAD = k6WorkloadYaml(HOST, LOAD_NS);

const profile: LoadProfile = {
  driver: 'k6',
  executor: 'constant-arrival-rate',
  rate: RATE,
  stages: [],
  maxDurationMs: SECONDS * 1000,
  maxInFlight: 50,
  requestTimeoutMs: 2000,
  maxRequests: RATE * SECONDS * 2,
  host: HOST,
  requests: [{ method: 'GET', path: '/echo', headers: {}, weight: 1 }],
};

/**
 * A KubeClient that keeps every line each pod's log has shown, across reads (the kubelet keeps a bounded tail of a
 * container's log, so the last read alone may have lost the first seconds of a busy runner): every runner's points,
 * for the reference.
 */
function recordingLogs(kube: KubeClient): { kube: KubeClient; logs: Map<string, string[]> } {
  const logs = new Map<string, string[]>();
  const cursors = new Map<string, LogCursor>();
  const podLog: KubeClient['podLog'] = async (namespace, pod, container) => {
    const text = await kube.podLog(namespace, pod, container);
    const cursor = cursors.get(pod) ?? new LogCursor();
    cursors.set(pod, cursor);
    logs.set(pod, [...(logs.get(pod) ?? []), ...cursor.read(text).lines]);
    return text;
  };
  return { kube: Object.assign(Object.create(kube) as KubeClient, { podLog }), logs };
}

interface Figures {
  label: string;
  samples: LoadSample[];
}

function summarize({ label, samples }: Figures): string {
  // Full seconds only: the first and last are partial (start-up, the executor's end).
  const full = samples.slice(1, -1);
  const completed = full.reduce((n, s) => n + s.completed, 0);
  const achieved = full.length === 0 ? 0 : completed / full.length;
  const merged = mergeEncoded(full.map((s) => s.histogram));
  const dropped = samples.reduce((n, s) => n + s.dropped, 0);
  const failed = samples.reduce((n, s) => n + (s.completed - s.succeeded), 0);
  const p50 = merged.percentile(50);
  const p95 = merged.percentile(95);
  return `${label.padEnd(22)} ${`${achieved.toFixed(1)}/${RATE}`.padStart(11)} ${(achieved / RATE).toFixed(3).padStart(7)} ${p50.toFixed(1).padStart(7)} ${p95.toFixed(1).padStart(7)} ${String(dropped).padStart(7)} ${String(failed).padStart(7)}`;
}

/** The same runners' points as one stream sorted by time: one generator at the same total rate. */
function oneGenerator(logs: Map<string, string[]>): LoadSample[] {
  const lines = [...logs.values()]
    .flat()
    .filter((l) => l.startsWith('{'))
    .map((line) => ({
      line,
      time: Date.parse((JSON.parse(line) as { data?: { time?: string } }).data?.time ?? ''),
    }))
    .filter((p) => !Number.isNaN(p.time))
    .sort((a, b) => a.time - b.time);
  const parser = new K6OutputParser({ lateMs: profile.requestTimeoutMs + 1000 });
  const early = parser.push(`${lines.map((p) => p.line).join('\n')}\n`);
  return [...early, ...parser.finish().samples];
}

function sameSeconds(a: LoadSample[], b: LoadSample[]): string {
  const key = (s: LoadSample) => `${s.t}:${s.completed}:${s.succeeded}:${s.dropped}:${s.p95.toFixed(3)}`;
  const left = a.filter((s) => s.completed + s.dropped > 0).map(key);
  const right = b.filter((s) => s.completed + s.dropped > 0).map(key);
  if (left.length !== right.length) return `DIFFERENT (${left.length} vs ${right.length} seconds)`;
  const differing = left.filter((k, i) => k !== right[i]).length;
  const first = left.findIndex((k, i) => k !== right[i]);
  if (first >= 0) console.log(`  first difference: merged ${left[first]}, one generator ${right[first]}`);
  return differing === 0
    ? `identical (${left.length} seconds)`
    : `DIFFERENT in ${differing} of ${left.length} seconds`;
}

async function runTestRun(booted: Booted, runners: number): Promise<{ figures: Figures; check: string }> {
  const recorded = recordingLogs(createKubeClient(booted.env.kubeconfigPath));
  const driver = createK6InClusterDriver({
    kube: recorded.kube,
    namespace: LOAD_NS,
    mode: 'testrun',
    runId: `bench-${runners}`,
    parallelism: runners,
    pollMs: 500,
    podStartTimeoutMs: 60_000,
    cleanupTimeoutMs: 30_000,
  });
  const samples: LoadSample[] = [];
  const run = await driver.start(profile, IN_CLUSTER_URL, (s) => samples.push(s));
  await run.done;
  const check = sameSeconds(samples, oneGenerator(recorded.logs));
  return { figures: { label: `TestRun, ${runners} runner${runners === 1 ? '' : 's'}`, samples }, check };
}

async function runBuiltin(booted: Booted): Promise<Figures> {
  const samples: LoadSample[] = [];
  const run = await createLoadDriver('builtin').start(
    { ...profile, driver: 'builtin' },
    booted.env.ingressUrl,
    (s) => samples.push(s),
  );
  await run.done;
  return { label: 'built-in, from the host', samples };
}

const booted = await bootTarget({ dirPrefix: 'meshdrill-bench-k6-' });
try {
  await applyAndRollOut(booted.kubectl, WORKLOAD, 'demo', ['web']);
  console.log(`constant ${RATE} req/s for ${SECONDS} s through the local ingress gateway (2 cores)\n`);
  console.log('load                     achieved/target  ratio  p50 ms  p95 ms dropped  failed');
  const checks: string[] = [];
  console.log(summarize(await runBuiltin(booted)));
  for (const runners of RUNNERS) {
    const { figures, check } = await runTestRun(booted, runners);
    console.log(summarize(figures));
    checks.push(`N=${runners}: merged samples vs one generator over the same points: ${check}`);
  }
  console.log(`\n${checks.join('\n')}`);
  if (checks.some((c) => c.includes('DIFFERENT'))) process.exitCode = 1;
} finally {
  await booted.stop();
}
