// `k6 run` of the stand-in: the open-model arrival loop of k6's arrival-rate executors for this instance's
// execution segment, a VU pool (preAllocatedVUs, growing to maxVUs; an arrival with no free VU is dropped and
// counted, never queued), the request each iteration sends, k6's points, `--paused` with the REST API.
// Bounded: arrivals end at the scenario's duration, in-flight iterations get gracefulStop, a paused run waits at
// most PAUSED_LIMIT_MS for its start.

import type { Server } from 'node:http';
import { sendOutbound } from '../lib/outbound-http.js';
import { nowMs, openPointSink, type PointSink } from './points.js';
import { EXECUTION_STATUS, type RunControl, type RunState, startRestApi } from './rest-api.js';
import { arrivals, type InstancePlan, planInstance } from './schedule.js';
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

/** What came of one request: a status (0 when none came back), or k6's classification of the failure. */
interface RequestOutcome {
  status: number;
  proto: string;
  /** Envoy's response flags, as the response's header gave them. */
  flags: string | undefined;
  failure: { code: string; text: string } | undefined;
}

async function sendOne(
  options: RunOptions,
  sink: PointSink | undefined,
  request: ScriptRequest,
  baseUrl: string,
): Promise<void> {
  const url = baseUrl + request.path;
  const started = nowMs();
  const outcome = await sendBounded(request, url, options.script.requestTimeoutMs);
  const ended = nowMs();
  if (sink) recordRequest(options, sink, request, url, outcome, { started, ended });
}

async function sendBounded(request: ScriptRequest, url: string, timeoutMs: number): Promise<RequestOutcome> {
  const outcome: RequestOutcome = { status: 0, proto: '', flags: undefined, failure: undefined };
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
    outcome.status = response.status;
    outcome.proto = 'HTTP/1.1';
    const header = response.headers['x-envoy-response-flags'];
    outcome.flags = Array.isArray(header) ? header.join(',') : header;
  } catch (error) {
    outcome.failure = classifyRequestError(error, new URL(url).hostname);
  } finally {
    clearTimeout(timer);
  }
  return outcome;
}

