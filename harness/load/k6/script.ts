// Generates a k6 script from a load profile and the scenario's SLOs. Pure. The script is plain JavaScript with
// JSDoc types, so the same file runs in k6 and type-checks against @types/k6 (see test/load/k6-script.test.ts).
//
// Mapping: the executor and its rate/stages carry over; maxInFlight becomes maxVUs (a VU runs one request at a
// time, and k6 drops — never queues — an iteration when no VU is free, like the built-in driver); maxRequests
// skips iterations past the cap; SLOs become thresholds on http_req_failed and http_req_duration. k6 thresholds
// cannot count dropped iterations as failures; meshdrill's own verdict, from the parsed output, does.

import type { LoadProfile } from '../../model/index.js';
import type { SloThreshold } from '../../model/index.js';

/** Environment variables the script reads at run time. */
export const K6_ENV = {
  baseUrl: 'MESHDRILL_BASE_URL',
  summaryPath: 'MESHDRILL_SUMMARY_PATH',
} as const;

/** The custom counter the script adds per Envoy response flag (tag `flag`). */
export const K6_FLAG_METRIC = 'meshdrill_envoy_flags';

type ThresholdOp = SloThreshold['op'];

/** The k6 duration for milliseconds: whole seconds as "30s", otherwise "1500ms". */
export function formatK6Duration(ms: number): string {
  const rounded = Math.max(0, Math.round(ms));
  return rounded % 1000 === 0 ? `${rounded / 1000}s` : `${rounded}ms`;
}

/** A ratio without float noise: 1 − 0.995 prints as 0.005. */
function formatRatio(value: number): string {
  return String(Number(value.toFixed(10)));
}

const NEGATED: Record<ThresholdOp, ThresholdOp> = { '>=': '<=', '>': '<', '<=': '>=', '<': '>' };

/** k6 thresholds mirroring the SLOs, by metric name. */
export function buildK6Thresholds(slos: readonly SloThreshold[]): Record<string, string[]> {
  const thresholds: Record<string, string[]> = {};
  const add = (metric: string, expression: string): void => {
    const list = thresholds[metric] ?? [];
    if (!list.includes(expression)) list.push(expression);
    thresholds[metric] = list;
  };
  for (const slo of slos) {
    switch (slo.metric) {
      case 'success_rate':
        // success ≥ x  ⇔  failed ≤ 1 − x
        add('http_req_failed', `rate${NEGATED[slo.op]}${formatRatio(1 - slo.value)}`);
        break;
      case 'error_rate':
        add('http_req_failed', `rate${slo.op}${formatRatio(slo.value)}`);
        break;
      case 'latency':
        add('http_req_duration', `p(${slo.percentile ?? 95})${slo.op}${formatRatio(slo.value)}`);
        break;
    }
  }
  return thresholds;
}

function peakRate(profile: LoadProfile): number {
  if (profile.executor === 'constant-arrival-rate') return profile.rate;
  return Math.max(profile.rate, ...profile.stages.map((s) => s.target));
}

/** The k6 scenario object for the profile's executor. */
export function buildK6Scenario(profile: LoadProfile): Record<string, unknown> {
  const maxVUs = profile.maxInFlight;
  // Enough VUs for ~100 ms of latency at the peak rate up front; k6 adds more (up to maxVUs) when needed.
  const preAllocatedVUs = Math.min(maxVUs, Math.max(1, Math.ceil(peakRate(profile) / 10)));
  const gracefulStop = formatK6Duration(profile.requestTimeoutMs);
  if (profile.executor === 'constant-arrival-rate') {
    return {
      executor: 'constant-arrival-rate',
      rate: profile.rate,
      timeUnit: '1s',
      duration: formatK6Duration(profile.maxDurationMs),
      preAllocatedVUs,
      maxVUs,
      gracefulStop,
    };
  }
  // k6 has no overall cap for ramping: cut the stages at maxDurationMs as the built-in driver does.
  const stages: { target: number; duration: string }[] = [];
  let left = profile.maxDurationMs;
  let rate = profile.rate;
  for (const stage of profile.stages) {
    if (left <= 0) break;
    const durationMs = Math.min(stage.durationMs, left);
    const target =
      durationMs === stage.durationMs
        ? stage.target
        : Math.round(rate + ((stage.target - rate) * durationMs) / stage.durationMs);
    stages.push({ target, duration: formatK6Duration(durationMs) });
    left -= durationMs;
    rate = stage.target;
  }
  return {
    executor: 'ramping-arrival-rate',
    startRate: profile.rate,
    timeUnit: '1s',
    stages,
    preAllocatedVUs,
    maxVUs,
    gracefulStop,
  };
}

