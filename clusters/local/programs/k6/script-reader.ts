// Reads what the k6 stand-in needs out of a meshdrill-generated k6 script's text (harness/load/k6/script.ts):
// the `options` literal, REQUESTS, MAX_REQUESTS, REQUEST_TIMEOUT_MS and the base-URL variable. It does not run
// JavaScript. A script that is not meshdrill's shape is refused with every reason at once, never guessed at. Pure.

import { parseDuration } from '../../../../harness/util/duration.js';

export interface ScriptRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
  weight: number;
}

interface ScenarioCommon {
  name: string;
  timeUnitMs: number;
  preAllocatedVUs: number;
  maxVUs: number;
  gracefulStopMs: number;
}

export type ArrivalScenario =
  | (ScenarioCommon & { executor: 'constant-arrival-rate'; rate: number; durationMs: number })
  | (ScenarioCommon & {
      executor: 'ramping-arrival-rate';
      startRate: number;
      stages: { target: number; durationMs: number }[];
    });

export interface MeshdrillScript {
  /** The `options` object as written (k6 inspect prints it back). */
  options: Record<string, unknown>;
  scenario: ArrivalScenario;
  thresholds: Record<string, string[]>;
  requests: ScriptRequest[];
  maxRequests: number;
  requestTimeoutMs: number;
  /** `__ENV.<name> || '<default>'`, trailing slash removed as the script does. */
  baseUrl: { env: string; fallback: string };
  /** The custom counter counting Envoy response flags. */
  flagMetric: string;
}

export class ScriptRefused extends Error {
  override name = 'ScriptRefused';
  constructor(
    readonly file: string,
    readonly reasons: string[],
  ) {
    super(
      `${file}: this is not k6 but meshdrill's local stand-in for it, and it runs only scripts meshdrill generates (harness/load/k6/script.ts); it does not understand this one:\n  ${reasons.join('\n  ')}`,
    );
  }
}

/** The JSON text of a `{…}` or `[…]` literal starting at `open` (a string-aware bracket match), or undefined. */
function balanced(text: string, open: number): string | undefined {
  const opener = text[open];
  const closer = opener === '{' ? '}' : opener === '[' ? ']' : undefined;
  if (closer === undefined) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return text.slice(open, i + 1);
    }
  }
  return undefined;
}

function jsonLiteral(text: string, declaration: RegExp, what: string, reasons: string[]): unknown {
  const match = declaration.exec(text);
  if (!match) {
    reasons.push(`no ${what} declaration`);
    return undefined;
  }
  const literal = balanced(text, match.index + match[0].length);
  if (literal === undefined) {
    reasons.push(`${what} is not a JSON literal`);
    return undefined;
  }
  try {
    return JSON.parse(literal);
  } catch (error) {
    reasons.push(`${what} is not a JSON literal (${(error as Error).message})`);
    return undefined;
  }
}

function integerConstant(text: string, name: string, reasons: string[]): number {
  const match = new RegExp(`^const ${name} = (\\d+);$`, 'm').exec(text);
  if (!match) {
    reasons.push(`no \`const ${name} = <integer>;\``);
    return 0;
  }
  return Number(match[1]);
}

/** What the script must do, as meshdrill writes it: the stand-in implements exactly this and nothing else. */
const REQUIRED_CODE: readonly [string, string][] = [
  ["import http from 'k6/http';", 'the k6/http import'],
  [
    'exec.scenario.iterationInTest >= MAX_REQUESTS',
    'the MAX_REQUESTS guard on exec.scenario.iterationInTest',
  ],
  ['http.request(request.method, BASE_URL + request.path, request.body, {', 'the request call'],
  ['timeout: REQUEST_TIMEOUT_MS,', 'the request timeout'],
  ['tags: { name: request.path },', 'the name tag'],
  ["response.headers['X-Envoy-Response-Flags']", 'the Envoy response-flag counter'],
  ['export default function () {', 'the default function'],
];

const KNOWN_OPTIONS = new Set(['discardResponseBodies', 'summaryTrendStats', 'scenarios', 'thresholds']);

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function positiveInt(value: unknown, what: string, reasons: string[], allowZero = false): number {
  if (typeof value === 'number' && Number.isInteger(value) && (allowZero ? value >= 0 : value > 0))
    return value;
  reasons.push(
    `${what}: expected ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(value)}`,
  );
  return 0;
}

function duration(value: unknown, what: string, reasons: string[], fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) {
    reasons.push(`${what}: expected a k6 duration such as "30s", got ${JSON.stringify(value)}`);
    return 0;
  }
  return ms;
}

