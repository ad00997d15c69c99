// A small client for the Prometheus HTTP API (instant queries, alerts, rule reload): the seam through which
// every metric signal is read, whatever the target.
//
// Requests go through node:http with a keep-alive agent, not fetch: every signal of every running drill is polled
// several times a second, and a fetch() cost the harness ≈ 2.4 ms of CPU on these 2 cores (bench/drill-costs).

import http from 'node:http';
import https from 'node:https';
import { parse as parseYaml } from 'yaml';
import { MeshdrillError } from '../model/index.js';
import { parsePromDuration, type RuleTiming } from '../slo/index.js';

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface FiringAlert {
  name: string;
  labels: Record<string, string>;
}

export interface PrometheusClient {
  readonly url: string;
  /** Instant query; a vector result becomes samples, a scalar one sample with no labels. */
  query(promql: string, signal?: AbortSignal): Promise<PromSample[]>;
  /** The alert instances currently firing, with their labels (`alertname` among them). */
  firingAlerts(signal?: AbortSignal): Promise<FiringAlert[]>;
  /** The running configuration's global scrape and rule-evaluation intervals (`/api/v1/status/config`). */
  ruleTiming(signal?: AbortSignal): Promise<RuleTiming>;
}

/** Prometheus's own defaults when its configuration leaves the global intervals out. */
const PROMETHEUS_DEFAULT_INTERVAL_MS = 60_000;

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: unknown };
}

export function createPrometheusClient(url: string): PrometheusClient {
  const base = url.replace(/\/$/, '');
  const secure = base.startsWith('https:');
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 8 })
    : new http.Agent({ keepAlive: true, maxSockets: 8 });
  // An idle pooled connection must never keep meshdrill running.
  agent.on('free', (socket) => socket.unref());
  const fail = (error: Error): MeshdrillError =>
    new MeshdrillError('environment', `Prometheus at ${base} did not answer: ${error.message}`, {
      hint: 'check that the target is up (meshdrill cluster status)',
      cause: error,
    });
  function get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return new Promise((resolve, reject) => {
      const request = (secure ? https : http).get(
        `${base}${path}`,
        { agent, ...(signal ? { signal } : {}) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => reject(fail(error)));
          response.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
            } catch (error) {
              reject(fail(new Error(`HTTP ${response.statusCode}: not JSON (${(error as Error).message})`)));
            }
          });
        },
      );
      request.on('error', (error) => reject(signal?.aborted ? error : fail(error)));
    });
  }
  return {
    url: base,
    async query(promql, signal) {
      const body = await get<QueryResponse>(`/api/v1/query?query=${encodeURIComponent(promql)}`, signal);
      if (body.status !== 'success' || !body.data) {
        throw new MeshdrillError('invalid-input', `PromQL query failed: ${body.error ?? 'unknown error'}`, {
          hint: `check the query: ${promql}`,
        });
      }
      return parseResult(body.data.resultType, body.data.result);
    },
    async firingAlerts(signal) {
      const body = await get<{ data?: { alerts?: { labels: Record<string, string>; state: string }[] } }>(
        '/api/v1/alerts',
        signal,
      );
      return (body.data?.alerts ?? [])
        .filter((a) => a.state === 'firing')
        .map((a) => ({ name: a.labels.alertname ?? '', labels: a.labels }));
    },
    async ruleTiming(signal) {
      const body = await get<{ data?: { yaml?: string } }>('/api/v1/status/config', signal);
      const config = parseYaml(body.data?.yaml ?? '') as { global?: Record<string, unknown> } | null;
      const interval = (key: string): number => {
        const text = config?.global?.[key];
        return (
          (typeof text === 'string' ? parsePromDuration(text) : undefined) ?? PROMETHEUS_DEFAULT_INTERVAL_MS
        );
      };
      return {
        scrapeIntervalMs: interval('scrape_interval'),
        evaluationIntervalMs: interval('evaluation_interval'),
      };
    },
  };
}

/** A sample value as Prometheus writes it: a decimal, or "NaN", "+Inf", "-Inf" (which Number() reads as NaN). */
export function parseSampleValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

export function parseResult(resultType: string, result: unknown): PromSample[] {
  if (resultType === 'scalar' && Array.isArray(result))
    return [{ metric: {}, value: parseSampleValue(String(result[1])) }];
  if (resultType !== 'vector' || !Array.isArray(result)) return [];
  return result.map((entry) => {
    const e = entry as { metric: Record<string, string>; value: [number, string] };
    return { metric: e.metric, value: parseSampleValue(e.value[1]) };
  });
}
