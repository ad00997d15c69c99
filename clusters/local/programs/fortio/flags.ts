// Go-style flag parsing for the fortio emulation: `-flag value`, `-flag=value`, `--flag`, repeatable flags.

export interface FlagSpec {
  kind: 'string' | 'bool' | 'list';
  default?: string;
}

export interface ParsedFlags {
  values: Map<string, string>;
  lists: Map<string, string[]>;
  positional: string[];
}

export function parseFlags(specs: Record<string, FlagSpec>, argv: string[]): ParsedFlags | { error: string } {
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(specs))
    if (spec.default !== undefined) values.set(name, spec.default);
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = specs[name];
    if (!spec) return { error: `flag provided but not defined: -${name}` };
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) return { error: `flag needs an argument: -${name}` };
      value = next;
      i++;
    }
    if (spec.kind === 'list') lists.set(name, [...(lists.get(name) ?? []), value]);
    else values.set(name, value);
    i++;
  }
  return { values, lists, positional: argv.slice(i) };
}
