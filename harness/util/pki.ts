// The one generator of plug-in CA material (a root and an intermediate with chosen lifetimes, in Istio's
// `cacerts` layout), for scenarios (generated manifests), the local mesh and tests. ECDSA P-256 through
// WebCrypto and @peculiar/x509, the shape `make -f tools/certs/Makefile.selfsigned.mk` produces.

import './reflect-shim.js';
import { X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

let x509Module: Promise<typeof X509> | undefined;

/**
 * @peculiar/x509, imported on first use: it is large, and most commands (validate, report) never make a
 * certificate. (A dynamic import, not createRequire(import.meta.url): this module is also bundled into CommonJS
 * worker code, where import.meta is empty.)
 */
function x509(): Promise<typeof X509> {
  x509Module ??= import('@peculiar/x509').then((lib) => {
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof X509.cryptoProvider.set>[0]);
    return lib;
  });
  return x509Module;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

/** The four files istiod reads from the `cacerts` Secret. */
export interface CacertsFiles {
  'ca-cert.pem': string;
  'ca-key.pem': string;
  'root-cert.pem': string;
  'cert-chain.pem': string;
}

export interface RootMaterial {
  certPem: string;
  /** PKCS#8 PEM ("PRIVATE KEY"), which both Node's TLS and openssl read. */
  keyPem: string;
}

export interface GenerateCacertsOptions {
  /** Reuse an existing root (to make a new intermediate the mesh already trusts). */
  root?: RootMaterial;
  rootValidityMs?: number;
  intermediateValidityMs: number;
  /** Defaults to now less one second; set in the past to make an intermediate that has already expired. */
  intermediateNotBefore?: Date;
  now?: Date;
}

export type GeneratedCacerts = CacertsFiles & { root: RootMaterial; intermediateNotAfter: Date };

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const { PemConverter } = await x509();
  return PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  const { PemConverter } = await x509();
  const blocks = PemConverter.decodeWithHeaders(pem);
  const block = blocks.find((b) => b.type === 'PRIVATE KEY');
  if (!block) {
    throw new Error(
      `expected a PEM "PRIVATE KEY" (PKCS#8, ECDSA P-256), got ${blocks.map((b) => b.type).join(', ') || 'no PEM block'}; convert a SEC1 key with \`openssl pkcs8 -topk8 -nocrypt\``,
    );
  }
  return (await webcrypto.subtle.importKey('pkcs8', block.rawData, EC, true, ['sign'])) as CryptoKey;
}

function pemOf(cert: { toString(format: 'pem'): string }): string {
  return `${cert.toString('pem').trimEnd()}\n`;
}

function randomSerial(): string {
  // Positive 128-bit serial: clear the top bit so DER does not read it as negative.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

async function caExtensions(publicKey: CryptoKey, pathLength?: number): Promise<X509.Extension[]> {
  const { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, SubjectKeyIdentifierExtension } =
    await x509();
  return [
    new BasicConstraintsExtension(true, pathLength, true),
    new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
    await SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

export async function generateRoot(validityMs = TEN_YEARS_MS, now = new Date()): Promise<RootMaterial> {
  const { X509CertificateGenerator } = await x509();
  const keys = await generateKeyPair();
  const cert = await X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'O=Istio, CN=Root CA',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + validityMs),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions: await caExtensions(keys.publicKey),
  });
  return { certPem: pemOf(cert), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** A root (new, or the one given) and a fresh intermediate signed by it, in the `cacerts` layout. */
export async function generateCacerts(options: GenerateCacertsOptions): Promise<GeneratedCacerts> {
  const now = options.now ?? new Date();
  const root = options.root ?? (await generateRoot(options.rootValidityMs ?? TEN_YEARS_MS, now));
  const { AuthorityKeyIdentifierExtension, X509Certificate, X509CertificateGenerator } = await x509();
  const rootCert = new X509Certificate(root.certPem);
  const rootKey = await importPrivateKeyPem(root.keyPem);
  const keys = await generateKeyPair();
  const notBefore = options.intermediateNotBefore ?? new Date(now.getTime() - 1000);
  const notAfter = new Date(notBefore.getTime() + options.intermediateValidityMs);
  const intermediate = await X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'O=Istio, CN=Intermediate CA, L=cluster1',
    issuer: rootCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: keys.publicKey,
    signingKey: rootKey,
    extensions: [
      ...(await caExtensions(keys.publicKey, 0)),
      await AuthorityKeyIdentifierExtension.create(rootCert),
    ],
  });
  const caCert = pemOf(intermediate);
  return {
    'ca-cert.pem': caCert,
    'ca-key.pem': await exportPrivateKeyPem(keys.privateKey),
    'root-cert.pem': root.certPem,
    'cert-chain.pem': `${caCert}${root.certPem}`,
    root,
    // X.509 keeps whole seconds: report what the certificate says, not what was asked.
    intermediateNotAfter: intermediate.notAfter,
  };
}

/** notAfter of the first certificate in a PEM text. */
export function readNotAfter(pem: string): Date {
  // Node's own parser: synchronous, and enough to read one date (whole seconds, like the certificate).
  return new Date(new NodeX509Certificate(pem).validTo);
}

function base64Data(entries: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
}

/** The `cacerts` Secret istiod reads (base64 data, as kubectl stores it). */
export function buildCacertsSecret(files: CacertsFiles, namespace = 'istio-system', name = 'cacerts') {
  const { 'ca-cert.pem': ca, 'ca-key.pem': key, 'root-cert.pem': root, 'cert-chain.pem': chain } = files;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    data: base64Data({
      'ca-cert.pem': ca,
      'ca-key.pem': key,
      'root-cert.pem': root,
      'cert-chain.pem': chain,
    }),
  };
}

/** A Secret holding the root certificate and key, for a runbook that must sign a new intermediate. */
export function buildRootSecret(root: RootMaterial, namespace: string, name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    data: base64Data({ 'root-cert.pem': root.certPem, 'root-key.pem': root.keyPem }),
  };
}
