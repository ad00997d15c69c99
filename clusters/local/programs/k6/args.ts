// k6's command line as the stand-in takes it: `run`, `archive`, `inspect` and `version`, with k6's flag names
// (`--flag value`, `--flag=value`, `-f value`). Flags k6 has but the stand-in does not implement are refused by
// name, never ignored. Pure.

export type FlagKind = 'bool' | 'value' | 'list';

interface FlagSpec {
  kind: FlagKind;
  short?: string;
}

const COMMON: Record<string, FlagSpec> = {
  quiet: { kind: 'bool', short: 'q' },
  verbose: { kind: 'bool', short: 'v' },
  env: { kind: 'list', short: 'e' },
  'include-system-env-vars': { kind: 'bool' },
  'no-color': { kind: 'bool' },
  'log-output': { kind: 'value' },
  'log-format': { kind: 'value' },
  'no-usage-report': { kind: 'bool' },
  'compatibility-mode': { kind: 'value' },
};

export const COMMAND_FLAGS: Record<'run' | 'archive' | 'inspect', Record<string, FlagSpec>> = {
  run: {
    ...COMMON,
    out: { kind: 'list', short: 'o' },
    'execution-segment': { kind: 'value' },
    'execution-segment-sequence': { kind: 'value' },
    address: { kind: 'value', short: 'a' },
    paused: { kind: 'bool', short: 'p' },
    tag: { kind: 'list' },
    linger: { kind: 'bool', short: 'l' },
    'no-setup': { kind: 'bool' },
    'no-teardown': { kind: 'bool' },
    'no-thresholds': { kind: 'bool' },
    'no-summary': { kind: 'bool' },
    'summary-export': { kind: 'value' },
  },
  archive: {
    ...COMMON,
    'archive-out': { kind: 'value', short: 'O' },
    tag: { kind: 'list' },
    'execution-segment': { kind: 'value' },
    'execution-segment-sequence': { kind: 'value' },
  },
  inspect: { ...COMMON, 'execution-requirements': { kind: 'bool' }, type: { kind: 'value', short: 't' } },
};

/** Real k6 flags whose behaviour the stand-in does not have: refused with a clear message. */
const NOT_IMPLEMENTED = new Set([
  'vus',
  'u',
  'duration',
  'd',
  'iterations',
  'i',
  'stage',
  's',
  'max',
  'm',
  'http-debug',
  'throw',
  'w',
  'batch',
  'rps',
  'user-agent',
  'insecure-skip-tls-verify',
  'local-ips',
  'dns',
  'block-hostnames',
  'blacklist-ip',
  'system-tags',
  'summary-trend-stats',
  'config',
  'c',
  'discard-response-bodies',
  'no-connection-reuse',
  'no-vu-connection-reuse',
  'min-iteration-duration',
  'exit-on-running',
  'upload-only',
  'traces-output',
  'secret-source',
]);

export interface ParsedCommand {
  command: 'run' | 'archive' | 'inspect' | 'version' | 'help';
  bools: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  positional: string[];
}

export function parseK6Args(argv: readonly string[]): ParsedCommand | { error: string } {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help', bools: new Set(), values: new Map(), lists: new Map(), positional: [] };
  }
  if (command === 'version') {
    return { command, bools: new Set(), values: new Map(), lists: new Map(), positional: [] };
  }
  if (command !== 'run' && command !== 'archive' && command !== 'inspect') {
    return {
      error: `unknown command "${command}" for "k6" (the local stand-in implements run, archive, inspect and version)`,
    };
  }
  const specs = COMMAND_FLAGS[command];
  const byShort = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short ? [[s.short, name]] : [])));
  const parsed: ParsedCommand = {
    command,
    bools: new Set(),
    values: new Map(),
    lists: new Map(),
    positional: [],
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--') {
      parsed.positional.push(...rest.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      parsed.positional.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const key = eq < 0 ? body : body.slice(0, eq);
    const name = long ? key : byShort.get(key);
    if (NOT_IMPLEMENTED.has(key)) {
      return {
        error: `${arg}: a k6 flag the local stand-in does not implement (it runs meshdrill's generated scripts only)`,
      };
    }
    const spec = name === undefined ? undefined : specs[name];
    if (name === undefined || spec === undefined) return { error: `unknown flag: ${arg}` };
    if (spec.kind === 'bool') {
      const value = eq < 0 ? 'true' : body.slice(eq + 1);
      if (value !== 'true' && value !== 'false') return { error: `invalid argument "${value}" for "${arg}"` };
      if (value === 'true') parsed.bools.add(name);
      else parsed.bools.delete(name);
      continue;
    }
    let value: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
    if (value === undefined) {
      value = rest[i + 1];
      i++;
      if (value === undefined) return { error: `flag needs an argument: ${arg}` };
    }
    if (spec.kind === 'value') parsed.values.set(name, value);
    else parsed.lists.set(name, [...(parsed.lists.get(name) ?? []), value]);
  }
  return parsed;
}

/** `--tag k=v` / `-e K=V` pairs. */
export function keyValues(list: readonly string[], flag: string): Record<string, string> | { error: string } {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { error: `${flag} "${item}": expected key=value` };
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
