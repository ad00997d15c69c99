// The agent's certificate signing request, built with node:crypto and a few lines of DER: a PKCS#10 request
// (RFC 2986) for a fresh ECDSA P-256 key with the workload's SPIFFE identity as a critical URI SAN, as
// pilot-agent sends it. The proxy does not load an X.509 library for this: that library was most of the
// program's code and a good part of its idle memory.

import { createPrivateKey, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...content: Buffer[]): Buffer => tlv(0x30, ...content);

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const SUBJECT_ALT_NAME = '2.5.29.17';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/** The DER of a CSR for `identity` signed by `privateKeyPem`'s key (exported for tests). */
export function workloadCsrDer(identity: string, publicKeyDer: Buffer, privateKeyPem: string): Buffer {
  const san = sequence(tlv(0x86, Buffer.from(identity, 'utf8'))); // GeneralName uniformResourceIdentifier [6]
  const extension = sequence(oid(SUBJECT_ALT_NAME), tlv(0x01, Buffer.from([0xff])), tlv(0x04, san));
  const attributes = tlv(0xa0, sequence(oid(EXTENSION_REQUEST), tlv(0x31, sequence(extension))));
  const info = sequence(tlv(0x02, Buffer.from([0])), sequence(), publicKeyDer, attributes);
  const signature = sign('sha256', info, createPrivateKey(privateKeyPem));
  return sequence(info, sequence(oid(ECDSA_WITH_SHA256)), tlv(0x03, Buffer.from([0]), signature));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A fresh key (PKCS#8 PEM, which Node's TLS accepts) and a CSR carrying the workload's SPIFFE identity. */
export async function createWorkloadCsr(identity: string): Promise<{ csrPem: string; keyPem: string }> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return { csrPem: pem('CERTIFICATE REQUEST', workloadCsrDer(identity, spki, keyPem)), keyPem };
}

/** The first certificate's notAfter in a PEM chain. */
export function certificateNotAfter(pem: string): Date {
  return new Date(new X509Certificate(pem).validTo);
}
