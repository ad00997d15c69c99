// Pure: the SDS secrets of a proxy (`default` workload certificate and `ROOTCA`) from what its admin endpoint
// reports, as the SecretConfigDump real istioctl prints (`-o json`) and summarises.

import { X509Certificate } from 'node:crypto';
import { asArray, asRecord, asString } from '../mesh/model/read.js';
import type { Json } from './envoy-dump.js';

export interface SecretSummary {
  name: 'default' | 'ROOTCA';
  type: 'Cert Chain' | 'CA';
  status: 'ACTIVE' | 'WARMING';
  valid: boolean | undefined;
  serialNumber: string;
  notAfter: Date | undefined;
  notBefore: Date | undefined;
  pem: string | undefined;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;

function firstPem(text: string | undefined): string | undefined {
  return text?.match(PEM_BLOCK)?.[0];
}

function pemOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.includes('BEGIN CERTIFICATE') ? value : undefined;
  const parts = asArray(value).filter((v): v is string => typeof v === 'string');
  return parts.length > 0 ? parts.join('') : undefined;
}

/** Go's big.Int.Text(16): lower-case hex without leading zeros. */
function serialText(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

function dateOf(value: unknown): Date | undefined {
  const text = asString(value);
  if (!text) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function describePem(
  name: SecretSummary['name'],
  pem: string | undefined,
  fallback: Json,
  now: Date,
): SecretSummary {
  const type = name === 'default' ? 'Cert Chain' : 'CA';
  const leaf = firstPem(pem);
  if (leaf) {
    try {
      const cert = new X509Certificate(leaf);
      const notBefore = new Date(cert.validFrom);
      const notAfter = new Date(cert.validTo);
      return {
        name,
        type,
        status: 'ACTIVE',
        valid: now >= notBefore && now <= notAfter,
        serialNumber: serialText(cert.serialNumber),
        notAfter,
        notBefore,
        pem,
      };
    } catch {
      // Fall through to what the admin endpoint said about the certificate.
    }
  }
  const notAfter = dateOf(fallback.notAfter);
  const notBefore = dateOf(fallback.notBefore);
  if (!notAfter) {
    return {
      name,
      type,
      status: 'WARMING',
      valid: undefined,
      serialNumber: '',
      notAfter: undefined,
      notBefore: undefined,
      pem: undefined,
    };
  }
  return {
    name,
    type,
    status: 'ACTIVE',
    valid: now <= notAfter && (!notBefore || now >= notBefore),
    serialNumber: serialText(asString(fallback.serialNumber) ?? ''),
    notAfter,
    notBefore,
    pem,
  };
}

/** One certificate of Envoy's /certs document (`serial_number`, `valid_from`, `expiration_time`). */
function fromEnvoyCerts(name: SecretSummary['name'], details: unknown, now: Date): SecretSummary | undefined {
  const d = asRecord(details);
  const notAfter = dateOf(d.expiration_time);
  if (!notAfter) return undefined;
  const notBefore = dateOf(d.valid_from);
  return {
    name,
    type: name === 'default' ? 'Cert Chain' : 'CA',
    status: 'ACTIVE',
    valid: now <= notAfter && (!notBefore || now >= notBefore),
    serialNumber: serialText(asString(d.serial_number) ?? ''),
    notAfter,
    notBefore,
    pem: undefined,
  };
}

/**
 * The proxy's secrets from its /config_dump: Envoy's /certs list (`certificates[0].cert_chain` / `ca_cert`)
 * when present; else PEMs under `certificate` (`certChain`, `certChainPem`, `root`, `rootPem` …) or the pushed
 * trust bundle; else only `certificate.notAfter`. Validity is judged on this host's clock, as istioctl does.
 */
export function summariseSecrets(dump: unknown, trustBundle: string | undefined, now: Date): SecretSummary[] {
  const doc = asRecord(dump);
  const c = asRecord(doc.certificate);
  const envoyCerts = asRecord(asArray(doc.certificates)[0]);
  const chain = pemOf(c.certChain) ?? pemOf(c.certChainPem) ?? pemOf(c.certificateChain) ?? pemOf(c.pem);
  const root = pemOf(c.root) ?? pemOf(c.rootPem) ?? pemOf(c.rootCert) ?? pemOf(c.rootCertPem) ?? trustBundle;
  return [
    (chain ? undefined : fromEnvoyCerts('default', asArray(envoyCerts.cert_chain)[0], now)) ??
      describePem('default', chain, c, now),
    (root ? undefined : fromEnvoyCerts('ROOTCA', asArray(envoyCerts.ca_cert)[0], now)) ??
      describePem('ROOTCA', root, {}, now),
  ];
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** The SecretConfigDump (`dynamicActiveSecrets`, `dynamicWarmingSecrets`) istioctl prints for `-o json`. */
export function secretConfigDump(secrets: SecretSummary[], versionInfo: string): Json {
  const entry = (s: SecretSummary): Json => ({
    name: s.name,
    versionInfo,
    lastUpdated: (s.notBefore ?? new Date(0)).toISOString(),
    secret: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
      name: s.name,
      ...(s.name === 'default'
        ? {
            tlsCertificate: {
              certificateChain: { inlineBytes: base64(s.pem ?? '') },
              // Envoy redacts private keys in config dumps.
              privateKey: { inlineBytes: base64('[redacted]') },
            },
          }
        : { validationContext: { trustedCa: { inlineBytes: base64(s.pem ?? '') } } }),
    },
  });
  return {
    dynamicActiveSecrets: secrets.filter((s) => s.status === 'ACTIVE').map(entry),
    dynamicWarmingSecrets: secrets.filter((s) => s.status === 'WARMING').map((s) => ({ name: s.name })),
  };
}
