// A private kubeconfig for one named context, so runbook steps and tools run against exactly that cluster and
// `kubectl config use-context` in a runbook can never move the user's own current context.
// Merges KUBECONFIG's files the way kubectl does (the first file that defines a name wins).

import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { MeshdrillError } from '../../harness/model/index.js';

export interface KubeconfigFile {
  path: string;
  /** The parsed document (unknown shape: validated here). */
  document: unknown;
}

type Named = { name: string; [key: string]: unknown };

function namedEntries(document: unknown, key: string): Named[] {
  if (typeof document !== 'object' || document === null) return [];
  const list = (document as Record<string, unknown>)[key];
  return Array.isArray(list)
    ? list.filter(
        (e): e is Named => typeof e === 'object' && e !== null && typeof (e as Named).name === 'string',
      )
    : [];
}

function findFirst(
  files: readonly KubeconfigFile[],
  key: string,
  name: string,
): { entry: Named; file: string } | undefined {
  for (const file of files) {
    const entry = namedEntries(file.document, key).find((e) => e.name === name);
    if (entry) return { entry, file: file.path };
  }
  return undefined;
}

/** Relative certificate and token paths are relative to the file that defined them; the copy lives elsewhere. */
function absolutize(entry: Named, inner: 'cluster' | 'user', file: string): Named {
  const body = entry[inner];
  if (typeof body !== 'object' || body === null) return entry;
  const copy: Record<string, unknown> = structuredClone(body as Record<string, unknown>);
  const base = dirname(file);
  for (const field of ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile']) {
    const value = copy[field];
    if (typeof value === 'string' && value !== '' && !isAbsolute(value)) copy[field] = resolve(base, value);
  }
  const exec = copy.exec as { command?: unknown } | undefined;
  if (exec && typeof exec.command === 'string' && exec.command.includes('/') && !isAbsolute(exec.command)) {
    copy.exec = { ...exec, command: resolve(base, exec.command) };
  }
  return { ...entry, [inner]: copy };
}

/** Every context name the files define (for messages). */
export function listContexts(files: readonly KubeconfigFile[]): string[] {
  return [...new Set(files.flatMap((f) => namedEntries(f.document, 'contexts').map((e) => e.name)))];
}

/** The one-context kubeconfig whose current-context is `context` (pure). */
export function buildPinnedKubeconfig(
  files: readonly KubeconfigFile[],
  context: string,
  option = '--target-opt context',
): Record<string, unknown> {
  const found = findFirst(files, 'contexts', context);
  const where = files.map((f) => f.path).join(delimiter);
  if (!found) {
    const known = listContexts(files);
    throw new MeshdrillError('invalid-input', `${option}: no context "${context}" in ${where}`, {
      hint: known.length > 0 ? `contexts there: ${known.join(', ')}` : 'the kubeconfig defines no contexts',
    });
  }
  const ctx = found.entry.context as { cluster?: unknown; user?: unknown } | undefined;
  const clusterName = typeof ctx?.cluster === 'string' ? ctx.cluster : '';
  const userName = typeof ctx?.user === 'string' ? ctx.user : '';
  const cluster = findFirst(files, 'clusters', clusterName);
  const user = userName ? findFirst(files, 'users', userName) : undefined;
  const problems = [
    cluster ? '' : `its cluster "${clusterName}" is not defined`,
    userName && !user ? `its user "${userName}" is not defined` : '',
  ].filter(Boolean);
  if (!cluster || problems.length > 0) {
    throw new MeshdrillError(
      'invalid-input',
      `context "${context}" in ${where} is incomplete: ${problems.join('; ')}`,
      {
        hint: `check \`kubectl config view --context ${context}\``,
      },
    );
  }
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [absolutize(cluster.entry, 'cluster', cluster.file)],
    users: user ? [absolutize(user.entry, 'user', user.file)] : [],
    contexts: [found.entry],
    'current-context': context,
    preferences: {},
  };
}

/** The user's kubeconfig files: --target-opt kubeconfig, else KUBECONFIG (a list), else ~/.kube/config. */
export function kubeconfigPathsOf(
  explicit: string | undefined,
  env: Record<string, string | undefined>,
  home: string,
): string[] {
  if (explicit) return [resolve(explicit)];
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  return list.length > 0 ? list : [join(home, '.kube', 'config')];
}

/** The user's kubeconfig files, parsed (read only: never written); missing files are skipped, as kubectl does. */
export async function readKubeconfigFiles(paths: readonly string[]): Promise<KubeconfigFile[]> {
  const files: KubeconfigFile[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue; // kubectl too skips missing files in KUBECONFIG
    }
    try {
      files.push({ path, document: parse(text) as unknown });
    } catch (error) {
      throw new MeshdrillError('invalid-input', `${path} is not valid YAML`, { cause: error });
    }
  }
  if (files.length === 0) {
    throw new MeshdrillError('invalid-input', `no kubeconfig found at ${paths.join(delimiter)}`, {
      hint: 'set KUBECONFIG or --target-opt kubeconfig=PATH',
    });
  }
  return files;
}

/** Writes the pinned one-context copy of the user's files with mode 0600. */
export async function writePinnedKubeconfig(
  paths: readonly string[],
  context: string,
  outPath: string,
  option = '--target-opt context',
): Promise<void> {
  const pinned = buildPinnedKubeconfig(await readKubeconfigFiles(paths), context, option);
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(outPath, stringify(pinned), { mode: 0o600 });
  await chmod(outPath, 0o600);
}
