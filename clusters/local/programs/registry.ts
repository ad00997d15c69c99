// The image registry of the local target: image references map to programs (bundled TypeScript or host
// binaries). The Istio emulation registers `istio/proxyv2` and `istio/pilot` here through registerImage.

import { type ImageReference, parseImageReference } from './image-reference.js';

/** How one executable of an image runs on the host. */
export type Executable =
  | { kind: 'bundle' /** Absolute path of the TypeScript (or built JavaScript) entry file. */; entry: string }
  | { kind: 'host' /** Absolute path of a host binary. */; path: string };

export interface ImageProgram {
  /** The image's ENTRYPOINT and CMD, as `docker inspect` shows them. */
  entrypoint: string[];
  cmd: string[];
  /** Executables the image ships, by base name (argv[0] without its directory). */
  executables: Record<string, Executable>;
  /** Whether other commands run as the host binary of the same name (images with a shell and coreutils). */
  hostFallback: boolean;
  /** Digest-like id shown as imageID (stable per image). */
  description?: string;
}

export type ImageMatcher = string | RegExp | ((reference: ImageReference) => boolean);

export interface ResolvedImage {
  reference: ImageReference;
  program: ImageProgram;
}

export interface ImageRegistry {
  /** Later registrations win, so an emulation can replace a default. A string matches the short name. */
  registerImage(matcher: ImageMatcher, program: ImageProgram): void;
  resolve(image: string): ResolvedImage | undefined;
  /** Every bundled entry registered (to pre-build at boot). */
  bundleEntries(): string[];
}

function matches(matcher: ImageMatcher, ref: ImageReference): boolean {
  if (typeof matcher === 'string') {
    const want = parseImageReference(matcher);
    return want.registry === ref.registry && want.repository === ref.repository;
  }
  if (matcher instanceof RegExp) return matcher.test(ref.shortName) || matcher.test(ref.normalized);
  return matcher(ref);
}

export function createImageRegistry(): ImageRegistry {
  const entries: { matcher: ImageMatcher; program: ImageProgram }[] = [];
  return {
    registerImage(matcher, program): void {
      entries.unshift({ matcher, program });
    },
    resolve(image): ResolvedImage | undefined {
      const reference = parseImageReference(image);
      const found = entries.find((e) => matches(e.matcher, reference));
      return found ? { reference, program: found.program } : undefined;
    },
    bundleEntries(): string[] {
      const all = entries.flatMap((e) => Object.values(e.program.executables));
      return [...new Set(all.flatMap((x) => (x.kind === 'bundle' ? [x.entry] : [])))];
    },
  };
}

export type CommandResolution =
  | { ok: true; executable: Executable; argv0: string; args: string[] }
  | { ok: false; reason: 'NoCommand' | 'NotFound'; message: string };

/** Finds what runs for a container's command/args (Kubernetes' rules for command vs ENTRYPOINT/CMD). */
export function resolveContainerCommand(
  program: ImageProgram,
  command: string[] | undefined,
  args: string[] | undefined,
  hostLookup: (name: string) => string | undefined,
): CommandResolution {
  let argv: string[];
  if (command && command.length > 0) argv = [...command, ...(args ?? [])];
  else if (args && args.length > 0) argv = [...program.entrypoint, ...args];
  else argv = [...program.entrypoint, ...program.cmd];
  const [argv0, ...rest] = argv;
  if (argv0 === undefined) {
    return { ok: false, reason: 'NoCommand', message: 'no command specified' };
  }
  return resolveExecutable(program, argv0, rest, hostLookup);
}

/** Resolves argv[0] inside the image (exec, probes, containers). */
export function resolveExecutable(
  program: ImageProgram,
  argv0: string,
  args: string[],
  hostLookup: (name: string) => string | undefined,
): CommandResolution {
  const base = argv0.slice(argv0.lastIndexOf('/') + 1);
  const own = program.executables[base];
  if (own) return { ok: true, executable: own, argv0, args };
  if (program.hostFallback) {
    const host = hostLookup(base);
    if (host) return { ok: true, executable: { kind: 'host', path: host }, argv0, args };
  }
  return {
    ok: false,
    reason: 'NotFound',
    message: `exec: "${argv0}": executable file not found in $PATH`,
  };
}
