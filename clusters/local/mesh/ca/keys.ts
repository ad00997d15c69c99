// WebCrypto key and PEM plumbing for the CA and the agent: ECDSA P-256 keys (fast to make), PKCS#8 PEM that
// Node's TLS accepts, and the certificate extensions Istio's certificates carry.

import '../../../../harness/util/reflect-shim.js';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's lib here has no DOM types: name WebCrypto's key types through node:crypto.
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  const blocks = x509.PemConverter.decodeWithHeaders(pem);
  const block = blocks.find((b) => b.type === 'PRIVATE KEY' || b.type === 'EC PRIVATE KEY');
  if (!block) {
    throw new Error(
      `expected a PEM "PRIVATE KEY" (PKCS#8, ECDSA P-256), got ${blocks.map((b) => b.type).join(', ') || 'no PEM block'}`,
    );
  }
  if (block.type === 'EC PRIVATE KEY') {
    throw new Error(
      'SEC1 "EC PRIVATE KEY" keys are not supported: convert with `openssl pkcs8 -topk8 -nocrypt`',
    );
  }
  return (await webcrypto.subtle.importKey('pkcs8', block.rawData, EC_ALGORITHM, true, [
    'sign',
  ])) as CryptoKey;
}

/** PEM text ending in exactly one newline, so concatenated chains stay parseable. */
export function pemOf(cert: { toString(format: 'pem'): string }): string {
  return `${cert.toString('pem').trimEnd()}\n`;
}

/** Splits concatenated PEM certificates. */
export function splitPemCertificates(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (p) => `${p}\n`,
  );
}

export function parseCertificate(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

export function caExtensions(publicKey: CryptoKey, pathLength?: number): Promise<x509.Extension[]> {
  return x509.SubjectKeyIdentifierExtension.create(publicKey).then((ski) => [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ski,
  ]);
}

export function randomSerial(): string {
  // Positive 128-bit serial: clear the top bit so DER does not read it as negative.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

export { x509 };
