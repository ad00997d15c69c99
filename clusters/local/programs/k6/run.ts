// `k6 run` of the stand-in: the open-model arrival loop of k6's arrival-rate executors for this instance's
// execution segment, a VU pool (preAllocatedVUs, growing to maxVUs; an arrival with no free VU is dropped and
// counted, never queued), the request each iteration sends, k6's points, `--paused` with the REST API.
// Bounded: arrivals end at the scenario's duration, in-flight iterations get gracefulStop, a paused run waits at
// most PAUSED_LIMIT_MS for its start.

import type { Server } from 'node:http';
import { sendOutbound } from '../lib/outbound-http.js';
import { nowMs, openPointSink, type PointSink } from './points.js';
import { EXECUTION_STATUS, type RunControl, type RunState, startRestApi } from './rest-api.js';
import { arrivals, planInstance } from './schedule.js';
import type { MeshdrillScript, ScriptRequest } from './script-reader.js';
import { type ExecutionTuple, ownedIndexes } from './segments.js';

/** How long a `--paused` runner waits to be started before it gives up (real k6 waits for ever). */
export const PAUSED_LIMIT_MS = 15 * 60_000;
const USER_AGENT = 'k6/0.54.0 (https://k6.io/)';

export interface RunOptions {
  script: MeshdrillScript;
  tuple: ExecutionTuple;
  paused: boolean;
  /** Where the REST API listens; undefined: no API. */
  address: { host: string; port: number } | undefined;
  /** `--out json=FILE` target, if any. */
  jsonOut: string | undefined;
  /** `__ENV` (the container's environment plus `-e` values). */
  env: Record<string, string | undefined>;
  /** `--tag k=v`: added to every sample. */
  runTags: Record<string, string>;
  log(level: 'info' | 'warning' | 'error', message: string): void;
}

/** k6's error code and text for a failed request (lib/netext/httpext/error_codes.go). */
export function classifyRequestError(error: unknown, host: string): { code: string; text: string } {
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  if (message.startsWith('timeout after')) return { code: '1050', text: 'request timeout' };
  switch (e.code) {
    case 'ECONNREFUSED':
      return { code: '1212', text: 'dial: connection refused' };
    case 'ECONNRESET':
      return { code: '1220', text: 'read: connection reset by peer' };
    case 'EPIPE':
      return { code: '1201', text: 'write: broken pipe' };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return { code: '1211', text: 'dial: i/o timeout' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { code: '1101', text: `lookup ${host}: no such host` };
    default:
      return { code: '1000', text: message === 'socket hang up' ? 'EOF' : message };
  }
}

function pick(requests: readonly ScriptRequest[]): ScriptRequest {
  const total = requests.reduce((sum, r) => sum + r.weight, 0);
  let left = Math.random() * total;
  for (const request of requests) {
    left -= request.weight;
    if (left < 0) return request;
  }
  return requests[requests.length - 1] as ScriptRequest;
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop.addEventListener('abort', done, { once: true });
  });
}

async function sendOne(
  options: RunOptions,
  sink: PointSink | undefined,
  request: ScriptRequest,
  baseUrl: string,
): Promise<void> {
  const { script, runTags } = options;
  const url = baseUrl + request.path;
  const host = new URL(url).hostname;
  const timeoutMs = script.requestTimeoutMs;
  const started = nowMs();
  let status = 0;
  let proto = '';
  let flags: string | undefined;
  let failure: { code: string; text: string } | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    // A connect that never completes is not covered by the client's own timer: bound the whole request.
    const response = await Promise.race([
      sendOutbound({
        url,
        method: request.method,
        headers: { 'user-agent': USER_AGENT, ...request.headers },
        ...(request.body === null ? {} : { body: Buffer.from(request.body, 'utf8') }),
        timeoutMs,
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs + 50);
      }),
    ]);
    status = response.status;
    proto = 'HTTP/1.1';
    const header = response.headers['x-envoy-response-flags'];
    flags = Array.isArray(header) ? header.join(',') : header;
  } catch (error) {
    failure = classifyRequestError(error, host);
  } finally {
    clearTimeout(timer);
  }
  const ended = nowMs();
  if (!sink) return;
  const expected = status >= 200 && status < 400;
  const tags: Record<string, string> = {
    expected_response: String(expected),
    group: '',
    method: request.method,
    name: request.path,
    proto,
    scenario: script.scenario.name,
    status: String(status),
    url,
    ...(failure ? { error: failure.text, error_code: failure.code } : {}),
    ...runTags,
  };
  sink.point('http_reqs', ended, 1, tags);
  sink.point('http_req_duration', ended, ended - started, tags);
  sink.point('http_req_failed', ended, expected ? 0 : 1, tags);
  for (const flag of (flags ?? '').split(',')) {
    const trimmed = flag.trim();
    if (trimmed === '' || trimmed === '-') continue;
    // Same time as the request's points: the harness places the flag in the second the request started.
    sink.point(script.flagMetric, ended, 1, {
      group: '',
      scenario: script.scenario.name,
      flag: trimmed,
      ...runTags,
    });
  }
}

