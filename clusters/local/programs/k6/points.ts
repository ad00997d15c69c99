// k6's JSON output (`--out json=FILE`): a "Metric" line the first time a metric appears, then one "Point" line per
// sample, in k6's field order, written in batches of whole lines every 200 ms (as k6's json output flushes).
// `/dev/stdout` and `-` go to this process's stdout, which the kubelet keeps as the container log.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { outputPath } from './files.js';

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

const METRIC_TYPES: Record<string, { type: MetricType; contains: 'default' | 'time' }> = {
  vus: { type: 'gauge', contains: 'default' },
  vus_max: { type: 'gauge', contains: 'default' },
  http_reqs: { type: 'counter', contains: 'default' },
  http_req_duration: { type: 'trend', contains: 'time' },
  http_req_failed: { type: 'rate', contains: 'default' },
  iterations: { type: 'counter', contains: 'default' },
  dropped_iterations: { type: 'counter', contains: 'default' },
};

/** A wall-clock time with sub-millisecond precision as Go's RFC 3339 nano form ("…T10:00:00.0052Z"). */
export function formatK6Time(epochMs: number): string {
  const whole = Math.floor(epochMs);
  const iso = new Date(whole).toISOString(); // …T10:00:00.005Z
  const nanos = Math.round((epochMs - whole) * 1e6);
  const fraction = `${iso.slice(20, 23)}${String(Math.min(nanos, 999_999)).padStart(6, '0')}`.replace(
    /0+$/,
    '',
  );
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/** Wall-clock now in ms with the monotonic clock's precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function openFile(file: string): WriteStream {
  mkdirSync(dirname(file), { recursive: true });
  return createWriteStream(file);
}

export interface PointSink {
  point(metric: string, epochMs: number, value: number, tags: Record<string, string> | null): void;
  /** Writes what is buffered and closes the file (resolves when the bytes are handed to the OS). */
  close(): Promise<void>;
}

export function openPointSink(
  target: string,
  thresholds: Record<string, string[]>,
  metricTypes: Record<string, MetricType> = {},
): PointSink {
  const toStdout = target === '-' || target === '/dev/stdout';
  const stream: NodeJS.WritableStream | WriteStream = toStdout
    ? process.stdout
    : target === '/dev/stderr'
      ? process.stderr
      : openFile(outputPath(target));
  const declared = new Set<string>();
  let buffer: string[] = [];
  const flush = (): void => {
    if (buffer.length === 0) return;
    stream.write(`${buffer.join('\n')}\n`);
    buffer = [];
  };
  const timer = setInterval(flush, 200);
  timer.unref();
  return {
    point(metric, epochMs, value, tags) {
      if (!declared.has(metric)) {
        declared.add(metric);
        const known = METRIC_TYPES[metric] ?? { type: metricTypes[metric] ?? 'counter', contains: 'default' };
        buffer.push(
          JSON.stringify({
            type: 'Metric',
            data: {
              name: metric,
              type: known.type,
              contains: known.contains,
              thresholds: thresholds[metric] ?? [],
              submetrics: null,
            },
            metric,
          }),
        );
      }
      buffer.push(
        JSON.stringify({ metric, type: 'Point', data: { time: formatK6Time(epochMs), value, tags } }),
      );
    },
    close() {
      clearInterval(timer);
      flush();
      return new Promise((resolve) => {
        if (toStdout || stream === process.stderr) {
          // Resolve once what was written has drained to the pipe.
          stream.write('', () => resolve());
          return;
        }
        (stream as WriteStream).end(() => resolve());
      });
    },
  };
}
