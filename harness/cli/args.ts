// Argument parsing on node:util parseArgs: strict, so a misspelt option is a usage error (exit 2), not ignored.

import { parseArgs } from 'node:util';
import { MAX_PARALLEL } from '../engine/limits.js';
import { MAX_SHARDS, type ShardSpec } from '../engine/shard.js';
import { invalidInput } from '../model/errors.js';

export const OPTIONS = {
  target: { type: 'string' },
  out: { type: 'string' },
  repeat: { type: 'string' },
  parallel: { type: 'string' },
  shard: { type: 'string' },
  merge: { type: 'string' },
  runbook: { type: 'string' },
  istio: { type: 'string', multiple: true },
  'target-opt': { type: 'string', multiple: true },
  'load-driver': { type: 'string' },
  'keep-target': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'run-id': { type: 'string' },
  all: { type: 'boolean' },
  'ttd-tolerance': { type: 'string' },
  'ttr-tolerance': { type: 'string' },
  html: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export interface CliArgs {
  command: string | undefined;
  positionals: string[];
  target: string;
  out?: string;
  repeat: number;
  /**
   * How many drills may run at once; `auto`: chosen from the machine's cores and each drill's measured CPU cost
   * (harness/engine/parallelism.ts) once the scenarios are loaded.
   */
  parallel: number | 'auto';
  /** `--shard i/n`: run shard i of n of the suite (harness/engine/shard.ts). */
  shard?: ShardSpec;
  /** `report --merge OUT_DIR`: merge the shards' run directories (the positionals) into OUT_DIR. */
  merge?: string;
  runbook?: string;
  istio: string[];
  targetOpts: Record<string, string>;
  loadDriver?: 'builtin' | 'k6';
  keepTarget: boolean;
  /** Print the plan (commands, manifests, blast radius) and change nothing. */
  dryRun: boolean;
  json: boolean;
  kubeconfig?: string;
  context?: string;
  runId?: string;
  all: boolean;
  ttdTolerance?: string;
  ttrTolerance?: string;
  html?: string;
  help: boolean;
  version: boolean;
}

const TARGETS = ['local', 'kind', 'existing'];

export function parseCliArgs(argv: string[]): CliArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw invalidInput((error as Error).message, 'run meshdrill --help for the options');
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  const target = values.target ?? 'local';
  if (!TARGETS.includes(target)) {
    throw invalidInput(`--target: expected one of ${TARGETS.join(', ')}, got "${target}"`);
  }
  const repeat = parseRepeat(values.repeat);
  const parallel = parseParallel(values.parallel);
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  const targetOpts = parseTargetOpts(values['target-opt'] ?? []);
  const driver = values['load-driver'];
  if (driver !== undefined && driver !== 'builtin' && driver !== 'k6') {
    throw invalidInput(`--load-driver: expected builtin or k6, got "${driver}"`);
  }
  return {
    command,
    positionals: rest,
    target,
    repeat,
    parallel,
    istio: values.istio ?? [],
    targetOpts,
    keepTarget: values['keep-target'] ?? false,
    dryRun: values['dry-run'] ?? false,
    json: values.json ?? false,
    all: values.all ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
    ...(values.out === undefined ? {} : { out: values.out }),
    ...(shard === undefined ? {} : { shard }),
    ...(values.merge === undefined ? {} : { merge: values.merge }),
    ...(values.runbook === undefined ? {} : { runbook: values.runbook }),
    ...(driver === undefined ? {} : { loadDriver: driver }),
    ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
    ...(values.context === undefined ? {} : { context: values.context }),
    ...(values['run-id'] === undefined ? {} : { runId: values['run-id'] }),
    ...(values['ttd-tolerance'] === undefined ? {} : { ttdTolerance: values['ttd-tolerance'] }),
    ...(values['ttr-tolerance'] === undefined ? {} : { ttrTolerance: values['ttr-tolerance'] }),
    ...(values.html === undefined ? {} : { html: values.html }),
  };
}

function parseRepeat(text: string | undefined): number {
  const repeat = text === undefined ? 1 : Number(text);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) {
    throw invalidInput(`--repeat: expected a whole number from 1 to 100, got "${text}"`);
  }
  return repeat;
}

function parseParallel(text: string | undefined): CliArgs['parallel'] {
  const parallel = text === 'auto' ? 'auto' : Number(text ?? 1);
  if (parallel !== 'auto' && (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL)) {
    throw invalidInput(
      `--parallel: expected auto or a whole number from 1 to ${MAX_PARALLEL}, got "${text}"`,
      'auto chooses from the cores and what each drill costs; N forces N',
    );
  }
  return parallel;
}

/** `--target-opt KEY=VALUE`, repeated; a later KEY wins. */
function parseTargetOpts(pairs: readonly string[]): Record<string, string> {
  const targetOpts: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw invalidInput(`--target-opt: expected KEY=VALUE, got "${pair}"`);
    targetOpts[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return targetOpts;
}

/** `i/n` with 1 ≤ i ≤ n ≤ MAX_SHARDS, both whole numbers written plainly (no signs, no spaces, no leading zeros). */
function parseShard(text: string): ShardSpec {
  const match = /^([1-9]\d*)\/([1-9]\d*)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count > MAX_SHARDS || index > count) {
    throw invalidInput(
      `--shard: expected i/n with whole numbers 1 ≤ i ≤ n ≤ ${MAX_SHARDS}, got "${text}"`,
      'run the same command once per shard, --shard 1/n to --shard n/n, then meshdrill report --merge',
    );
  }
  return { index, count };
}
