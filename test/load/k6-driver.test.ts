// Tests of the k6 driver with a fake `k6` binary that records its argv and replays a recorded output, of the
// missing-binary error, of the in-cluster manifest builders, and of createLoadDriver.

import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createLoadDriver } from '../../harness/load/index.js';
import { createK6Driver } from '../../harness/load/k6/driver.js';
import { buildK6ConfigMap, buildK6Job, buildK6TestRun, toDnsLabel } from '../../harness/load/k6/manifests.js';
import { MeshdrillError } from '../../harness/model/errors.js';
import { RUN_ID_LABEL } from '../../harness/model/kube-object.js';
import type { LoadSample } from '../../harness/model/load.js';
import { makeProfile } from './support.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/k6/points-basic.ndjson');

describe('load/k6 driver', function () {
  this.timeout(20_000);
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdrill-fake-k6-'));
    // Records argv and env, writes the recorded points to the --out file, exits 99 (thresholds crossed).
    const fake = `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/argv"
printf '%s' "$MESHDRILL_BASE_URL" > "${dir}/base-url"
for arg in "$@"; do case "$arg" in json=*) out="\${arg#json=}";; esac; done
cp "${FIXTURE}" "$out"
exit 99
`;
    await writeFile(join(dir, 'k6'), fake);
    await chmod(join(dir, 'k6'), 0o755);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs k6 on the generated script and streams the parsed samples', async () => {
    const samples: LoadSample[] = [];
    const driver = createK6Driver({ binary: 'k6', pathEnv: dir, pollMs: 50 });
    const run = await driver.start(makeProfile(), 'http://127.0.0.1:18080', (s) => samples.push(s));
    const summary = await run.done;
    const argv = (await readFile(join(dir, 'argv'), 'utf8')).trim().split('\n');
    expect(argv.slice(0, 3)).to.deep.equal(['run', '--quiet', '--out']);
    expect(argv[3]).to.match(/^json=.*points\.json$/);
    expect(argv[4]).to.match(/script\.js$/);
    expect(await readFile(join(dir, 'base-url'), 'utf8')).to.equal('http://127.0.0.1:18080');
    expect(samples.map((s) => s.scheduled)).to.deep.equal([10, 10, 13]);
    expect(summary).to.include({ scheduled: 33, succeeded: 26, dropped: 3 });
  });

  it('says k6 is missing and how to install it', async () => {
    const driver = createK6Driver({ pathEnv: '/nonexistent-dir' });
    try {
      await driver.start(makeProfile(), 'http://127.0.0.1:1', () => {});
      expect.fail('start should have thrown');
    } catch (error) {
      expect(error).to.be.instanceOf(MeshdrillError);
      const e = error as MeshdrillError;
      expect(e.kind).to.equal('environment');
      expect(e.message).to.match(/no `k6` binary is on PATH/);
      expect(e.hint).to.match(/install k6.*built-in driver/);
    }
  });

  it('creates either driver by name', () => {
    expect(createLoadDriver('builtin').name).to.equal('builtin');
    expect(createLoadDriver('k6').name).to.equal('k6');
    expect(() => createLoadDriver('gatling' as 'k6')).to.throw(
      /unknown load driver "gatling": expected one of builtin, k6/,
    );
  });
});

describe('load/k6 manifests', () => {
  const run = {
    name: 'Cert_Expiry load',
    namespace: 'md-cert-expiry',
    runId: 'run-20240514-1',
    scenario: 'cert-expiry',
    script: '// script',
    baseUrl: 'http://istio-ingressgateway.istio-system',
    parallelism: 4,
  };

  it('puts the script in a ConfigMap the Job and the TestRun both mount', () => {
    const cm = buildK6ConfigMap(run);
    expect(cm.metadata).to.deep.include({ name: 'cert-expiry-load-script', namespace: 'md-cert-expiry' });
    expect(cm.data).to.deep.equal({ 'script.js': '// script' });

    const job = buildK6Job(run);
    expect(job).to.deep.include({ apiVersion: 'batch/v1', kind: 'Job' });
    const spec = job.spec as {
      template: {
        spec: { volumes: { configMap: { name: string } }[]; containers: { image: string; args: string[] }[] };
      };
    };
    expect(spec.template.spec.volumes[0]?.configMap.name).to.equal('cert-expiry-load-script');
    expect(spec.template.spec.containers[0]?.image).to.match(/^grafana\/k6:/);
    expect(spec.template.spec.containers[0]?.args).to.include('/scripts/script.js');

    const testRun = buildK6TestRun(run);
    expect(testRun).to.deep.include({ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun' });
    expect(testRun.spec).to.deep.include({
      parallelism: 4,
      script: { configMap: { name: 'cert-expiry-load-script', file: 'script.js' } },
    });
  });

  it('labels every object with the run id and keeps names DNS-safe', () => {
    for (const object of [buildK6ConfigMap(run), buildK6Job(run), buildK6TestRun(run)]) {
      expect(object.metadata.labels?.[RUN_ID_LABEL]).to.equal('run-20240514-1');
      expect(object.metadata.name).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(toDnsLabel(`-${'x'.repeat(80)}-`)).to.have.length(63);
    expect(toDnsLabel('***')).to.equal('k6');
  });
});