/** Runs the test; resolves with k6's exit code. */
export async function runTest(options: RunOptions): Promise<number> {
  const { script, log } = options;
  const plan = planInstance(script.scenario, options.tuple);
  const sink = options.jsonOut === undefined ? undefined : openPointSink(options.jsonOut, script.thresholds);
  const stopper = new AbortController();
  const unpaused = new AbortController();
  let vus = Math.min(plan.preAllocatedVUs, plan.maxVUs);
  let busy = 0;
  const state: RunState = {
    status: options.paused ? EXECUTION_STATUS.pausedBeforeRun : EXECUTION_STATUS.initDone,
    paused: options.paused,
    vus: 0,
    vusMax: plan.maxVUs,
    stopped: false,
    running: false,
  };
  if (!options.paused) unpaused.abort();
  const control: RunControl = {
    state: () => ({ ...state, vus: busy }),
    setPaused(paused) {
      if (paused)
        return state.running ? 'pausing a running test is not supported by the stand-in' : undefined;
      if (!state.paused) return "execution wasn't paused";
      state.paused = false;
      unpaused.abort();
      return undefined;
    },
    stop() {
      state.stopped = true;
      stopper.abort();
      unpaused.abort();
    },
  };
  let server: Server | undefined;
  if (options.address) {
    try {
      server = await startRestApi(options.address, control);
    } catch (error) {
      log(
        'error',
        `could not start the REST API on ${options.address.host}:${options.address.port}: ${(error as Error).message}`,
      );
      if (options.paused) return 1;
    }
  }
  const onSignal = (): void => control.stop();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    if (options.paused) {
      await sleep(PAUSED_LIMIT_MS, unpaused.signal);
      if (state.paused && !state.stopped) {
        log('error', `not started within ${PAUSED_LIMIT_MS / 60_000} minutes of --paused; giving up`);
        return 1;
      }
    }
    if (state.stopped) return 105;
    state.status = EXECUTION_STATUS.running;
    state.running = true;
    const baseUrl = (options.env[script.baseUrl.env] || script.baseUrl.fallback).replace(/\/$/, '');
    const runTags = options.runTags;
    const scenarioTags = { scenario: script.scenario.name, ...runTags };
    const startedAt = nowMs();
    const gauges = (): void => {
      sink?.point('vus', nowMs(), busy, runTags);
      sink?.point('vus_max', nowMs(), vus, runTags);
    };
    gauges();
    const gaugeTimer = setInterval(gauges, 1000);
    gaugeTimer.unref();
    const iterationIndexes = ownedIndexes(plan.tuple);
    const inFlight = new Set<Promise<void>>();
    for (const arrival of arrivals(script.scenario, plan)) {
      await sleep(startedAt + arrival.atMs - nowMs(), stopper.signal);
      if (stopper.signal.aborted) break;
      if (busy >= vus) {
        sink?.point('dropped_iterations', nowMs(), 1, scenarioTags);
        // k6 starts initialising another VU (up to maxVUs) for later arrivals; this one is gone.
        if (vus < plan.maxVUs) vus++;
        continue;
      }
      busy++;
      const iterationInTest = iterationIndexes.next().value;
      const iteration = (async () => {
        try {
          if (iterationInTest < script.maxRequests) {
            await sendOne(options, sink, pick(script.requests), baseUrl);
          }
          sink?.point('iterations', nowMs(), 1, { group: '', ...scenarioTags });
        } finally {
          busy--;
        }
      })();
      inFlight.add(iteration);
      void iteration.finally(() => inFlight.delete(iteration));
    }
    // gracefulStop: iterations still running when the duration ends get this long to finish.
    const hardStop = startedAt + plan.durationMs + plan.gracefulStopMs;
    if (inFlight.size > 0) {
      await Promise.race([Promise.all([...inFlight]), sleep(hardStop - nowMs(), stopper.signal)]);
    }
    if (inFlight.size > 0)
      log('warning', `${inFlight.size} iteration(s) interrupted at the end of gracefulStop`);
    clearInterval(gaugeTimer);
    gauges();
    state.running = false;
    state.status = EXECUTION_STATUS.ended;
    return state.stopped ? 105 : 0;
  } finally {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    await sink?.close();
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeAllConnections();
    await closed;
  }
}
