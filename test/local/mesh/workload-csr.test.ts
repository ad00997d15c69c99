// The proxy agent's own CSR (node:crypto, no X.509 library): the CA accepts it, signs the SPIFFE identity it
// asks for, refuses it for another caller, and the key and signed chain work in real TLS.

import tls from 'node:tls';
import { expect } from 'chai';
import {
  certificateNotAfter as caNotAfter,
  certificateUris,
  createSelfSignedAuthority,
} from '../../../clusters/local/mesh/ca/index.js';
import { certificateNotAfter, createWorkloadCsr } from '../../../clusters/local/mesh/proxy/workload-csr.js';

const ID = 'spiffe://cluster.local/ns/app/sa/reviews';

describe('proxy workload CSR', () => {
  it('is signed by the mesh CA with the requested SPIFFE URI SAN; the chain and key make a TLS context', async () => {
    const ca = await createSelfSignedAuthority();
    const { csrPem, keyPem } = await createWorkloadCsr(ID);
    expect(csrPem).to.match(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
    const signed = await ca.signCsr(csrPem, { identity: ID, ttlMs: 60_000 });
    const leaf = signed.certChain[0] as string;
    expect(certificateUris(leaf)).to.deep.equal([ID]);
    expect(certificateNotAfter(leaf).toISOString()).to.equal(caNotAfter(leaf).toISOString());
    expect(() =>
      tls.createSecureContext({ cert: signed.certChain.join(''), key: keyPem, ca: ca.rootCertPem }),
    ).not.to.throw();
  });

  it('is refused when the caller is another identity', async () => {
    const ca = await createSelfSignedAuthority();
    const { csrPem } = await createWorkloadCsr(ID);
    const other = 'spiffe://cluster.local/ns/app/sa/ratings';
    const error = await ca.signCsr(csrPem, { identity: other, ttlMs: 60_000 }).catch((e: Error) => e);
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.include('a workload may only request its own identity');
  });
});
