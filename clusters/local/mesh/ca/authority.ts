// istiod's CA: a self-signed root (10 years) or plugged-in `cacerts` material; signs workload CSRs with a
// SPIFFE URI SAN for the requested TTL, cuts a leaf at its signing certificate's expiry and refuses to sign
// with an expired signing certificate (Istio 1.30 behaviour, ISTIO-FACTS.md "mTLS and certificates").

import {
  type CryptoKey,
  caExtensions,
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  parseCertificate,
  pemOf,
  randomSerial,
  splitPemCertificates,
  x509,
} from './keys.js';

export const ROOT_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;

/** The four files of Istio's plug-in CA secret `istio-system/cacerts`. */
export interface CacertsFiles {
  'ca-cert.pem': string;
  'ca-key.pem': string;
  'root-cert.pem': string;
  'cert-chain.pem': string;
}

export class CaError extends Error {
  constructor(
    readonly reason: 'expired-signing-cert' | 'bad-csr' | 'identity-mismatch' | 'bad-material',
    message: string,
  ) {
    super(message);
    this.name = 'CaError';
  }
}

export interface SignedCertificate {
  /** Leaf first, then the signing chain up to (and including) the root. */
  certChain: string[];
  rootCert: string;
  notAfter: Date;
}

export interface CertificateAuthority {
  readonly source: 'self-signed' | 'plugged-in';
  /** The trust bundle proxies verify peers against. */
  readonly rootCertPem: string;
  readonly signingCertNotAfter: Date;
  readonly rootCertNotAfter: Date;
  signCsr(
    csrPem: string,
    request: { identity: string; ttlMs: number; now?: Date },
  ): Promise<SignedCertificate>;
}

interface Material {
  source: 'self-signed' | 'plugged-in';
  signingCert: x509.X509Certificate;
  signingKey: CryptoKey;
  /** Signing cert and its issuers up to the root, PEM each. */
  chain: string[];
  rootCert: x509.X509Certificate;
}

function createAuthority(m: Material): CertificateAuthority {
  const rootCertPem = pemOf(m.rootCert);
  return {
    source: m.source,
    rootCertPem,
    signingCertNotAfter: m.signingCert.notAfter,
    rootCertNotAfter: m.rootCert.notAfter,
    async signCsr(csrPem, request) {
      const now = request.now ?? new Date();
      if (m.signingCert.notAfter.getTime() <= now.getTime()) {
        throw new CaError(
          'expired-signing-cert',
          `failed to sign CSR for ${request.identity}: the CA signing certificate expired at ${m.signingCert.notAfter.toISOString()} ` +
            `(now ${now.toISOString()}); put a valid intermediate into secret istio-system/cacerts`,
        );
      }
      let csr: x509.Pkcs10CertificateRequest;
      try {
        csr = new x509.Pkcs10CertificateRequest(csrPem);
      } catch (error) {
        throw new CaError(
          'bad-csr',
          `failed to parse CSR for ${request.identity}: ${(error as Error).message}`,
        );
      }
      if (!(await csr.verify()))
        throw new CaError('bad-csr', `CSR signature for ${request.identity} does not verify`);
      const rawSan = csr.getExtension('2.5.29.17');
      const requested = rawSan ? new x509.SubjectAlternativeNameExtension(rawSan.rawData) : undefined;
      const uris = requested?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? [];
      if (uris.length > 0 && !uris.includes(request.identity)) {
        throw new CaError(
          'identity-mismatch',
          `CSR asks for ${uris.join(', ')} but the caller is ${request.identity}: a workload may only request its own identity`,
        );
      }
      // Since Istio 1.30 a leaf never outlives the certificate that signed it.
      const notAfter = new Date(Math.min(now.getTime() + request.ttlMs, m.signingCert.notAfter.getTime()));
      const publicKey = await csr.publicKey.export();
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: randomSerial(),
        subject: '',
        issuer: m.signingCert.subject,
        notBefore: new Date(now.getTime() - 1000),
        notAfter,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        publicKey,
        signingKey: m.signingKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(
            x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
            true,
          ),
          new x509.ExtendedKeyUsageExtension([
            x509.ExtendedKeyUsage.serverAuth,
            x509.ExtendedKeyUsage.clientAuth,
          ]),
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: request.identity }], true),
          await x509.AuthorityKeyIdentifierExtension.create(m.signingCert),
        ],
      });
      return { certChain: [pemOf(leaf), ...m.chain], rootCert: rootCertPem, notAfter };
    },
  };
}