/** k6's points for one request: http_reqs, its duration, whether it failed, and one point per Envoy flag. */
function recordRequest(
  options: RunOptions,
  sink: PointSink,
  request: ScriptRequest,
  url: string,
  outcome: RequestOutcome,
  at: { started: number; ended: number },
): void {
  const { script, runTags } = options;
  const { status, failure } = outcome;
  const { ended } = at;
  const expected = status >= 200 && status < 400;
  const tags: Record<string, string> = {
    expected_response: String(expected),
    group: '',
    method: request.method,
    name: request.path,
    proto: outcome.proto,
    scenario: script.scenario.name,
    status: String(status),
    url,
    ...(failure ? { error: failure.text, error_code: failure.code } : {}),
    ...runTags,
  };
  sink.point('http_reqs', ended, 1, tags);
  sink.point('http_req_duration', ended, ended - at.started, tags);
  sink.point('http_req_failed', ended, expected ? 0 : 1, tags);
  for (const flag of (outcome.flags ?? '').split(',')) {
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

/** The run's shared state: what the REST API reads and changes, and the VU pool the arrival loop uses. */
interface Execution {
  state: RunState;
  /** VUs initialised so far (grows toward maxVUs after drops), and how many are running an iteration. */
  pool: { vus: number; busy: number };
  /** Aborted by a stop (REST API or signal): ends the arrivals and the gracefulStop wait. */
  stopper: AbortController;
  /** Aborted once the run may start (at once unless `--paused`), or when it is stopped. */
  unpaused: AbortController;
  control: RunControl;
}

/** Runs the test; resolves with k6's exit code. */
export async function runTest(options: RunOptions): Promise<number> {
  const plan = planInstance(options.script.scenario, options.tuple);
  const sink =
    options.jsonOut === undefined ? undefined : openPointSink(options.jsonOut, options.script.thresholds);
  const execution = createExecution(plan, options.paused);
  const api = await startApi(options, execution.control);
  if (api.failed && options.paused) return 1;
  const onSignal = (): void => execution.control.stop();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    if (!(await waitForStart(options, execution))) return 1;
    if (execution.state.stopped) return 105;
    await runArrivals(options, plan, sink, execution);
    return execution.state.stopped ? 105 : 0;
  } finally {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    await sink?.close();
    const { server } = api;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeAllConnections();
    await closed;
  }
}

function createExecution(plan: InstancePlan, paused: boolean): Execution {
  const stopper = new AbortController();
  const unpaused = new AbortController();
  const pool = { vus: Math.min(plan.preAllocatedVUs, plan.maxVUs), busy: 0 };
  const state: RunState = {
    status: paused ? EXECUTION_STATUS.pausedBeforeRun : EXECUTION_STATUS.initDone,
    paused,
    vus: 0,
    vusMax: plan.maxVUs,
    stopped: false,
    running: false,
  };
  if (!paused) unpaused.abort();
  const control: RunControl = {
    state: () => ({ ...state, vus: pool.busy }),
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
  return { state, pool, stopper, unpaused, control };
}

/** The REST API where an address was given; a failure to listen is logged (and ends a paused run). */
async function startApi(
  options: RunOptions,
  control: RunControl,
): Promise<{ server?: Server; failed: boolean }> {
  if (!options.address) return { failed: false };
  try {
    return { server: await startRestApi(options.address, control), failed: false };
  } catch (error) {
    options.log(
      'error',
      `could not start the REST API on ${options.address.host}:${options.address.port}: ${(error as Error).message}`,
    );
    return { failed: true };
  }
}

/** A paused run waits (bounded) to be started or stopped; false when it gave up. */
async function waitForStart(options: RunOptions, execution: Execution): Promise<boolean> {
  if (!options.paused) return true;
  await sleep(PAUSED_LIMIT_MS, execution.unpaused.signal);
  if (execution.state.paused && !execution.state.stopped) {
    options.log('error', `not started within ${PAUSED_LIMIT_MS / 60_000} minutes of --paused; giving up`);
    return false;
  }
  return true;
}

/** The arrival loop, then gracefulStop for what is still in flight; the VU gauges every second throughout. */
async function runArrivals(
  options: RunOptions,
  plan: InstancePlan,
  sink: PointSink | undefined,
  execution: Execution,
): Promise<void> {
  const { script, runTags } = options;
  const { state, pool, stopper } = execution;
  state.status = EXECUTION_STATUS.running;
  state.running = true;
  const baseUrl = (options.env[script.baseUrl.env] || script.baseUrl.fallback).replace(/\/$/, '');
  const scenarioTags = { scenario: script.scenario.name, ...runTags };
  const startedAt = nowMs();
  const gauges = (): void => {
    sink?.point('vus', nowMs(), pool.busy, runTags);
    sink?.point('vus_max', nowMs(), pool.vus, runTags);
  };
  gauges();
  const gaugeTimer = setInterval(gauges, 1000);
  gaugeTimer.unref();
  const iterationIndexes = ownedIndexes(plan.tuple);
  const inFlight = new Set<Promise<void>>();
  for (const arrival of arrivals(script.scenario, plan)) {
    await sleep(startedAt + arrival.atMs - nowMs(), stopper.signal);
    if (stopper.signal.aborted) break;
    if (pool.busy >= pool.vus) {
      sink?.point('dropped_iterations', nowMs(), 1, scenarioTags);
      // k6 starts initialising another VU (up to maxVUs) for later arrivals; this one is gone.
      if (pool.vus < plan.maxVUs) pool.vus++;
      continue;
    }
    const iteration = runIteration(options, sink, execution, {
      send: iterationIndexes.next().value < script.maxRequests,
      baseUrl,
      scenarioTags,
    });
    inFlight.add(iteration);
    void iteration.finally(() => inFlight.delete(iteration));
  }
  // gracefulStop: iterations still running when the duration ends get this long to finish.
  const hardStop = startedAt + plan.durationMs + plan.gracefulStopMs;
  if (inFlight.size > 0) {
    await Promise.race([Promise.all([...inFlight]), sleep(hardStop - nowMs(), stopper.signal)]);
  }
  if (inFlight.size > 0)
    options.log('warning', `${inFlight.size} iteration(s) interrupted at the end of gracefulStop`);
  clearInterval(gaugeTimer);
  gauges();
  state.running = false;
  state.status = EXECUTION_STATUS.ended;
}

/** One iteration on a free VU: its request (unless this instance's request budget is spent), then its point. */
async function runIteration(
  options: RunOptions,
  sink: PointSink | undefined,
  execution: Execution,
  iteration: { send: boolean; baseUrl: string; scenarioTags: Record<string, string> },
): Promise<void> {
  execution.pool.busy++;
  try {
    if (iteration.send) {
      await sendOne(options, sink, pick(options.script.requests), iteration.baseUrl);
    }
    sink?.point('iterations', nowMs(), 1, { group: '', ...iteration.scenarioTags });
  } finally {
    execution.pool.busy--;
  }
}
