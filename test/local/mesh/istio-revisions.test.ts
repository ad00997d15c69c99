// Istio revisions on the local target, driven through its istioctl and kubectl as a canary upgrade would be:
// revision `canary` (1.30.3) installed beside the default one (1.29.9); a namespace relabelled to it keeps its
// proxies on the default istiod until its workloads restart (the negative control), then proxy-status shows them
// on istiod-canary with 1.30.3; revision tags; uninstalling the default revision (after its prompt, answered on
// stdin) leaves its old proxies without an istiod and new pods in its namespaces without a sidecar; after a
// reinstall, the `default` tag moves `istio-injection=enabled` to canary and switches the default webhooks off.

import { join } from 'node:path';
import { expect } from 'chai';
import { parseTable } from '../../../clusters/local/istioctl/index.js';
import { run } from '../../../harness/exec/index.js';
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

const OLD = '1.29.9';
const NEW = '1.30.3';

const WORKLOAD = yamlStream(
  namespaceYaml('demo'),
  fortioDeploymentYaml({ namespace: 'demo', name: 'web', labels: { app: 'web', version: 'v1' } }),
  namespaceYaml('legacy'),
  fortioDeploymentYaml({ namespace: 'legacy', name: 'old', labels: { app: 'old', version: 'v1' } }),
);