/** istiod's default: a self-signed root that signs workload certificates directly. */
export async function createSelfSignedAuthority(options: { validityMs?: number; now?: Date } = {}) {
  return (await generateSelfSignedCa(options)).authority;
}

/** The two keys istiod keeps its self-signed CA under, in the Secret `istio-system/istio-ca-secret`. */
export interface SelfSignedCaFiles {
  'ca-cert.pem': string;
  'ca-key.pem': string;
}

/**
 * A new self-signed CA and the files to persist it. Real istiod stores its self-signed root in
 * `istio-system/istio-ca-secret` and reloads it at start, so a restarted istiod keeps the root every proxy trusts.
 */
export async function generateSelfSignedCa(
  options: { validityMs?: number; now?: Date } = {},
): Promise<{ authority: CertificateAuthority; files: SelfSignedCaFiles }> {
  const now = options.now ?? new Date();
  const keys = await generateKeyPair();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'O=cluster.local',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (options.validityMs ?? ROOT_VALIDITY_MS)),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions: await caExtensions(keys.publicKey),
  });
  const authority = createAuthority({
    source: 'self-signed',
    signingCert: root,
    signingKey: keys.privateKey,
    chain: [pemOf(root)],
    rootCert: root,
  });
  return {
    authority,
    files: { 'ca-cert.pem': pemOf(root), 'ca-key.pem': await exportPrivateKeyPem(keys.privateKey) },
  };
}

/** istiod's self-signed CA as persisted in `istio-ca-secret`. */
export async function loadSelfSignedAuthority(files: SelfSignedCaFiles): Promise<CertificateAuthority> {
  const root = parseCertificate(files['ca-cert.pem']);
  const signingKey = await importPrivateKeyPem(files['ca-key.pem']);
  return createAuthority({
    source: 'self-signed',
    signingCert: root,
    signingKey,
    chain: [pemOf(root)],
    rootCert: root,
  });
}

/** A CA from the plug-in `cacerts` files; the material is checked to hang together. */
export async function loadPluggedInAuthority(files: CacertsFiles): Promise<CertificateAuthority> {
  const problems: string[] = [];
  for (const key of ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const) {
    if (!files[key]?.includes('-----BEGIN')) problems.push(`${key} is missing or not PEM`);
  }
  if (problems.length > 0) {
    throw new CaError('bad-material', `secret istio-system/cacerts is incomplete: ${problems.join('; ')}`);
  }
  const signingCert = parseCertificate(files['ca-cert.pem']);
  const rootCert = parseCertificate(files['root-cert.pem']);
  const signingKey = await importPrivateKeyPem(files['ca-key.pem']);
  const chain = splitPemCertificates(files['cert-chain.pem']);
  if (chain.length === 0) chain.push(pemOf(signingCert));
  if (
    !(await signingCert.verify({ publicKey: rootCert.publicKey, signatureOnly: true })) &&
    chain.length < 2
  ) {
    throw new CaError(
      'bad-material',
      'ca-cert.pem is not signed by root-cert.pem and cert-chain.pem has no intermediates',
    );
  }
  return createAuthority({ source: 'plugged-in', signingCert, signingKey, chain, rootCert });
}

/** Decodes a Secret's `data` (base64) or `stringData` into cacerts files, or undefined when keys are missing. */
export function readCacertsSecret(secret: {
  data?: unknown;
  stringData?: unknown;
}): CacertsFiles | undefined {
  const read = (key: keyof CacertsFiles): string | undefined => {
    const data = secret.data as Record<string, unknown> | undefined;
    const str = secret.stringData as Record<string, unknown> | undefined;
    const b64 = data?.[key];
    if (typeof b64 === 'string') return Buffer.from(b64, 'base64').toString('utf8');
    const plain = str?.[key];
    return typeof plain === 'string' ? plain : undefined;
  };
  const files = {
    'ca-cert.pem': read('ca-cert.pem'),
    'ca-key.pem': read('ca-key.pem'),
    'root-cert.pem': read('root-cert.pem'),
    'cert-chain.pem': read('cert-chain.pem'),
  };
  if (Object.values(files).some((v) => v === undefined)) return undefined;
  return files as CacertsFiles;
}
