// Pure: istioctl's command line (cobra/pflag conventions: `--flag value`, `--flag=value`, `-n value`, boolean
// flags with optional `=false`), reduced to positionals and a flag map with the long names.

export interface ParsedArgs {
  positionals: string[];
  /** The last value of each flag. */
  flags: Map<string, string>;
  /** Every value of a repeatable flag (`--set a=b --set c=d`), in order. */
  repeated?: Map<string, string[]>;
}

/** Flags that take a value, by every spelling → long name. */
const VALUE_FLAGS: Record<string, string> = {
  '-n': 'namespace',
  '--namespace': 'namespace',
  '-i': 'istioNamespace',
  '--istioNamespace': 'istioNamespace',
  '--istio-namespace': 'istioNamespace',
  '-o': 'output',
  '--output': 'output',
  '--name': 'name',
  '--port': 'port',
  '--fqdn': 'fqdn',
  '--subset': 'subset',
  '--direction': 'direction',
  '--cluster': 'cluster',
  '--address': 'address',
  '--status': 'status',
  '-c': 'kubeconfig',
  '--kubeconfig': 'kubeconfig',
  '--context': 'context',
  '--failure-threshold': 'failure-threshold',
  '--output-threshold': 'output-threshold',
  '-r': 'revision',
  '--revision': 'revision',
  '--file': 'file',
  '-f': 'file',
  '--level': 'level',
  '--set': 'set',
  '--readiness-timeout': 'readiness-timeout',
};

const BOOL_FLAGS: Record<string, string> = {
  '-A': 'all-namespaces',
  '--all-namespaces': 'all-namespaces',
  '-h': 'help',
  '--help': 'help',
  '--remote': 'remote',
  '--short': 'short',
  '-s': 'short',
  '--verbose': 'verbose',
  '--color': 'color',
  '--use-kube': 'use-kube',
  '-y': 'skip-confirmation',
  '--skip-confirmation': 'skip-confirmation',
  '--overwrite': 'overwrite',
  '--purge': 'purge',
};

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const spelled = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const valueName = VALUE_FLAGS[spelled];
    if (valueName) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`flag needs an argument: ${spelled}`);
      flags.set(valueName, value);
      repeated.set(valueName, [...(repeated.get(valueName) ?? []), value]);
      continue;
    }
    const boolName = BOOL_FLAGS[spelled];
    if (boolName) {
      flags.set(boolName, inline ?? 'true');
      continue;
    }
    throw new UsageError(`unknown flag: ${spelled}`);
  }
  return { positionals, flags, repeated };
}

export function flagTrue(args: ParsedArgs, name: string, fallback = false): boolean {
  const v = args.flags.get(name);
  return v === undefined ? fallback : v !== 'false';
}

export function flagNumber(args: ParsedArgs, name: string): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`invalid argument "${v}" for "--${name}" flag: expected a port number`);
  return n;
}
