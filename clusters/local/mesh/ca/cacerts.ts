// Generates plug-in CA material (a root and an intermediate with chosen validity) in the `cacerts` layout, the
// way `make -f tools/certs/Makefile.selfsigned.mk` does; scenarios use it to plant a short-lived intermediate.

import type { CacertsFiles } from './authority.js';
import {
  caExtensions,
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  parseCertificate,
  pemOf,
  randomSerial,
  x509,
} from './keys.js';

export interface RootMaterial {
  certPem: string;
  keyPem: string;
}

export interface GenerateCacertsOptions {
  /** Reuse an existing root (to make a new intermediate the mesh already trusts). */
  root?: RootMaterial;
  rootValidityMs?: number;
  intermediateValidityMs: number;
  /** Defaults to now; set in the past to make an intermediate that has already expired. */
  intermediateNotBefore?: Date;
  now?: Date;
}

export async function generateRoot(validityMs: number, now = new Date()): Promise<RootMaterial> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
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

export async function generateCacerts(
  options: GenerateCacertsOptions,
): Promise<CacertsFiles & { root: RootMaterial }> {
  const now = options.now ?? new Date();
  const root =
    options.root ?? (await generateRoot(options.rootValidityMs ?? 10 * 365 * 24 * 3600 * 1000, now));
  const rootCert = parseCertificate(root.certPem);
  const rootKey = await importPrivateKeyPem(root.keyPem);
  const keys = await generateKeyPair();
  const notBefore = options.intermediateNotBefore ?? new Date(now.getTime() - 1000);
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'O=Istio, CN=Intermediate CA, L=cluster1',
    issuer: rootCert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + options.intermediateValidityMs),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: keys.publicKey,
    signingKey: rootKey,
    extensions: [
      ...(await caExtensions(keys.publicKey, 0)),
      await x509.AuthorityKeyIdentifierExtension.create(rootCert),
    ],
  });
  const caCert = pemOf(intermediate);
  return {
    'ca-cert.pem': caCert,
    'ca-key.pem': await exportPrivateKeyPem(keys.privateKey),
    'root-cert.pem': root.certPem,
    'cert-chain.pem': `${caCert}${root.certPem}`,
    root,
  };
}

/** The Secret object for `istio-system/cacerts` holding the files (base64 data, as kubectl would store it). */
export function cacertsSecret(files: CacertsFiles, namespace = 'istio-system') {
  const data: Record<string, string> = {};
  for (const key of ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const) {
    data[key] = Buffer.from(files[key]).toString('base64');
  }
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace }, type: 'Opaque', data };
}
