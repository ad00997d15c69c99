// The k6 load driver: runs a local `k6` binary on the generated script (through harness/exec), tails its NDJSON
// output while it runs and streams the same per-second LoadSamples as the built-in driver.

import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFailure, run, which } from '../../exec/index.js';
import { environmentError } from '../../model/index.js';
import type { LoadDriver, LoadProfile, LoadRun, LoadSample, LoadSummary } from '../../model/index.js';
import type { SloThreshold } from '../../model/index.js';
import { checkLoadProfile } from '../profile-check.js';
import { K6OutputParser } from './output.js';
import { generateK6Script, K6_ENV } from './script.js';

export interface K6DriverOptions {
  /** The k6 executable: a name looked up on PATH or an absolute path. Default "k6". */
  binary?: string;
  /** PATH to search (default: this process's). */
  pathEnv?: string;
  /** SLOs mirrored as k6 thresholds (meshdrill judges SLOs itself either way). */
  slos?: readonly SloThreshold[];
  /** How often the output file is read while k6 runs. */
  pollMs?: number;
}

export const K6_INSTALL_HINT =
  'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/: the k6 apt/rpm repository, `brew install k6`, ' +
  'or a release binary from https://github.com/grafana/k6/releases placed on PATH), or use the built-in driver ' +
  '(load.driver: builtin, the default)';

/** k6 exits 99 when thresholds are crossed: the run itself went fine, and meshdrill judges the SLOs. */
const K6_THRESHOLDS_FAILED = 99;

export function createK6Driver(options: K6DriverOptions = {}): LoadDriver {
  return {
    name: 'k6',
    async start(profile, baseUrl, onSample, signal) {
      const problems = checkLoadProfile(profile);
      if (problems.length > 0) throw environmentError(`load profile cannot run:\n  ${problems.join('\n  ')}`);
      const wanted = options.binary ?? 'k6';
      const binary = wanted.includes('/')
        ? wanted
        : await which(wanted, options.pathEnv ?? process.env.PATH ?? '');
      if (binary === undefined) {
        throw environmentError(`the k6 load driver was requested, but no \`${wanted}\` binary is on PATH`, {
          hint: K6_INSTALL_HINT,
        });
      }
      return startK6(binary, profile, baseUrl, onSample, signal, options);
    },
  };
}

/** One local k6 run: its temporary directory and how far its points file has been parsed. */
interface LocalK6Run {
  dir: string;
  script: string;
  points: string;
  parser: K6OutputParser;
  onSample: (sample: LoadSample) => void;
  /** Bytes of the points file already parsed. */
  offset: number;
}

async function startK6(
  binary: string,
  profile: LoadProfile,
  baseUrl: string,
  onSample: (sample: LoadSample) => void,
  signal: AbortSignal | undefined,
  options: K6DriverOptions,
): Promise<LoadRun> {
  const k6 = await prepareK6Run(profile, onSample, options);
  const stopper = new AbortController();
  const onAbort = (): void => stopper.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const child = run(binary, ['run', '--quiet', '--out', `json=${k6.points}`, k6.script], {
    cwd: k6.dir,
    env: { [K6_ENV.baseUrl]: baseUrl, [K6_ENV.summaryPath]: join(k6.dir, 'summary.json') },
    signal: stopper.signal,
    // Bounded even if k6 hangs: the schedule, the graceful stop, and a minute for start-up and summary.
    timeoutMs: profile.maxDurationMs + profile.requestTimeoutMs + 60_000,
    killGraceMs: 5000,
  });
  const done = followK6(k6, child, stopper.signal, options.pollMs ?? 500, () =>
    signal?.removeEventListener('abort', onAbort),
  );
  return {
    done,
    stop() {
      stopper.abort();
      return done;
    },
  };
}

/** Writes the script and an empty points file into a fresh temporary directory. */
async function prepareK6Run(
  profile: LoadProfile,
  onSample: (sample: LoadSample) => void,
  options: K6DriverOptions,
): Promise<LocalK6Run> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-k6-'));
  const script = join(dir, 'script.js');
  const points = join(dir, 'points.json');
  await writeFile(script, generateK6Script(profile, options.slos ?? []));
  await writeFile(points, '');
  const parser = new K6OutputParser({ lateMs: profile.requestTimeoutMs + 1000 });
  return { dir, script, points, parser, onSample, offset: 0 };
}

/**
 * Tails the points while k6 runs, then parses the rest and judges k6's exit; removes the directory either way.
 * A stopped run is no failure, whatever k6's exit. `release` detaches the caller's abort signal first.
 */
async function followK6(
  k6: LocalK6Run,
  child: ReturnType<typeof run>,
  stopped: AbortSignal,
  pollMs: number,
  release: () => void,
): Promise<LoadSummary> {
  let finished = false;
  const poll = (async () => {
    while (!finished) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      await readNewPoints(k6).catch(() => undefined);
    }
  })();
  const result = await child;
  finished = true;
  await poll;
  try {
    await readNewPoints(k6);
    const rest = k6.parser.finish();
    emitSamples(k6, rest.samples);
    const ok = result.exitCode === 0 || result.exitCode === K6_THRESHOLDS_FAILED || stopped.aborted;
    if (!ok) throw environmentError(`k6 failed: ${describeFailure(result)}`, { hint: K6_INSTALL_HINT });
    return rest.summary;
  } finally {
    release();
    await rm(k6.dir, { recursive: true, force: true });
  }
}

function emitSamples(k6: LocalK6Run, samples: readonly LoadSample[]): void {
  for (const sample of samples) {
    try {
      k6.onSample(sample);
    } catch {
      // A failing consumer must not stop the load mid-fault.
    }
  }
}

/** Parses what k6 appended to the points file since the last read. */
async function readNewPoints(k6: LocalK6Run): Promise<void> {
  const handle = await open(k6.points, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    while (true) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, k6.offset);
      if (bytesRead === 0) break;
      k6.offset += bytesRead;
      // A multi-byte character split across reads would be mangled; k6 output is ASCII JSON.
      emitSamples(k6, k6.parser.push(buffer.subarray(0, bytesRead).toString('utf8')));
    }
  } finally {
    await handle.close();
  }
}
