// istioctl per version: downloaded through curl and tar (faked here), cached, and never left half-extracted.

import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDirOf, createToolRunner, fetchIstioRelease, resolveHost } from '../../clusters/shared/index.js';
import { MeshdrillError } from '../../harness/model/errors.js';
import { createSandbox } from './support.js';

describe('Istio release cache', () => {
  it('leaves no partial cache when the download fails, then caches a good one', async () => {
    const sandbox = await createSandbox({ env: { FAKE_FAIL: 'curl:-fsSL' } });
    try {
      const host = resolveHost(sandbox.host());
      const cache = cacheDirOf(host);
      const failed = await fetchIstioRelease(createToolRunner(host), '1.30.3', cache).catch(
        (e: unknown) => e,
      );
      expect(failed).to.be.instanceOf(MeshdrillError);
      expect((failed as MeshdrillError).message).to.include(
        'https://github.com/istio/istio/releases/download/1.30.3/istio-1.30.3-linux-amd64.tar.gz',
      );
      expect((failed as MeshdrillError).hint).to.include('releases/tag/1.30.3');
      expect(await readdir(join(cache, 'istio', '1.30.3'))).to.deep.equal([]);

      sandbox.env.FAKE_FAIL = '';
      const release = await fetchIstioRelease(createToolRunner(host), '1.30.3', cache);
      expect(release).to.deep.include({
        cached: false,
        istioctl: join(cache, 'istio/1.30.3/istio-1.30.3/bin/istioctl'),
      });
      expect(await readdir(join(cache, 'istio', '1.30.3'))).to.deep.equal(['istio-1.30.3']);
      const again = await fetchIstioRelease(createToolRunner(host), '1.30.3', cache);
      expect(again.cached).to.equal(true);
      expect((await sandbox.lines()).filter((l) => l.startsWith('curl'))).to.have.length(2);
    } finally {
      await sandbox.cleanup();
    }
  });

  it('refuses a version that is not a release number', async () => {
    const sandbox = await createSandbox();
    try {
      const host = resolveHost(sandbox.host());
      const error = await fetchIstioRelease(createToolRunner(host), '1.30', cacheDirOf(host)).catch(
        (e: unknown) => e,
      );
      expect((error as MeshdrillError).kind).to.equal('invalid-input');
      expect(await sandbox.calls()).to.deep.equal([]);
    } finally {
      await sandbox.cleanup();
    }
  });
});
