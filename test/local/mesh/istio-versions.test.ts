// `--istio VERSION` on the local target, per served version: the version reaches the environment the report
// shows, the istiod and gateway images, the injected proxy image, what each proxy and istiod report (proxy-status,
// `istio_build` in Prometheus), and the target's istioctl (client, control and data plane). Each version is
// checked against the other served one, so a version string still hard-coded anywhere fails one of the two.

import { join } from 'node:path';
import { expect } from 'chai';
import { parseTable } from '../../../clusters/local/istioctl/index.js';
import { LOCAL_ISTIO_VERSIONS } from '../../../clusters/local/index.js';
import { run } from '../../../harness/exec/index.js';
import { MeshdrillError } from '../../../harness/model/index.js';
import {
  applyAndRollOut,
  type Booted,
  bootTarget,
  expectOk,
  fortioDeploymentYaml,
  namespaceYaml,
  until,
  yamlStream,
} from '../support/index.js';
import { fetchText } from './proxy-harness.js';

const SERVED = LOCAL_ISTIO_VERSIONS.map((v) => v.version);

const WORKLOAD = yamlStream(
  namespaceYaml('demo'),
  fortioDeploymentYaml({ namespace: 'demo', name: 'web', labels: { app: 'web', version: 'v1' } }),
);

describe('--istio on the local target', function () {
  this.timeout(180_000);

  it('serves two versions: the 1.29 line and the default 1.30.3', () => {
    expect(SERVED).to.deep.equal(['1.29.9', '1.30.3']);
  });

  for (const version of SERVED) {
    describe(`Istio ${version}`, () => {
      let booted: Booted | undefined;
      const others = SERVED.filter((v) => v !== version);

      before(async () => {
        booted = await bootTarget({ istioVersion: version, dirPrefix: `meshdrill-istio-${version}-` });
        await applyAndRollOut(booted.kubectl, WORKLOAD, 'demo', ['web']);
      });

      after(async () => {
        await booted?.stop();
      });

      it('reports the version in env.versions and runs istiod and the gateway from its images', async () => {
        expect(booted?.env.versions.istio).to.equal(version);
        const images = expectOk(
          await (booted as Booted).kubectl([
            '-n',
            'istio-system',
            'get',
            'deployments',
            '-o',
            'jsonpath={.items[*].spec.template.spec.containers[*].image}',
          ]),
        );
        expect(images.split(' ').sort()).to.deep.equal([
          `docker.io/istio/pilot:${version}`,
          `docker.io/istio/proxyv2:${version}`,
        ]);
      });

      it("injects the version's proxy image, and each proxy reports that version to istiod", async () => {
        const kubectl = (booted as Booted).kubectl;
        const pods = JSON.parse(expectOk(await kubectl(['-n', 'demo', 'get', 'pods', '-o', 'json'])));
        const containers = pods.items.flatMap(
          (p: { spec: { containers: { name: string; image: string }[] } }) => p.spec.containers,
        );
        const proxy = containers.find((c: { name: string }) => c.name === 'istio-proxy');
        expect(proxy?.image).to.equal(`docker.io/istio/proxyv2:${version}`);
        const rows = await until(
          'the demo proxy in proxy-status',
          async () => {
            const r = await istioctl(booted, ['proxy-status']);
            const table = r.exitCode === 0 ? parseTable(r.stdout) : [];
            return table.some((row) => row.NAME?.endsWith('.demo')) ? table : undefined;
          },
          30_000,
        );
        expect(rows.map((row) => row.VERSION)).to.satisfy((vs: string[]) => vs.every((v) => v === version));
      });

      it("istioctl is the version's client and sees its control and data plane", async () => {
        const out = expectOk(await istioctl(booted, ['version']));
        expect(out).to.match(new RegExp(`^client version: ${literal(version)}$`, 'm'));
        expect(out).to.match(new RegExp(`^control plane version: ${literal(version)}$`, 'm'));
        expect(out).to.match(new RegExp(`^data plane version: ${literal(version)} \\(\\d+ prox`, 'm'));
        for (const other of others) expect(out).not.to.include(other);
        expect(expectOk(await istioctl(booted, ['version', '--remote=false', '--short']))).to.equal(
          `${version}\n`,
        );
      });

      it('puts istioctl-<version> of every served release beside istioctl, each its own client', async () => {
        const binDir = (booted as Booted).env.binDirs[0] as string;
        for (const served of SERVED) {
          const r = await run(join(binDir, `istioctl-${served}`), ['version', '--remote=false', '--short'], {
            env: { KUBECONFIG: (booted as Booted).env.kubeconfigPath },
            timeoutMs: 30_000,
          });
          expect(expectOk(r)).to.equal(`${served}\n`);
        }
        // Only the served ones: a release the emulation has no images for has no istioctl here.
        const missing = await run(join(binDir, 'istioctl-1.28.0'), ['version'], { timeoutMs: 10_000 });
        expect(missing.exitCode).to.not.equal(0);
      });

      it('istiod and the proxies publish istio_build with the version, as Prometheus scrapes it', async () => {
        const prometheusUrl = (booted as Booted).env.prometheusUrl;
        const tags = async (component: string): Promise<string[]> => {
          const q = encodeURIComponent(`istio_build{component="${component}"}`);
          const body = JSON.parse(await fetchText(`${prometheusUrl}/api/v1/query?query=${q}`));
          return (body.data?.result ?? []).map((r: { metric: { tag: string } }) => r.metric.tag);
        };
        for (const component of ['pilot', 'proxy']) {
          const seen = await until(
            `istio_build{component="${component}"}`,
            async () => {
              const found = await tags(component);
              return found.length > 0 ? found : undefined;
            },
            30_000,
          );
          expect([...new Set(seen)]).to.deep.equal([version]);
        }
      });
    });
  }

  it('refuses a version it does not serve before anything starts (invalid input, the served list)', async () => {
    const failed = await bootTarget({ istioVersion: '1.29.4' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).to.be.instanceOf(MeshdrillError);
    expect((failed as MeshdrillError).exitCode).to.equal(2);
    expect((failed as MeshdrillError).message).to.equal(
      '--istio 1.29.4: the local target serves Istio 1.29.9, 1.30.3 only',
    );
  });
});

function istioctl(booted: Booted | undefined, args: string[]) {
  // The target puts its istioctl first on the runbook PATH (binDirs): use exactly that one.
  const binDir = booted?.env.binDirs[0];
  if (!binDir) throw new Error('the local target put no istioctl on binDirs');
  return run(join(binDir, 'istioctl'), args, {
    env: { KUBECONFIG: booted.env.kubeconfigPath },
    timeoutMs: 30_000,
  });
}

function literal(text: string): string {
  return text.replaceAll('.', '\\.');
}
