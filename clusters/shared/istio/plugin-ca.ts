// The plug-in CA for Istio (`cacerts` Secret in istio-system): generated with openssl through harness/exec, or
// read from files the user already has. Lets cert-expiry drills control the intermediate's lifetime.

import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MeshdrillError } from '../../../harness/model/index.js';
import type { KubeObject } from '../../../harness/model/index.js';
import type { ToolRunner } from '../tool-runner.js';
import { ISTIO_NAMESPACE } from './config.js';

export const CACERTS_FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const;
export type CacertsFiles = Record<(typeof CACERTS_FILES)[number], string>;

export type PluginCaConfig = { mode: 'generate'; intermediateDays: number } | { mode: 'files'; dir: string };

/** The `cacerts` Secret istiod reads at start (pure). */
export function buildCacertsSecret(files: CacertsFiles): KubeObject {
  const data: Record<string, string> = {};
  for (const name of CACERTS_FILES) data[name] = Buffer.from(files[name]).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'cacerts',
      namespace: ISTIO_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'meshdrill' },
    },
    type: 'Opaque',
    data,
  };
}

/** The openssl invocations that make a root and an intermediate CA in `dir` (pure; run in order). */
export function buildOpensslSteps(dir: string, intermediateDays: number): string[][] {
  const at = (name: string): string => join(dir, name);
  return [
    [
      'req',
      '-x509',
      '-new',
      '-nodes',
      '-newkey',
      'rsa:4096',
      '-sha256',
      '-days',
      '3650',
      '-subj',
      '/O=meshdrill/CN=meshdrill root CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      at('root-key.pem'),
      '-out',
      at('root-cert.pem'),
    ],
    [
      'req',
      '-new',
      '-nodes',
      '-newkey',
      'rsa:4096',
      '-sha256',
      '-subj',
      '/O=meshdrill/CN=meshdrill intermediate CA',
      '-keyout',
      at('ca-key.pem'),
      '-out',
      at('ca-csr.pem'),
    ],
    [
      'x509',
      '-req',
      '-in',
      at('ca-csr.pem'),
      '-CA',
      at('root-cert.pem'),
      '-CAkey',
      at('root-key.pem'),
      '-CAcreateserial',
      '-days',
      String(intermediateDays),
      '-sha256',
      '-extfile',
      at('ca-ext.cnf'),
      '-out',
      at('ca-cert.pem'),
    ],
  ];
}

/** The X.509 extensions of the intermediate: a CA that may sign workload leaves only. */
export const INTERMEDIATE_EXTENSIONS = [
  'basicConstraints=critical,CA:TRUE,pathlen:0',
  'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign,cRLSign',
  `subjectAltName=DNS:istiod.${ISTIO_NAMESPACE}.svc`,
  '',
].join('\n');

async function readCacerts(dir: string): Promise<CacertsFiles> {
  const files: Partial<CacertsFiles> = {};
  const missing: string[] = [];
  for (const name of CACERTS_FILES) {
    try {
      files[name] = await readFile(join(dir, name), 'utf8');
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new MeshdrillError('invalid-input', `plug-in CA directory ${dir} lacks ${missing.join(', ')}`, {
      hint: `put ${CACERTS_FILES.join(', ')} in ${dir} (see Istio's "Plug in CA certificates"), or use plugin-ca=generate`,
    });
  }
  return files as CacertsFiles;
}

/** Makes (or reads) the CA files; the keys stay in the work dir with mode 0600. */
export async function prepareCacerts(
  runner: ToolRunner,
  config: PluginCaConfig,
  workDir: string,
): Promise<CacertsFiles> {
  if (config.mode === 'files') return readCacerts(config.dir);
  const dir = join(workDir, 'cacerts');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'ca-ext.cnf'), INTERMEDIATE_EXTENSIONS);
  for (const args of buildOpensslSteps(dir, config.intermediateDays)) {
    await runner.runChecked('openssl', args, { timeoutMs: 120_000 });
  }
  const [ca, root] = await Promise.all([
    readFile(join(dir, 'ca-cert.pem'), 'utf8'),
    readFile(join(dir, 'root-cert.pem'), 'utf8'),
  ]);
  await writeFile(join(dir, 'cert-chain.pem'), `${ca.trimEnd()}\n${root.trimEnd()}\n`);
  for (const key of ['ca-key.pem', 'root-key.pem']) await chmod(join(dir, key), 0o600).catch(() => undefined);
  return readCacerts(dir);
}
