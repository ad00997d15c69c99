// A small client for the Prometheus HTTP API (instant queries, alerts, rule reload): the seam through which
// every metric signal is read, whatever the target.

import { MeshdrillError } from '../model/errors.js';

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusClient {
  readonly url: string;
  /** Instant query; a vector result becomes samples, a scalar one sample with no labels. */
  query(promql: string, signal?: AbortSignal): Promise<PromSample[]>;
  /** Names of the alerts currently firing. */
  firingAlerts(signal?: AbortSignal): Promise<string[]>;
}

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: unknown };
}

export function createPrometheusClient(url: string): PrometheusClient {
  const base = url.replace(/\/$/, '');
  async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, signal ? { signal } : {});
    } catch (error) {
      throw new MeshdrillError(
        'environment',
        `Prometheus at ${base} did not answer: ${(error as Error).message}`,
        {
          hint: 'check that the target is up (meshdrill cluster status)',
          cause: error,
        },
      );
    }
    const body = (await response.json()) as T;
    return body;
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
        .map((a) => a.labels.alertname ?? '');
    },
  };
}

export function parseResult(resultType: string, result: unknown): PromSample[] {
  if (resultType === 'scalar' && Array.isArray(result)) return [{ metric: {}, value: Number(result[1]) }];
  if (resultType !== 'vector' || !Array.isArray(result)) return [];
  return result.map((entry) => {
    const e = entry as { metric: Record<string, string>; value: [number, string] };
    return { metric: e.metric, value: Number(e.value[1]) };
  });
}
