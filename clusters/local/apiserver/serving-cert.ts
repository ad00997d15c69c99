// A fresh self-signed serving certificate for 127.0.0.1. The server speaks HTTPS only because client-go sends
// bearer tokens over TLS alone (clientcmd drops user credentials for http:// servers); kubeconfigs trust it
// with insecure-skip-tls-verify.

import { exportPrivateKeyPem, generateKeyPair, pemOf, randomSerial, x509 } from '../mesh/ca/keys.js';

export interface ServingCert {
  cert: string;
  key: string;
}

export async function createServingCert(host: string): Promise<ServingCert> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const isIp = /^[\d.]+$/.test(host) || host.includes(':');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=meshdrill-local-apiserver',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 24 * 3600_000),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: isIp ? 'ip' : 'dns', value: host },
        { type: 'dns', value: 'localhost' },
      ]),
    ],
  });
  return { cert: pemOf(cert), key: await exportPrivateKeyPem(keys.privateKey) };
}
