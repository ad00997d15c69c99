// Which CA istiod signs with: its self-signed root, kept in `istio-system/istio-ca-secret` so it survives a
// restart, or a plugged-in CA from `istio-system/cacerts`, re-read whenever that secret changes.

import type { KubeObject } from '../../../../harness/model/index.js';
import {
  type CertificateAuthority,
  generateSelfSignedCa,
  loadPluggedInAuthority,
  loadSelfSignedAuthority,
  readCacertsSecret,
  type SelfSignedCaFiles,
} from '../ca/index.js';
import { asRecord, asString } from '../model/read.js';
import type { IstiodState } from './state.js';

/** Where istiod keeps its self-signed CA (real istiod: `istio-system/istio-ca-secret`, type istio.io/ca-root). */
const CA_SECRET = 'istio-ca-secret';

function readSelfSignedSecret(secret: KubeObject | undefined): SelfSignedCaFiles | undefined {
  const data = asRecord(secret?.data);
  const decode = (key: string): string | undefined => {
    const value = asString(data?.[key]);
    return value ? Buffer.from(value, 'base64').toString('utf8') : undefined;
  };
  const cert = decode('ca-cert.pem');
  const key = decode('ca-key.pem');
  return cert && key ? { 'ca-cert.pem': cert, 'ca-key.pem': key } : undefined;
}

/** The stored self-signed root, or a new one stored for the next start (a store failure is logged, not fatal). */
export async function loadOrCreateSelfSigned(s: IstiodState): Promise<CertificateAuthority> {
  const { rootNamespace, log } = s;
  const stored = readSelfSignedSecret(s.source.secret(rootNamespace, CA_SECRET));
  if (stored) {
    try {
      const loaded = await loadSelfSignedAuthority(stored);
      log(`info: loaded the self-signed root CA from ${rootNamespace}/${CA_SECRET}\n`);
      return loaded;
    } catch (error) {
      log(
        `error: cannot load ${rootNamespace}/${CA_SECRET}: ${(error as Error).message}; generating a new root\n`,
      );
    }
  }
  const fresh = await generateSelfSignedCa();
  try {
    await s.source.createSecret(rootNamespace, CA_SECRET, 'istio.io/ca-root', { ...fresh.files });
    log(`info: generated a self-signed root CA and stored it in ${rootNamespace}/${CA_SECRET}\n`);
  } catch (error) {
    log(`error: cannot store ${rootNamespace}/${CA_SECRET}: ${(error as Error).message}\n`);
  }
  return fresh.authority;
}

/** Switches to the CA in a new or changed `cacerts` secret; a broken one keeps the current CA. */
async function usePluggedIn(s: IstiodState, secret: KubeObject): Promise<'kept' | 'tried'> {
  const files = readCacertsSecret(secret as { data?: unknown; stringData?: unknown });
  if (!files) {
    s.log(
      `error: secret ${s.rootNamespace}/cacerts lacks ca-cert.pem, ca-key.pem, root-cert.pem or cert-chain.pem; keeping the current CA\n`,
    );
    return 'kept';
  }
  try {
    s.ca = await loadPluggedInAuthority(files);
    s.log(
      `info: using plugged-in CA from ${s.rootNamespace}/cacerts (signing cert expires ${s.ca.signingCertNotAfter.toISOString()})\n`,
    );
  } catch (error) {
    s.log(`error: cannot load ${s.rootNamespace}/cacerts: ${(error as Error).message}\n`);
  }
  return 'tried';
}

/** Acts on a change of `cacerts` (added, changed or removed); nothing when its version is the one acted on. */
export async function reloadCa(s: IstiodState): Promise<void> {
  const secret = s.source.secret(s.rootNamespace, 'cacerts');
  const version = secret
    ? String(secret.metadata.resourceVersion ?? JSON.stringify(secret.data ?? ''))
    : undefined;
  if (version === s.cacertsVersion) return;
  const previous = s.cacertsVersion;
  s.cacertsVersion = version;
  if (secret) {
    if ((await usePluggedIn(s, secret)) === 'kept') return;
  } else if (previous !== undefined) {
    // cacerts removed: fall back to the self-signed CA (istio-ca-secret), whose root existing proxies —
    // which trust the plugged-in root — do not trust until they restart.
    s.ca = await loadOrCreateSelfSigned(s);
    s.log('info: cacerts removed; signing with the self-signed root CA\n');
  }
  s.metrics.setCa(s.ca);
}
