// The plug-in CA: generated with the real openssl (a root and an intermediate that verify, with the lifetime
// asked for), refused with every missing file named, and applied as the `cacerts` Secret before Istio.

import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  prepareCacerts,
  buildCacertsSecret,
  createToolRunner,
  resolveHost,
} from '../../clusters/shared/index.js';
import { run } from '../../harness/exec/index.js';
import type { MeshdrillError } from '../../harness/model/errors.js';
import { FakeCluster, createSandbox } from './support.js';
import { createKindTarget } from '../../clusters/kind/index.js';

describe('plug-in CA', function () {
  this.timeout(60_000);

  it('generates a root and an intermediate with openssl that verify, the intermediate as asked', async () => {
    const sandbox = await createSandbox({ pathDirs: ['/usr/bin', '/bin'] });
    try {
      const runner = createToolRunner(resolveHost(sandbox.host()));
      const files = await prepareCacerts(runner, { mode: 'generate', intermediateDays: 2 }, sandbox.workDir);
      const dir = join(sandbox.workDir, 'cacerts');
      const verify = await run('/usr/bin/openssl', [
        'verify',
        '-CAfile',
        join(dir, 'root-cert.pem'),
        join(dir, 'ca-cert.pem'),
      ]);
      expect(verify.stdout.trim()).to.equal(`${join(dir, 'ca-cert.pem')}: OK`);
      const text = await run('/usr/bin/openssl', [
        'x509',
        '-in',
        join(dir, 'ca-cert.pem'),
        '-noout',
        '-text',
        '-enddate',
      ]);
      expect(text.stdout).to.match(/CA:TRUE, pathlen:0/);
      expect(text.stdout).to.include('DNS:istiod.istio-system.svc');
      const end = Date.parse(text.stdout.match(/notAfter=(.*)/)?.[1] ?? '');
      expect(end - Date.now()).to.be.within(2 * 86_400_000 - 120_000, 2 * 86_400_000 + 120_000);
      expect(files['cert-chain.pem']).to.equal(
        `${files['ca-cert.pem'].trimEnd()}\n${files['root-cert.pem'].trimEnd()}\n`,
      );
      const secret = buildCacertsSecret(files);
      expect(secret.metadata).to.deep.include({ name: 'cacerts', namespace: 'istio-system' });
      expect(
        Buffer.from((secret.data as Record<string, string>)['ca-key.pem'] ?? '', 'base64').toString(),
      ).to.include('PRIVATE KEY');
    } finally {
      await sandbox.cleanup();
    }
  });

  it('names every missing file of a plug-in CA directory', async () => {
    const sandbox = await createSandbox();
    try {
      const dir = join(sandbox.dir, 'ca');
      await mkdir(dir);
      await writeFile(join(dir, 'root-cert.pem'), 'x');
      const runner = createToolRunner(resolveHost(sandbox.host()));
      const error = await prepareCacerts(runner, { mode: 'files', dir }, sandbox.workDir).catch(
        (e: unknown) => e,
      );
      expect((error as MeshdrillError).kind).to.equal('invalid-input');
      expect((error as MeshdrillError).message).to.equal(
        `plug-in CA directory ${dir} lacks ca-cert.pem, ca-key.pem, cert-chain.pem`,
      );
    } finally {
      await sandbox.cleanup();
    }
  });

  it('applies the cacerts Secret before installing Istio on kind', async () => {
    const sandbox = await createSandbox();
    try {
      const cluster = new FakeCluster();
      cluster.seedNode('n');
      cluster.seedInstalledStack();
      const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
      const env = await target.provision({
        workDir: sandbox.workDir,
        ruleFiles: [],
        settings: {
          'plugin-ca': 'generate',
          'plugin-ca-days': '1',
          'chaos-mesh': 'false',
          'preload-images': 'false',
        },
      });
      await target.teardown();
      expect(cluster.applied.slice(0, 2)).to.deep.equal([
        'Namespace//istio-system',
        'Secret/istio-system/cacerts',
      ]);
      const openssl = (await sandbox.lines()).filter((l) => l.startsWith('openssl'));
      expect(openssl).to.have.length(3);
      expect(openssl[2]).to.include('-days 1 ');
      const lines = await sandbox.lines();
      expect(lines.findIndex((l) => l.startsWith('openssl'))).to.be.lessThan(
        lines.findIndex((l) => l.startsWith('istioctl install')),
      );
      expect(env.timings['istio-plugin-ca']).to.be.a('number');
    } finally {
      await sandbox.cleanup();
    }
  });
});