describe('Istio revisions on the local target (istioctl install --revision, tags, uninstall)', function () {
  this.timeout(240_000);
  let booted: Booted | undefined;

  before(async () => {
    booted = await bootTarget({ istioVersion: OLD, dirPrefix: 'meshdrill-revisions-' });
    await applyAndRollOut(booted.kubectl, WORKLOAD, 'demo', ['web']);
    expectOk(await booted.kubectl(['-n', 'legacy', 'rollout', 'status', 'deployment/old', '--timeout=60s']));
  });

  after(async () => {
    await booted?.stop();
  });

  const kubectl = (args: string[]) => (booted as Booted).kubectl(args);

  /** proxy-status rows of one namespace, once every one of its pods is listed with the wanted istiod. */
  const rowsOf = (namespace: string, istiod: RegExp) =>
    until(
      `${namespace} proxies on ${istiod}`,
      async () => {
        const r = await istioctl(booted, ['proxy-status']);
        const rows =
          r.exitCode === 0 ? parseTable(r.stdout).filter((row) => row.NAME?.endsWith(`.${namespace}`)) : [];
        return rows.length > 0 && rows.every((row) => istiod.test(row.ISTIOD ?? '')) ? rows : undefined;
      },
      60_000,
    );

  it('install --set revision=canary --set tag=1.30.3 -y: istiod-canary, its configmaps and webhook beside istiod', async () => {
    const refused = await istioctl(booted, ['install', '--set', 'revision=canary']);
    expect(refused.exitCode).to.equal(1);
    expect(refused.stdout).to.include(
      `This will install the Istio ${OLD} profile "default" into the cluster. Proceed? (y/N)`,
    );
    const out = expectOk(
      await istioctl(booted, ['install', '--set', 'revision=canary', '--set', `tag=${NEW}`, '-y'], 120_000),
    );
    expect(out).to.include('✔ Istiod installed').and.to.include('✔ Installation complete');
    const names = (kind: string, ns: string[] = ['-n', 'istio-system']) =>
      kubectl([...ns, 'get', kind, '-l', 'istio.io/rev=canary', '-o', 'jsonpath={.items[*].metadata.name}']);
    expect(expectOk(await names('deployments')).split(' ')).to.deep.equal(['istiod-canary']);
    expect(expectOk(await names('services')).split(' ')).to.deep.equal(['istiod-canary']);
    expect(
      expectOk(await names('configmaps'))
        .split(' ')
        .sort(),
    ).to.deep.equal(['istio-canary', 'istio-sidecar-injector-canary']);
    expect(expectOk(await names('mutatingwebhookconfigurations', [])).split(' ')).to.deep.equal([
      'istio-sidecar-injector-canary',
    ]);
    // kubectl's table, as the canary-upgrade page shows it: the default revision's 4 webhooks, canary's 2.
    const table = expectOk(await kubectl(['get', 'mutatingwebhookconfigurations']));
    expect(table).to.match(/^NAME\s+WEBHOOKS\s+AGE$/m);
    expect(table).to.match(/^istio-sidecar-injector\s+4\s/m);
    expect(table).to.match(/^istio-sidecar-injector-canary\s+2\s/m);
    const version = expectOk(await istioctl(booted, ['version']));
    // Versions differ: a line per istiod pod instead of one control plane line (coalesceVersions).
    const pilots = version.split('\n').filter((l) => l.startsWith('pilot version: '));
    expect(pilots.sort()).to.deep.equal([`pilot version: ${OLD}`, `pilot version: ${NEW}`]);
    expect(version).not.to.include('control plane version');
    expect(version).to.match(
      new RegExp(`^data plane version: ${OLD.replaceAll('.', '\\.')} \\(\\d+ proxies\\)$`, 'm'),
    );
  });

  it('relabelling a namespace without a restart leaves its proxies on the old istiod (negative control)', async () => {
    expectOk(await kubectl(['label', 'namespace', 'demo', 'istio-injection-', 'istio.io/rev=canary']));
    await new Promise((r) => setTimeout(r, 1500));
    const rows = await rowsOf('demo', /^istiod-(?!canary)/);
    expect(rows.map((r) => r.VERSION)).to.satisfy((vs: string[]) => vs.every((v) => v === OLD));
  });

  it('after a rollout restart the proxies are on istiod-canary and report 1.30.3', async () => {
    expectOk(await kubectl(['-n', 'demo', 'rollout', 'restart', 'deployment/web']));
    expectOk(await kubectl(['-n', 'demo', 'rollout', 'status', 'deployment/web', '--timeout=90s']));
    const rows = await rowsOf('demo', /^istiod-canary-/);
    expect(rows.map((r) => r.VERSION)).to.satisfy((vs: string[]) => vs.every((v) => v === NEW));
    const pods = JSON.parse(expectOk(await kubectl(['-n', 'demo', 'get', 'pods', '-o', 'json'])));
    for (const pod of pods.items) {
      if (pod.metadata.deletionTimestamp) continue;
      expect(pod.metadata.annotations['istio.io/rev']).to.equal('canary');
    }
    const version = expectOk(await istioctl(booted, ['version']));
    expect(version).to.match(
      new RegExp(`^data plane version: .*${NEW.replaceAll('.', '\\.')} \\(\\d+ prox`, 'm'),
    );
  });

  it('tag set / list / remove, with the real checks and messages', async () => {
    const set = expectOk(await istioctl(booted, ['tag', 'set', 'prod', '--revision', 'canary']));
    expect(set).to.include(`Revision tag "prod" created, referencing control plane revision "canary".`);
    const again = await istioctl(booted, ['tag', 'set', 'prod', '--revision', 'canary']);
    expect(again.stderr).to.include('Error: revision tag "prod" already exists, and --overwrite is false');
    const clash = await istioctl(booted, ['tag', 'set', 'canary', '--revision', 'default']);
    expect(clash.stderr).to.include('found existing control plane revision with same name');
    const missing = await istioctl(booted, ['tag', 'set', 'x', '--revision', 'nope']);
    expect(missing.stderr).to.include(
      'cannot find MutatingWebhookConfiguration or Service with revision "nope"',
    );
    expectOk(await kubectl(['create', 'namespace', 'tagged']));
    expectOk(await kubectl(['label', 'namespace', 'tagged', 'istio.io/rev=prod']));
    // tag list pads its columns by one space (tabwriter padding 1), so a row reads as words.
    const list = expectOk(await istioctl(booted, ['tag', 'list'])).split('\n');
    expect(list[0]?.split(/\s+/)).to.deep.equal(['TAG', 'REVISION', 'NAMESPACES']);
    expect(list.find((l) => l.startsWith('prod '))?.split(/\s+/)).to.deep.equal(['prod', 'canary', 'tagged']);
    const aborted = expectOk(await istioctl(booted, ['tag', 'remove', 'prod']));
    expect(aborted).to.include('Caution, found 1 namespace(s) still injected by tag "prod": tagged');
    expect(aborted).to.include('Aborting operation.');
    expect(expectOk(await istioctl(booted, ['tag', 'remove', 'prod', '-y']))).to.equal(
      'Revision tag prod removed\n',
    );
    expect(expectOk(await istioctl(booted, ['tag', 'list']))).not.to.include('prod');
  });

  it('uninstall --revision default asks first, then removes it: old proxies lose their istiod, new pods get no sidecar', async () => {
    const asked = await istioctl(booted, ['uninstall', '--revision', 'default']);
    expect(asked.exitCode).to.equal(1);
    expect(asked.stdout).to.match(
      /There are still \d+ proxies pointing to the control plane revision default/,
    );
    expect(asked.stdout).to.include('.legacy');
    expect(asked.stdout).to.include(
      'You are about to remove the following gateways: istio-ingressgateway. To avoid downtime,',
    );
    expect(asked.stdout).to.include('Cancelled.');
    // Answered on stdin, as a user at the prompt would.
    const no = await istioctl(booted, ['uninstall', '--revision', 'default'], 30_000, 'maybe\nn\n');
    expect(no.stdout.match(/Proceed\? \(y\/N\)/g)).to.have.length(2);
    expect(no.stdout).to.include('Cancelled.');
    expect(no.exitCode).to.equal(1);
    const done = expectOk(await istioctl(booted, ['uninstall', '--revision', 'default'], 60_000, 'yes\n'));
    expect(done).to.include('Removed apps/v1, Kind=Deployment/istiod.istio-system.');
    expect(done).to.include(
      'Removed admissionregistration.k8s.io/v1, Kind=MutatingWebhookConfiguration/istio-sidecar-injector.',
    );
    expect(done).to.include('Removed apps/v1, Kind=Deployment/istio-ingressgateway.istio-system.');
    expect(done).to.include('✔ Uninstall complete');
    const gone = await istioctl(booted, ['uninstall', '--revision', 'default', '-y']);
    expect(gone.stderr).to.equal('Error: could not find target revision\n');
    // The canary istiod does not know the legacy proxies; they keep their last config without xDS.
    await until(
      'proxy-status without the legacy proxy',
      async () => {
        const r = await istioctl(booted, ['proxy-status']);
        return r.exitCode === 0 && !r.stdout.includes('.legacy') ? r.stdout : undefined;
      },
      30_000,
    );
    expectOk(await kubectl(['-n', 'legacy', 'run', 'fresh', '--image=fortio/fortio', '--restart=Never']));
    const containers = expectOk(
      await kubectl(['-n', 'legacy', 'get', 'pod', 'fresh', '-o', 'jsonpath={.spec.containers[*].name}']),
    );
    expect(containers).to.equal('fresh');
  });

  it('after a reinstall, tag set default --revision canary: istio-injection=enabled goes to canary, the default webhook is switched off', async () => {
    // The default revision again (as `istioctl install` without a revision), so that there is one to switch off.
    const installed = expectOk(await istioctl(booted, ['install', '-y'], 120_000));
    expect(installed).to.include('✔ Ingress gateways installed');
    const set = expectOk(await istioctl(booted, ['tag', 'set', 'default', '--revision', 'canary']));
    expect(set).to.include('Revision tag "default" created, referencing control plane revision "canary".');
    const hooks = JSON.parse(
      expectOk(
        await kubectl(['get', 'mutatingwebhookconfiguration', 'istio-sidecar-injector', '-o', 'json']),
      ),
    );
    for (const hook of hooks.webhooks) {
      expect(hook.namespaceSelector.matchExpressions[0].key).to.equal('istio.io/deactivated');
    }
    expectOk(
      await kubectl(['-n', 'legacy', 'run', 'tagged-default', '--image=fortio/fortio', '--restart=Never']),
    );
    const pod = JSON.parse(
      expectOk(await kubectl(['-n', 'legacy', 'get', 'pod', 'tagged-default', '-o', 'json'])),
    );
    expect(pod.metadata.annotations['istio.io/rev']).to.equal('canary');
    const proxy = pod.spec.containers.find((c: { name: string }) => c.name === 'istio-proxy');
    expect(proxy.image).to.equal(`docker.io/istio/proxyv2:${NEW}`);
    expectOk(await kubectl(['-n', 'legacy', 'delete', 'pod', 'tagged-default', '--wait=false']));
  });
});

function istioctl(booted: Booted | undefined, args: string[], timeoutMs = 30_000, input?: string) {
  const binDir = booted?.env.binDirs[0];
  if (!binDir) throw new Error('the local target put no istioctl on binDirs');
  return run(join(binDir, 'istioctl'), args, {
    env: { KUBECONFIG: booted.env.kubeconfigPath },
    timeoutMs,
    ...(input === undefined ? {} : { input }),
  });
}