/** The request mix as the script carries it: weightless requests left out, the profile's Host on each. */
function scriptRequests(profile: LoadProfile): Record<string, unknown>[] {
  return profile.requests
    .filter((r) => r.weight > 0)
    .map((r) => ({
      method: r.method.toUpperCase(),
      path: r.path,
      headers: { ...(profile.host === undefined ? {} : { Host: profile.host }), ...r.headers },
      body: r.body ?? null,
      weight: r.weight,
    }));
}

/** What the script is, which SLOs it mirrors, how to run it; then its imports. */
function scriptHeader(slos: readonly SloThreshold[]): string {
  const sloComment = slos.length === 0 ? 'none' : slos.map((s) => s.source).join('; ');
  return `// Generated by meshdrill from a scenario's load profile. Do not edit: change the scenario and regenerate.
// SLOs mirrored as thresholds: ${sloComment}
// Run: ${K6_ENV.baseUrl}=http://host:port k6 run --out json=points.json script.js
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';`;
}

/** The run's settings from the environment and the profile, the request mix and the flag counter. */
function scriptConstants(profile: LoadProfile): string {
  return `const BASE_URL = (__ENV.${K6_ENV.baseUrl} || 'http://127.0.0.1:8080').replace(/\\/$/, '');
const SUMMARY_PATH = __ENV.${K6_ENV.summaryPath} || 'summary.json';
const MAX_REQUESTS = ${profile.maxRequests};
const REQUEST_TIMEOUT_MS = ${profile.requestTimeoutMs};

/** @type {{ method: string, path: string, headers: Record<string, string>, body: string | null, weight: number }[]} */
const REQUESTS = ${JSON.stringify(scriptRequests(profile), null, 2)};
const TOTAL_WEIGHT = REQUESTS.reduce((sum, r) => sum + r.weight, 0);

// Envoy response flags, when the gateway sends them back (x-envoy-response-flags), one count per flag.
const envoyFlags = new Counter('${K6_FLAG_METRIC}');`;
}

/** k6's options: the executor's scenario and the SLOs' thresholds. */
function scriptOptions(profile: LoadProfile, slos: readonly SloThreshold[]): string {
  const options = {
    discardResponseBodies: true,
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
    scenarios: { load: buildK6Scenario(profile) },
    thresholds: buildK6Thresholds(slos),
  };
  return `/** @type {import('k6/options').Options} */
export const options = ${JSON.stringify(options, null, 2)};`;
}

/** One iteration: a request picked by weight, its Envoy flags counted. The same for every profile. */
const SCRIPT_ITERATION = `/** Picks a request by weight. */
function pick() {
  let left = Math.random() * TOTAL_WEIGHT;
  for (const request of REQUESTS) {
    left -= request.weight;
    if (left < 0) return request;
  }
  return REQUESTS[REQUESTS.length - 1];
}

export default function () {
  // maxRequests is a hard cap: iterations past it do nothing.
  if (exec.scenario.iterationInTest >= MAX_REQUESTS) return;
  const request = pick();
  if (request === undefined) return;
  const response = http.request(request.method, BASE_URL + request.path, request.body, {
    headers: request.headers,
    timeout: REQUEST_TIMEOUT_MS,
    tags: { name: request.path },
  });
  const flags = response.headers['X-Envoy-Response-Flags'];
  if (flags) {
    for (const flag of flags.split(',')) {
      const trimmed = flag.trim();
      if (trimmed !== '' && trimmed !== '-') envoyFlags.add(1, { flag: trimmed });
    }
  }
}`;

/** The summary goes to a file for meshdrill; its stdout line marks the end of the points in a pod's log. */
const SCRIPT_SUMMARY = `/**
 * Machine-readable summary for meshdrill, and a short line for humans.
 * @param {{ metrics: Record<string, unknown> }} data
 */
export function handleSummary(data) {
  return {
    [SUMMARY_PATH]: JSON.stringify(data, null, 2),
    stdout: 'meshdrill: k6 summary written to ' + SUMMARY_PATH + '\\n',
  };
}`;

/** The k6 script for a profile and its SLOs. Deterministic: the same inputs give the same bytes. */
export function generateK6Script(profile: LoadProfile, slos: readonly SloThreshold[]): string {
  const sections = [
    scriptHeader(slos),
    scriptConstants(profile),
    scriptOptions(profile, slos),
    SCRIPT_ITERATION,
    SCRIPT_SUMMARY,
  ];
  return `${sections.join('\n\n')}\n`;
}
