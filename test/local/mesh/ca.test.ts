// The mesh CA against ISTIO-FACTS.md "mTLS and certificates": requested TTL, SPIFFE SAN, leaves cut at the
// intermediate's expiry, refusal with an expired intermediate, and certificates that real TLS accepts.

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { expect } from 'chai';
import {
  CaError,
  certificateNotAfter,
  certificateUris,
  createSelfSignedAuthority,
  createWorkloadCsr,
  generateCacerts,
  loadPluggedInAuthority,
  readCacertsSecret,
  cacertsSecret,
  ROOT_VALIDITY_MS,
} from '../../../clusters/local/mesh/ca/index.js';

const ID = 'spiffe://cluster.local/ns/app/sa/reviews';

describe('mesh CA', () => {
  it('self-signed root is valid 10 years; a leaf lives the requested TTL (seconds work) with the SPIFFE URI SAN', async () => {
    const ca = await createSelfSignedAuthority();
    const rootLife = ca.rootCertNotAfter.getTime() - Date.now();
    expect(rootLife).to.be.closeTo(ROOT_VALIDITY_MS, 120_000);
    const { csrPem } = await createWorkloadCsr(ID);
    const now = new Date();
    const signed = await ca.signCsr(csrPem, { identity: ID, ttlMs: 5_000, now });
    const leaf = signed.certChain[0] as string;
    expect(certificateUris(leaf)).to.deep.equal([ID]);
    expect(certificateNotAfter(leaf).getTime() - now.getTime()).to.be.closeTo(5_000, 1000);
    expect(signed.rootCert).to.equal(ca.rootCertPem);
  });

  it('refuses a CSR asking for another identity', async () => {
    const ca = await createSelfSignedAuthority();
    const { csrPem } = await createWorkloadCsr('spiffe://cluster.local/ns/app/sa/other');
    const error = await ca.signCsr(csrPem, { identity: ID, ttlMs: 60_000 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(CaError);
    expect((error as CaError).reason).to.equal('identity-mismatch');
  });

  it('plugged-in cacerts: a leaf is cut at the intermediate expiry (fact since 1.30)', async () => {
    const files = await generateCacerts({ intermediateValidityMs: 3_000 });
    const decoded = readCacertsSecret(cacertsSecret(files));
    expect(decoded?.['ca-cert.pem']).to.equal(files['ca-cert.pem']);
    const ca = await loadPluggedInAuthority(decoded!);
    expect(ca.source).to.equal('plugged-in');
    const { csrPem } = await createWorkloadCsr(ID);
    const signed = await ca.signCsr(csrPem, { identity: ID, ttlMs: 24 * 3600_000 });
    expect(signed.notAfter.getTime()).to.equal(ca.signingCertNotAfter.getTime());
    expect(certificateNotAfter(signed.certChain[0] as string).getTime()).to.be.at.most(
      ca.signingCertNotAfter.getTime(),
    );
    expect(signed.certChain).to.have.length(3);
  });

  it('refuses to sign once the intermediate has expired (fact: the whole mesh fails at once)', async () => {
    const files = await generateCacerts({
      intermediateValidityMs: 60_000,
      intermediateNotBefore: new Date(Date.now() - 120_000),
    });
    const ca = await loadPluggedInAuthority(files);
    const { csrPem } = await createWorkloadCsr(ID);
    const error = await ca.signCsr(csrPem, { identity: ID, ttlMs: 60_000 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(CaError);
    expect((error as CaError).reason).to.equal('expired-signing-cert');
    expect((error as Error).message).to.match(
      /expired at .* put a valid intermediate into secret istio-system\/cacerts/,
    );
  });

  it('a new intermediate from the same root is trusted by peers holding the old trust bundle', async () => {
    const first = await generateCacerts({ intermediateValidityMs: 3600_000 });
    const second = await generateCacerts({ root: first.root, intermediateValidityMs: 3600_000 });
    const caA = await loadPluggedInAuthority(first);
    const caB = await loadPluggedInAuthority(second);
    expect(caA.rootCertPem).to.equal(caB.rootCertPem);
  });

  it('issued certificates pass real mutual TLS verification against the root; an expired peer fails', async () => {
    const files = await generateCacerts({ intermediateValidityMs: 3600_000 });
    const ca = await loadPluggedInAuthority(files);
    const issue = async (id: string, ttlMs: number) => {
      const { csrPem, keyPem } = await createWorkloadCsr(id);
      const signed = await ca.signCsr(csrPem, { identity: id, ttlMs });
      return { cert: signed.certChain.join(''), key: keyPem };
    };
    const server = await issue(ID, 60_000);
    const client = await issue('spiffe://cluster.local/ns/app/sa/client', 60_000);
    const srv = tls.createServer(
      { ...server, ca: ca.rootCertPem, requestCert: true, rejectUnauthorized: true },
      (s) => {
        const peer = s.getPeerCertificate();
        s.end(String(peer.subjectaltname));
      },
    );
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as AddressInfo).port;
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const sock = tls.connect({
          host: '127.0.0.1',
          port,
          ...client,
          ca: ca.rootCertPem,
          checkServerIdentity: () => undefined,
        });
        let data = '';
        sock.on('data', (d) => {
          data += d;
        });
        sock.on('end', () => resolve(data));
        sock.on('error', reject);
      });
      expect(got).to.equal('URI:spiffe://cluster.local/ns/app/sa/client');
      // A server leaf whose TTL has passed fails the client's verification: CERT_HAS_EXPIRED.
      const expired = await issue(ID, 1_000);
      await new Promise((r) => setTimeout(r, 1_200));
      const stale = tls.createServer({ ...expired, ca: ca.rootCertPem }, (s) => s.end('x'));
      stale.listen(0, '127.0.0.1');
      await once(stale, 'listening');
      try {
        const code = await new Promise<string>((resolve) => {
          const sock = tls.connect({
            host: '127.0.0.1',
            port: (stale.address() as AddressInfo).port,
            ...client,
            ca: ca.rootCertPem,
            checkServerIdentity: () => undefined,
          });
          sock.on('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
          sock.on('secureConnect', () => resolve('connected'));
        });
        expect(code).to.equal('CERT_HAS_EXPIRED');
      } finally {
        stale.close();
      }
    } finally {
      srv.close();
    }
  });
});
