// Samples the load generator's own health while it runs, per second of the run: its event loop's delay, the
// machine's CPU use and pressure (/proc/stat, /proc/pressure/cpu), and a control path — a request every 100 ms
// to an echo on its own thread that bypasses the mesh. Runs beside the generator on the generator's thread, so
// it sees what the generator sees.

import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client } from 'undici';
import { CONTROL_INTERVAL_MS, type InstrumentSecond } from '../../model/index.js';

/** Loop delay and CPU are read this often and folded into the second they were read in. */
const TICK_MS = 250;
/** A control probe unanswered this long counts as this slow. */
const CONTROL_TIMEOUT_MS = 1000;

type Partial = Omit<InstrumentSecond, 'sendLagMaxMs' | 'lateSends'>;

interface CpuTimes {
  busy: number;
  total: number;
}

/** Aggregate CPU jiffies from /proc/stat's first line; undefined where it cannot be read. */
export function readCpuTimes(text?: string): CpuTimes | undefined {
  try {
    const line = (text ?? readFileSync('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Microseconds some task waited for a CPU since boot (PSI "some total"); undefined without PSI. */
export function readCpuPressureUs(text?: string): number | undefined {
  try {
    const match = /^some .*total=(\d+)/m.exec(text ?? readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface InstrumentSampler {
  /** The health of second `index` of the run (empty fields for a second nothing was sampled in). */
  take(index: number): Partial;
  stop(): Promise<void>;
}

/** One second's readings as they accumulate, before `take` turns them into ratios. */
type SecondReadings = Partial & { busy: number; total: number; pressureUs: number; spanMs: number };

/** The seconds sampled so far and not yet taken. */
interface SecondsBook {
  readonly startedAt: number;
  readonly seconds: Map<number, SecondReadings>;
  /** Seconds up to this one have been taken; what arrives for them later folds into the next. */
  taken: number;
}

function indexAt(book: SecondsBook, t: number): number {
  return Math.max(0, Math.floor((t - book.startedAt) / 1000));
}

/** The readings of second `at`, or of the first one not yet taken when `at` has been. */
function secondAt(book: SecondsBook, at: number): SecondReadings {
  const index = Math.max(at, book.taken + 1);
  let s = book.seconds.get(index);
  if (s === undefined) {
    s = { loopDelayMaxMs: 0, control: [], busy: 0, total: 0, pressureUs: 0, spanMs: 0 };
    book.seconds.set(index, s);
  }
  return s;
}

/** Hands out second `index` and forgets it and every second before it. */
function takeSecond(book: SecondsBook, index: number): Partial {
  const s = book.seconds.get(index);
  book.taken = Math.max(book.taken, index);
  for (const key of book.seconds.keys()) if (key <= index) book.seconds.delete(key);
  if (s === undefined) return { loopDelayMaxMs: 0, control: [] };
  const out: Partial = { loopDelayMaxMs: Math.round(s.loopDelayMaxMs), control: s.control };
  if (s.total > 0) out.cpuBusy = Math.round((s.busy / s.total) * 1000) / 1000;
  if (s.spanMs > 0) out.cpuPressure = Math.round(Math.min(1, s.pressureUs / 1000 / s.spanMs) * 1000) / 1000;
  return out;
}

/** Every TICK_MS, folds the loop delay, CPU use and CPU pressure since the last tick into the current second. */
function startTicker(book: SecondsBook, now: () => number): () => void {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let cpu = readCpuTimes();
  let pressure = readCpuPressureUs();
  let lastTick = now();
  const tick = (): void => {
    const t = now();
    const s = secondAt(book, indexAt(book, t));
    // The histogram counts in nanoseconds and includes its 10 ms sampling period.
    if (loop.count > 0) s.loopDelayMaxMs = Math.max(s.loopDelayMaxMs, Math.max(0, loop.max / 1e6 - 10));
    loop.reset();
    const nextCpu = readCpuTimes();
    if (cpu && nextCpu) {
      s.busy += nextCpu.busy - cpu.busy;
      s.total += nextCpu.total - cpu.total;
    }
    cpu = nextCpu;
    const nextPressure = readCpuPressureUs();
    if (pressure !== undefined && nextPressure !== undefined) {
      s.pressureUs += nextPressure - pressure;
      s.spanMs += t - lastTick;
    }
    pressure = nextPressure;
    lastTick = t;
  };
  const ticker = setInterval(tick, TICK_MS);
  return () => {
    clearInterval(ticker);
    loop.disable();
  };
}

/** Every CONTROL_INTERVAL_MS, times a request to the echo into the second it was sent in. */
function startProber(book: SecondsBook, controlUrl: string, now: () => number): () => Promise<void> {
  const client = new Client(controlUrl, { pipelining: 1, keepAliveTimeout: 30_000 });
  let probing = false;
  const probe = (): void => {
    // One probe at a time: a control path that is slower than its interval records its own slowness once.
    if (probing) return;
    probing = true;
    const sentAt = now();
    const index = indexAt(book, sentAt);
    const timeout = AbortSignal.timeout(CONTROL_TIMEOUT_MS);
    client
      .request({ path: '/', method: 'GET', signal: timeout })
      .then(async (response) => {
        await response.body.dump();
        return now() - sentAt;
      })
      .catch(() => CONTROL_TIMEOUT_MS)
      .then((ms) => {
        secondAt(book, index).control.push(Math.round(ms * 100) / 100);
        probing = false;
      });
  };
  const prober = setInterval(probe, CONTROL_INTERVAL_MS);
  return async () => {
    clearInterval(prober);
    await client.destroy().catch(() => undefined);
  };
}

/** Starts sampling; `controlUrl` is the echo's origin. Seconds count from `startedAt` (epoch ms). */
export function startInstrumentSampler(
  startedAt: number,
  controlUrl: string,
  now: () => number,
): InstrumentSampler {
  const book: SecondsBook = { startedAt, seconds: new Map(), taken: -1 };
  const stopTicker = startTicker(book, now);
  const stopProber = startProber(book, controlUrl, now);
  return {
    take: (index) => takeSecond(book, index),
    async stop() {
      stopTicker();
      await stopProber();
    },
  };
}
