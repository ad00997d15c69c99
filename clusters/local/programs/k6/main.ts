// The `grafana/k6` image's program on the local target. THIS IS NOT k6. It is a small stand-in that runs the k6
// scripts meshdrill generates (harness/load/k6/script.ts) and nothing else: it reads their `options`, REQUESTS,
// MAX_REQUESTS and REQUEST_TIMEOUT_MS literals out of the script text — it has no JavaScript runtime — and refuses,
// with the reasons and a non-zero exit, any script that is not of that shape. It implements `k6 run` (the
// arrival-rate executors, execution segments, `--paused` and the REST API on `--address`, `--out json=FILE`),
// `k6 inspect --execution-requirements` and `k6 archive`, which is what the k6-operator's Jobs call.
// Thresholds are not evaluated (exit 0, never 99); meshdrill judges its SLOs from the points itself.

import { keyValues, type ParsedCommand, parseK6Args } from './args.js';
import { K6_VERSION, loadScript, MissingFile, writeArchive } from './files.js';
import { runTest } from './run.js';
import {
  formatGoDuration,
  type MeshdrillScript,
  readMeshdrillScript,
  ScriptRefused,
  totalDurationMs,
} from './script-reader.js';
import { executionTuple, parseSegment, parseSequence } from './segments.js';
import { parseAddress } from './rest-api.js';

/** k6's exit codes (errext/exitcodes): a script it cannot run, invalid config, and any other error. */
const EXIT = { scriptException: 107, invalidConfig: 104, generic: 255 } as const;

function log(level: 'info' | 'warning' | 'error', message: string): void {
  // k6's logfmt on stderr.
  process.stderr.write(`time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(message)}\n`);
}

const USAGE = `k6 (meshdrill's local stand-in, not k6) ${K6_VERSION}
Usage:
  k6 run [flags] <script.js|archive.tar>
  k6 inspect --execution-requirements <script.js|archive.tar>
  k6 archive [-O archive.tar] <script.js>
  k6 version
`;

type Loaded = { loaded: ReturnType<typeof loadScript>; script: MeshdrillScript };

async function main(argv: string[]): Promise<number> {
  const parsed = parseK6Args(argv);
  if ('error' in parsed) {
    log('error', parsed.error);
    return EXIT.generic;
  }
  if (parsed.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.command === 'version') {
    process.stdout.write(`k6 ${K6_VERSION} (meshdrill local stand-in, not k6)\n`);
    return 0;
  }
  if (parsed.positional.length !== 1) {
    log('error', `accepts 1 arg(s), received ${parsed.positional.length}`);
    return EXIT.generic;
  }
  const read = readScript(parsed.positional[0] as string);
  if (typeof read === 'number') return read;
  if (parsed.command === 'inspect') return inspect(parsed, read.script);
  if (parsed.command === 'archive') return archive(parsed, read);
  return run(parsed, read.script);
}

/** The script (or archive) at `path`, read and checked; k6's exit code where it cannot be run. */
function readScript(path: string): Loaded | number {
  try {
    const loaded = loadScript(path);
    return { loaded, script: readMeshdrillScript(loaded.source, path) };
  } catch (error) {
    log('error', (error as Error).message);
    return error instanceof ScriptRefused ? EXIT.scriptException : EXIT.generic;
  }
}

function inspect(parsed: ParsedCommand, script: MeshdrillScript): number {
  if (!parsed.bools.has('execution-requirements')) {
    process.stdout.write(`${JSON.stringify(script.options, null, 2)}\n`);
    return 0;
  }
  const report = {
    ...script.options,
    totalDuration: formatGoDuration(totalDurationMs(script.scenario)),
    maxVUs: script.scenario.maxVUs,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

function archive(parsed: ParsedCommand, { loaded, script }: Loaded): number {
  const file = writeArchive(parsed.values.get('archive-out') ?? 'archive.tar', loaded, script.options);
  if (!parsed.bools.has('quiet')) log('info', `archive written to ${file}`);
  return 0;
}

async function run(parsed: ParsedCommand, script: MeshdrillScript): Promise<number> {
  const flags = readRunFlags(parsed);
  if (typeof flags === 'number') return flags;
  if (!parsed.bools.has('quiet')) {
    process.stderr.write(`k6 ${K6_VERSION} — meshdrill's local stand-in for k6, not k6\n`);
  }
  try {
    return await runTest({
      script,
      tuple: flags.tuple,
      paused: parsed.bools.has('paused'),
      address: flags.address,
      jsonOut: flags.jsonOut,
      env: { ...process.env, ...flags.extraEnv },
      runTags: flags.tags,
      log,
    });
  } catch (error) {
    log('error', (error as Error).stack ?? String(error));
    return EXIT.generic;
  }
}

interface RunFlags {
  jsonOut: string | undefined;
  tags: Record<string, string>;
  extraEnv: Record<string, string>;
  tuple: ReturnType<typeof executionTuple>;
  address: ReturnType<typeof parseAddress>;
}

/** `k6 run`'s flags; k6's exit code (invalid config) when one is wrong. */
function readRunFlags(parsed: ParsedCommand): RunFlags | number {
  const jsonOut = readJsonOut(parsed.lists.get('out') ?? []);
  if (typeof jsonOut === 'object') {
    log('error', jsonOut.error);
    return EXIT.invalidConfig;
  }
  const tags = keyValues(parsed.lists.get('tag') ?? [], '--tag');
  const extraEnv = keyValues(parsed.lists.get('env') ?? [], '--env');
  if ('error' in tags || 'error' in extraEnv) {
    log('error', ('error' in tags ? tags : (extraEnv as { error: string })).error);
    return EXIT.invalidConfig;
  }
  try {
    const segment = parsed.values.get('execution-segment');
    const sequence = parsed.values.get('execution-segment-sequence');
    const tuple = executionTuple(
      segment === undefined ? undefined : parseSegment(segment),
      sequence === undefined ? [] : parseSequence(sequence),
    );
    // k6 serves its REST API on localhost:6565 unless told otherwise; pods share the host here, so the pod's IP.
    const address = parseAddress(parsed.values.get('address') ?? '0.0.0.0:6565');
    return { jsonOut, tags, extraEnv, tuple, address };
  } catch (error) {
    log('error', (error as Error).message);
    return EXIT.invalidConfig;
  }
}

/** The file of the last `--out json=FILE` (k6's default name without one); an error for any other output. */
function readJsonOut(outs: readonly string[]): string | undefined | { error: string } {
  let jsonOut: string | undefined;
  for (const out of outs) {
    const [type, target] = out.split(/=(.*)/s);
    if (type !== 'json') return { error: `--out ${out}: the local stand-in writes only k6's json output` };
    jsonOut = target && target !== '' ? target : 'k6-output.json';
  }
  return jsonOut;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log('error', error instanceof MissingFile ? error.message : String(error));
    process.exit(EXIT.generic);
  },
);
