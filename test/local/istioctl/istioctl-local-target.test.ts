// The local target's istioctl through its real wrapper (harness/exec run() with KUBECONFIG), against a booted
// target with the mesh on: each command's output parsed by its columns, proxy-status failing while istiod is
// scaled to 0 (ISTIO-FACTS.md "Control plane outage") and working again after, and analyze finding each planted
// mistake (IST0101 missing host / subset, case-sensitive subset name, missing gateway; IST0130) with exit 79
// while a clean namespace passes.

import { join } from 'node:path';
import { expect } from 'chai';
import { ANALYZER_FOUND_ISSUES, parseTable } from '../../../clusters/local/istioctl/index.js';
import { type ExecResult, run } from '../../../harness/exec/index.js';
import {
  applyAndRollOut,
  type Booted,
  bootTarget,
  destinationRuleYaml,
  expectOk,
  fortioDeploymentYaml,
  lateKubectl,
  namespaceYaml,
  serviceYaml,
  until,
  yamlStream,
} from '../support/index.js';

const WORKLOAD = yamlStream(
  namespaceYaml('demo'),
  fortioDeploymentYaml({ namespace: 'demo', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } }),
  fortioDeploymentYaml({ namespace: 'demo', name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' } }),
  serviceYaml('demo', 'reviews'),
  destinationRuleYaml('demo', 'reviews', ['v1', 'v2']),
  `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: demo }
spec:
  hosts: [reviews]
  http:
  - match: [{ uri: { prefix: /v2 } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]
`,
  namespaceYaml('broken'),
  serviceYaml('broken', 'details'),
  destinationRuleYaml('broken', 'details', ['v1']),
  `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: details-subset, namespace: broken }
spec:
  hosts: [details]
  http:
  - match: [{ uri: { prefix: /next } }]
    route: [{ destination: { host: details, subset: v3 } }]
  - match: [{ headers: { x-canary: { exact: "true" } } }]
    route: [{ destination: { host: details, subset: V1 } }]
  - route: [{ destination: { host: details, subset: v1 } }]
  - route: [{ destination: { host: details } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings, namespace: broken }
spec:
  hosts: [ratings.example.com]
  gateways: [no-such-gateway]
  http:
  - route: [{ destination: { host: ratings } }]
`,
  namespaceYaml('clean'),
  serviceYaml('clean', 'web'),
  `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: web, namespace: clean }
spec:
  host: web.clean.svc.cluster.local
  subsets: [{ name: v1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: clean }
spec:
  hosts: [web]
  http:
  - route: [{ destination: { host: web, subset: v1 } }]
`,
);

describe('istioctl on the local target (real wrapper, KUBECONFIG, booted mesh)', function () {
  this.timeout(180_000);
  let booted: Booted | undefined;
  let istioctlPath = '';
  let pods: { name: string; ip: string; version: string }[] = [];

  const istioctl = (args: string[]): Promise<ExecResult> =>
    run(istioctlPath, args, {
      env: { KUBECONFIG: booted?.env.kubeconfigPath ?? '' },
      timeoutMs: 30_000,
    });

  before(async () => {
    booted = await bootTarget();
    // The target puts its istioctl first on the runbook PATH (binDirs): use exactly that one.
    const [binDir] = booted.env.binDirs;
    if (!binDir) throw new Error('the local target put no istioctl on binDirs');
    istioctlPath = join(binDir, 'istioctl');
    await applyAndRollOut(booted.kubectl, WORKLOAD, 'demo', ['reviews-v1', 'reviews-v2']);
    const list = JSON.parse(expectOk(await booted.kubectl(['-n', 'demo', 'get', 'pods', '-o', 'json'])));
    pods = list.items.map(
      (p: { metadata: { name: string; labels: { version: string } }; status: { podIP: string } }) => ({
        name: p.metadata.name,
        ip: p.status.podIP,
        version: p.metadata.labels.version,
      }),
    );
    expect(pods).to.have.length(2);
  });

  after(async () => {
    await booted?.stop();
  });

  const v1 = () => pods.find((p) => p.version === 'v1') ?? { name: '', ip: '', version: '' };

  it('version reports client, control plane and data plane versions', async () => {
    const out = expectOk(await istioctl(['version']));
    expect(out).to.match(/^client version: 1\.30\.3$/m);
    expect(out).to.match(/^control plane version: 1\.30\.3$/m);
    const proxies = Number(/^data plane version: 1\.30\.3 \((\d+) prox/m.exec(out)?.[1]);
    expect(proxies).to.be.at.least(3);
    expect(expectOk(await istioctl(['version', '--remote=false', '--short']))).to.equal('1.30.3\n');
  });

  it('--help lists the commands; an unknown command fails like cobra', async () => {
    const help = expectOk(await istioctl(['--help']));
    for (const c of ['proxy-status', 'proxy-config', 'analyze', 'version']) expect(help).to.contain(c);
    const bad = await istioctl(['frobnicate']);
    expect(bad.exitCode).to.equal(1);
    expect(bad.stderr).to.contain('Error: unknown command "frobnicate" for "istioctl"');
  });

  it('proxy-status: one SYNCED row per proxy with the real columns', async () => {
    const rows = await until(
      'every proxy SYNCED',
      async () => {
        const r = await istioctl(['proxy-status']);
        if (r.exitCode !== 0) return undefined;
        const table = parseTable(r.stdout);
        const ours = table.filter((row) => (row.NAME ?? '').endsWith('.demo'));
        return ours.length === 2 && ours.every((row) => row.CDS === 'SYNCED')
          ? { table, text: r.stdout }
          : undefined;
      },
      30_000,
    );
    expect(rows.text.split('\n')[0]?.split(/\s{2,}/)).to.deep.equal([
      'NAME',
      'CLUSTER',
      'CDS',
      'LDS',
      'EDS',
      'RDS',
      'ECDS',
      'ISTIOD',
      'VERSION',
    ]);
    const names = rows.table.map((r) => r.NAME);
    for (const p of pods) expect(names).to.include(`${p.name}.demo`);
    expect(names.some((n) => n?.startsWith('istio-ingressgateway-') && n.endsWith('.istio-system'))).to.equal(
      true,
    );
    for (const row of rows.table.filter((r) => r.NAME?.endsWith('.demo'))) {
      expect(row).to.include({
        CLUSTER: 'Kubernetes',
        LDS: 'SYNCED',
        EDS: 'SYNCED',
        RDS: 'SYNCED',
        ECDS: 'NOT SENT',
      });
      expect(row.ISTIOD).to.match(/^istiod-/);
      expect(row.VERSION).to.equal('1.30.3');
    }
  });

  it('proxy-status POD compares what istiod would send with what the proxy holds', async () => {
    const out = expectOk(await istioctl(['proxy-status', `${v1().name}.demo`]));
    expect(out).to.equal('Clusters Match\nListeners Match\nRoutes Match\n');
  });

  it('proxy-config cluster: outbound subsets with their DestinationRule, inbound and static clusters; filters', async () => {
    const out = expectOk(await istioctl(['proxy-config', 'cluster', v1().name, '-n', 'demo']));
    const table = parseTable(out);
    expect(Object.keys(table[0] ?? {})).to.deep.equal([
      'SERVICE FQDN',
      'PORT',
      'SUBSET',
      'DIRECTION',
      'TYPE',
      'DESTINATION RULE',
    ]);
    const reviews = table.filter((r) => r['SERVICE FQDN'] === 'reviews.demo.svc.cluster.local');
    expect(reviews.map((r) => r.SUBSET)).to.deep.equal(['-', 'v1', 'v2']);
    for (const r of reviews) {
      expect(r).to.include({
        PORT: '8080',
        DIRECTION: 'outbound',
        TYPE: 'EDS',
        'DESTINATION RULE': 'reviews.demo',
      });
    }
    expect(table.find((r) => r.DIRECTION === 'inbound')).to.include({
      'SERVICE FQDN': '',
      PORT: '8080',
      TYPE: 'ORIGINAL_DST',
    });
    for (const name of ['BlackHoleCluster', 'PassthroughCluster', 'xds-grpc']) {
      expect(table.find((r) => r['SERVICE FQDN'] === name)).to.include({ PORT: '-', SUBSET: '-' });
    }
    // The seed's `| grep <svc>` and the real filters.
    const filtered = parseTable(
      expectOk(
        await istioctl(['pc', 'clusters', `${v1().name}.demo`, '--fqdn', 'reviews', '--subset', 'v2']),
      ),
    );
    expect(filtered).to.have.length(1);
    const json = JSON.parse(
      expectOk(
        await istioctl(['proxy-config', 'cluster', `${v1().name}.demo`, '--fqdn', 'reviews', '-o', 'json']),
      ),
    );
    expect(json.map((c: { name: string }) => c.name)).to.deep.equal([
      'outbound|8080||reviews.demo.svc.cluster.local',
      'outbound|8080|v1|reviews.demo.svc.cluster.local',
      'outbound|8080|v2|reviews.demo.svc.cluster.local',
    ]);
    expect(json[0].metadata.filterMetadata.istio.config).to.equal(
      '/apis/networking.istio.io/v1alpha3/namespaces/demo/destination-rule/reviews',
    );
  });

  it('proxy-config routes --name 8080: the VirtualService routes, in order, with their matches', async () => {
    const out = expectOk(await istioctl(['proxy-config', 'routes', `${v1().name}.demo`, '--name', '8080']));
    const table = parseTable(out);
    expect(Object.keys(table[0] ?? {})).to.deep.equal([
      'NAME',
      'VHOST NAME',
      'DOMAINS',
      'MATCH',
      'VIRTUAL SERVICE',
    ]);
    const reviews = table.filter((r) => r['VHOST NAME'] === 'reviews.demo.svc.cluster.local:8080');
    expect(reviews.map((r) => [r.NAME, r.DOMAINS, r.MATCH, r['VIRTUAL SERVICE']])).to.deep.equal([
      ['8080', 'reviews, reviews.demo', '/v2*', 'reviews.demo'],
      ['8080', 'reviews, reviews.demo', '/*', 'reviews.demo'],
    ]);
    expect(table.every((r) => r.NAME === '8080')).to.equal(true);
    const json = JSON.parse(
      expectOk(await istioctl(['pc', 'r', `${v1().name}.demo`, '--name', '8080', '-o', 'json'])),
    );
    const vhost = json[0].virtualHosts.find(
      (v: { name: string }) => v.name === 'reviews.demo.svc.cluster.local:8080',
    );
    expect(vhost.routes[0].route.cluster).to.equal('outbound|8080|v2|reviews.demo.svc.cluster.local');
  });

  it('proxy-config endpoints: both pods HEALTHY behind the service clusters; --cluster filters', async () => {
    const out = expectOk(await istioctl(['proxy-config', 'endpoints', `${v1().name}.demo`]));
    const table = parseTable(out);
    expect(Object.keys(table[0] ?? {})).to.deep.equal(['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER']);
    const all = table.filter((r) => r.CLUSTER === 'outbound|8080||reviews.demo.svc.cluster.local');
    expect(all.map((r) => r.ENDPOINT).sort()).to.deep.equal(pods.map((p) => `${p.ip}:8080`).sort());
    expect(all.every((r) => r.STATUS === 'HEALTHY' && r['OUTLIER CHECK'] === 'OK')).to.equal(true);
    const onlyV2 = parseTable(
      expectOk(
        await istioctl([
          'pc',
          'ep',
          `${v1().name}.demo`,
          '--cluster',
          'outbound|8080|v2|reviews.demo.svc.cluster.local',
        ]),
      ),
    );
    expect(onlyV2.map((r) => r.ENDPOINT)).to.deep.equal([`${pods.find((p) => p.version === 'v2')?.ip}:8080`]);
  });

  it('proxy-config secret: the workload certificate is ACTIVE and valid; -o json has the seed jq path', async () => {
    const table = parseTable(expectOk(await istioctl(['proxy-config', 'secret', `${v1().name}.demo`])));
    expect(Object.keys(table[0] ?? {})).to.deep.equal([
      'RESOURCE NAME',
      'TYPE',
      'STATUS',
      'VALID CERT',
      'SERIAL NUMBER',
      'NOT AFTER',
      'NOT BEFORE',
    ]);
    const def = table.find((r) => r['RESOURCE NAME'] === 'default');
    expect(def).to.include({ TYPE: 'Cert Chain', STATUS: 'ACTIVE', 'VALID CERT': 'true' });
    expect(Date.parse(def?.['NOT AFTER'] ?? '')).to.be.greaterThan(Date.now());
    const json = JSON.parse(
      expectOk(await istioctl(['proxy-config', 'secret', `${v1().name}.demo`, '-o', 'json'])),
    );
    expect(json.dynamicActiveSecrets[0].name).to.equal('default');
    expect(json.dynamicActiveSecrets[0].secret).to.have.property('tlsCertificate');
  });

  it('analyze -n broken finds each planted mistake and exits 79; a clean namespace passes', async () => {
    const broken = await istioctl(['analyze', '-n', 'broken']);
    expect(broken.exitCode).to.equal(ANALYZER_FOUND_ISSUES);
    const lines = broken.stdout.trim().split('\n');
    expect(lines).to.include.members([
      'Error [IST0101] (VirtualService broken/details-subset) Referenced host+subset in destinationrule not found: "details+v3"',
      'Error [IST0101] (VirtualService broken/details-subset) Referenced host+subset in destinationrule not found: "details+V1"',
      'Error [IST0101] (VirtualService broken/ratings) Referenced host not found: "ratings"',
      'Error [IST0101] (VirtualService broken/ratings) Referenced gateway not found: "no-such-gateway"',
      'Warning [IST0130] (VirtualService broken/details-subset) VirtualService rule #3 not used (only the last rule can have no matches).',
    ]);
    expect(broken.stderr).to.contain('Error: Analyzers found issues when analyzing namespace: broken.');

    const clean = await istioctl(['analyze', '-n', 'clean']);
    expect(clean.exitCode).to.equal(0);
    expect(clean.stdout).to.equal('');
    expect(clean.stderr).to.equal('\u2714 No validation issues found when analyzing namespace: clean.\n');

    const everywhere = await istioctl(['analyze', '-A', '-o', 'json']);
    expect(everywhere.exitCode).to.equal(ANALYZER_FOUND_ISSUES);
    const messages = JSON.parse(everywhere.stdout) as { code: string; origin: string }[];
    expect(messages.filter((m) => m.code === 'IST0101')).to.have.length(4);
    expect(
      messages.some((m) => m.origin.startsWith('VirtualService demo/') || m.origin.includes('clean')),
    ).to.equal(false);
    expect(everywhere.stderr).to.contain('when analyzing all namespaces.');
  });

  it('proxy-status fails outright while istiod is scaled to 0, and works again after', async () => {
    const kubectl = lateKubectl(() => booted);
    expectOk(await kubectl(['-n', 'istio-system', 'scale', 'deployment/istiod', '--replicas=0']));
    const failed = await until(
      'proxy-status to fail',
      async () => {
        const r = await istioctl(['proxy-status']);
        return r.exitCode !== 0 ? r : undefined;
      },
      30_000,
    );
    expect(failed.exitCode).to.equal(1);
    expect(failed.stdout).to.equal('');
    expect(failed.stderr).to.equal('Error: no running Istio pods in "istio-system"\n');
    // The proxies still hold their configuration: proxy-config keeps working (it reads the proxy itself).
    expectOk(await istioctl(['proxy-config', 'cluster', `${v1().name}.demo`, '--fqdn', 'reviews']));

    expectOk(await kubectl(['-n', 'istio-system', 'scale', 'deployment/istiod', '--replicas=1']));
    const back = await until(
      'proxy-status to list the demo proxies SYNCED again',
      async () => {
        const r = await istioctl(['proxy-status']);
        if (r.exitCode !== 0) return undefined;
        const ours = parseTable(r.stdout).filter((row) => row.NAME?.endsWith('.demo'));
        return ours.length === 2 && ours.every((row) => row.CDS === 'SYNCED') ? ours : undefined;
      },
      60_000,
    );
    expect(back).to.have.length(2);
  });
});
