// The agent side of certificate issuance: a fresh key and a CSR carrying the workload's SPIFFE identity.

import { exportPrivateKeyPem, generateKeyPair, x509 } from './keys.js';

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export async function createWorkloadCsr(identity: string): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity }], true)],
  });
  return { csrPem: csr.toString('pem'), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** URI SANs of a PEM certificate (the SPIFFE identity of a peer). */
export function certificateUris(pem: string): string[] {
  const cert = new x509.X509Certificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? [];
}

export function certificateNotAfter(pem: string): Date {
  return new x509.X509Certificate(pem).notAfter;
}
