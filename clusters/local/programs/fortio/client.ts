// `fortio curl` and `fortio load` of the emulation: a single request, or a fixed-QPS run with fortio's summary.

import { sendOutbound } from '../lib/outbound-http.js';

export interface CurlOptions {
  url: string;
  headers: string[];
  timeoutMs: number;
  payload: string;
}

function headerMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const colon = h.indexOf(':');
    if (colon > 0) out[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  return out;
}

export async function runCurl(options: CurlOptions): Promise<number> {
  try {
    const res = await sendOutbound({
      url: options.url,
      method: options.payload ? 'POST' : 'GET',
      headers: headerMap(options.headers),
      timeoutMs: options.timeoutMs,
      ...(options.payload ? { body: Buffer.from(options.payload) } : {}),
    });
    const headerText = Object.entries(res.headers)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
      .join('\r\n');
    process.stderr.write(`HTTP/1.1 ${res.status}\r\n${headerText}\r\n\r\n`);
    process.stdout.write(res.body);
    return res.status === 200 ? 0 : 1;
  } catch (error) {
    process.stderr.write(`Error fetching ${options.url}: ${(error as Error).message}\n`);
    return 1;
  }
}

export interface LoadOptions {
  url: string;
  headers: string[];
  timeoutMs: number;
  qps: number;
  connections: number;
  durationMs: number;
  count: number;
}

export async function runLoad(options: LoadOptions): Promise<number> {
  const codes = new Map<number, number>();
  const latencies: number[] = [];
  const started = Date.now();
  const total =
    options.count > 0
      ? options.count
      : options.qps > 0
        ? Math.round((options.qps * options.durationMs) / 1000)
        : Number.POSITIVE_INFINITY;
  const perConnectionInterval = options.qps > 0 ? (1000 * Math.max(1, options.connections)) / options.qps : 0;
  let issued = 0;
  process.stdout.write(
    `Fortio load starting at ${options.qps} queries per second, ${options.connections} connections, for ${options.durationMs / 1000}s: ${options.url}\n`,
  );
  const worker = async (index: number): Promise<void> => {
    let next = started + (perConnectionInterval * index) / Math.max(1, options.connections);
    while (
      issued < total &&
      Date.now() - started < (options.count > 0 ? Number.POSITIVE_INFINITY : options.durationMs)
    ) {
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      next += perConnectionInterval;
      issued++;
      const t0 = performance.now();
      let code = -1;
      try {
        code = (
          await sendOutbound({
            url: options.url,
            headers: headerMap(options.headers),
            timeoutMs: options.timeoutMs,
          })
        ).status;
      } catch {
        code = -1;
      }
      latencies.push(performance.now() - t0);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.connections) }, (_, i) => worker(i)));
  const elapsed = (Date.now() - started) / 1000;
  const n = latencies.length;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => (latencies[Math.min(n - 1, Math.floor((p / 100) * n))] ?? 0) / 1000;
  process.stdout.write(`Ended after ${elapsed.toFixed(3)}s : ${n} calls. qps=${(n / elapsed).toFixed(2)}\n`);
  process.stdout.write(
    `# target 50% ${pct(50).toFixed(4)}\n# target 90% ${pct(90).toFixed(4)}\n# target 99% ${pct(99).toFixed(4)}\n`,
  );
  for (const [code, count] of [...codes.entries()].sort((a, b) => a[0] - b[0])) {
    process.stdout.write(`Code ${code} : ${count} (${((100 * count) / Math.max(1, n)).toFixed(1)} %)\n`);
  }
  process.stdout.write(
    `All done ${n} calls (plus 0 warmup) ${(n > 0 ? latencies.reduce((a, b) => a + b, 0) / n : 0).toFixed(3)} ms avg, ${(n / elapsed).toFixed(1)} qps\n`,
  );
  return (codes.get(200) ?? 0) === n ? 0 : 1;
}