function readScenario(
  name: string,
  raw: Record<string, unknown>,
  reasons: string[],
): ArrivalScenario | undefined {
  const at = `options.scenarios.${name}`;
  const allowed = {
    'constant-arrival-rate': [
      'executor',
      'rate',
      'timeUnit',
      'duration',
      'preAllocatedVUs',
      'maxVUs',
      'gracefulStop',
    ],
    'ramping-arrival-rate': [
      'executor',
      'startRate',
      'timeUnit',
      'stages',
      'preAllocatedVUs',
      'maxVUs',
      'gracefulStop',
    ],
  } as const;
  const executor = raw.executor;
  if (executor !== 'constant-arrival-rate' && executor !== 'ramping-arrival-rate') {
    reasons.push(
      `${at}.executor: only constant-arrival-rate and ramping-arrival-rate, got ${JSON.stringify(executor)}`,
    );
    return undefined;
  }
  const extra = Object.keys(raw).filter((k) => !(allowed[executor] as readonly string[]).includes(k));
  if (extra.length > 0) reasons.push(`${at}: fields the stand-in does not implement: ${extra.join(', ')}`);
  const common: ScenarioCommon = {
    name,
    timeUnitMs: duration(raw.timeUnit, `${at}.timeUnit`, reasons, 1000),
    preAllocatedVUs: positiveInt(raw.preAllocatedVUs, `${at}.preAllocatedVUs`, reasons, true),
    maxVUs: positiveInt(raw.maxVUs, `${at}.maxVUs`, reasons),
    gracefulStopMs: duration(raw.gracefulStop, `${at}.gracefulStop`, reasons, 30_000),
  };
  if (executor === 'constant-arrival-rate') {
    return {
      ...common,
      executor,
      rate: positiveInt(raw.rate, `${at}.rate`, reasons),
      durationMs: duration(raw.duration, `${at}.duration`, reasons),
    };
  }
  const stages = Array.isArray(raw.stages) ? raw.stages : [];
  if (!Array.isArray(raw.stages) || stages.length === 0)
    reasons.push(`${at}.stages: expected a non-empty list`);
  return {
    ...common,
    executor,
    startRate: positiveInt(raw.startRate ?? 0, `${at}.startRate`, reasons, true),
    stages: stages.map((s: unknown, i) => {
      const stage = asRecord(s) ?? {};
      return {
        target: positiveInt(stage.target, `${at}.stages[${i}].target`, reasons, true),
        durationMs: duration(stage.duration, `${at}.stages[${i}].duration`, reasons),
      };
    }),
  };
}

function readRequests(value: unknown, reasons: string[]): ScriptRequest[] {
  if (!Array.isArray(value) || value.length === 0) {
    if (value !== undefined) reasons.push('REQUESTS: expected a non-empty list');
    return [];
  }
  return value.flatMap((item: unknown, i) => {
    const r = asRecord(item);
    const headers = asRecord(r?.headers);
    const ok =
      r !== undefined &&
      typeof r.method === 'string' &&
      typeof r.path === 'string' &&
      r.path.startsWith('/') &&
      headers !== undefined &&
      Object.values(headers).every((v) => typeof v === 'string') &&
      (r.body === null || typeof r.body === 'string') &&
      typeof r.weight === 'number' &&
      r.weight > 0;
    if (!ok) {
      reasons.push(
        `REQUESTS[${i}]: expected {method, path "/…", headers {string: string}, body string|null, weight > 0}`,
      );
      return [];
    }
    return [
      {
        method: r.method as string,
        path: r.path as string,
        headers: headers as Record<string, string>,
        body: r.body as string | null,
        weight: r.weight as number,
      },
    ];
  });
}

/** Reads a meshdrill-generated script; throws ScriptRefused listing every reason it cannot. */
export function readMeshdrillScript(text: string, file: string): MeshdrillScript {
  const reasons: string[] = [];
  for (const [code, what] of REQUIRED_CODE)
    if (!text.includes(code)) reasons.push(`missing ${what}: \`${code}\``);
  const options = asRecord(jsonLiteral(text, /^export const options = /m, '`export const options`', reasons));
  const requests = readRequests(
    jsonLiteral(text, /^const REQUESTS = /m, '`const REQUESTS`', reasons),
    reasons,
  );
  const maxRequests = integerConstant(text, 'MAX_REQUESTS', reasons);
  const requestTimeoutMs = integerConstant(text, 'REQUEST_TIMEOUT_MS', reasons);
  const base = /^const BASE_URL = \(__ENV\.([A-Za-z_][A-Za-z0-9_]*) \|\| '([^']*)'\)\.replace\(/m.exec(text);
  if (!base) reasons.push("no `const BASE_URL = (__ENV.NAME || '…').replace(…)`");
  const counter = /new Counter\('([A-Za-z_][A-Za-z0-9_]*)'\)/.exec(text);
  if (!counter) reasons.push('no Envoy flag Counter');

  let scenario: ArrivalScenario | undefined;
  const thresholds: Record<string, string[]> = {};
  if (options) {
    const unknown = Object.keys(options).filter((k) => !KNOWN_OPTIONS.has(k));
    if (unknown.length > 0) reasons.push(`options the stand-in does not implement: ${unknown.join(', ')}`);
    const scenarios = asRecord(options.scenarios);
    const names = Object.keys(scenarios ?? {});
    if (!scenarios || names.length !== 1) {
      reasons.push(`options.scenarios: expected exactly one scenario, got ${names.length}`);
    } else {
      const name = names[0] as string;
      scenario = readScenario(name, asRecord(scenarios[name]) ?? {}, reasons);
    }
    for (const [metric, list] of Object.entries(asRecord(options.thresholds) ?? {})) {
      if (Array.isArray(list) && list.every((t) => typeof t === 'string'))
        thresholds[metric] = list as string[];
      else reasons.push(`options.thresholds.${metric}: expected a list of strings`);
    }
  }
  if (reasons.length > 0 || !options || !scenario || !base || !counter)
    throw new ScriptRefused(file, reasons);
  return {
    options,
    scenario,
    thresholds,
    requests,
    maxRequests,
    requestTimeoutMs,
    baseUrl: { env: base[1] as string, fallback: base[2] as string },
    flagMetric: counter[1] as string,
  };
}

/** The scenario's total time as `k6 inspect --execution-requirements` reports it: duration + gracefulStop. */
export function totalDurationMs(scenario: ArrivalScenario): number {
  const run =
    scenario.executor === 'constant-arrival-rate'
      ? scenario.durationMs
      : scenario.stages.reduce((sum, s) => sum + s.durationMs, 0);
  return run + scenario.gracefulStopMs;
}

/** A duration as Go's time.Duration prints it ("8s", "1m30s", "1.5s", "500ms"), which k6's JSON uses. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${Number(ms.toFixed(6))}ms`;
  let rest = ms / 1000;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  const seconds = `${Number(rest.toFixed(9))}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}
