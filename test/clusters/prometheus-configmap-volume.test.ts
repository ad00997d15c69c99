// The kind target's Prometheus, started for real (Debian's prometheus) from the manifests meshdrill applies, with
// its two ConfigMaps laid out exactly as the kubelet mounts a ConfigMap volume: a timestamped `..<date>`
// directory holding the keys, `..data` pointing at it, and a symlink per key. Prometheus must come up Ready with
// every rule group of the pack loaded. Negative control: the glob `rules/*` on the same layout matches `..data`,
// and Prometheus exits (a real cluster's Prometheus never became Ready with it).

import { expect } from 'chai';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { freePort } from '../support/ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  buildPrometheusConfig,
  buildPrometheusManifests,
  PROMETHEUS_RULES_DIR,
  spawnBackground,
} from '../../clusters/shared/index.js';
import type { KubeObject } from '../../harness/model/kube-object.js';

const ALERTS_DIR = 'scenarios/alerts';

/** Writes a ConfigMap's data as the kubelet's atomic writer lays out a ConfigMap volume. */
function mountConfigMap(dir: string, data: Record<string, string>): void {
  const stamp = '..2026_12_03_16_00_00.123456789';
  mkdirSync(join(dir, stamp), { recursive: true });
  for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, stamp, key), value);
  symlinkSync(stamp, join(dir, '..data'));
  for (const key of Object.keys(data)) symlinkSync(join('..data', key), join(dir, key));
}

function configMap(objects: KubeObject[], suffix: string): Record<string, string> {
  const found = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name?.endsWith(suffix));
  return (found as unknown as { data: Record<string, string> }).data;
}

/**
 * The rendered prometheus.yml with its mount points moved under `root`. Debian's Prometheus 2.42 is built
 * without Kubernetes service discovery: the pod job gets static targets and keeps its relabelling.
 */
function relocate(configYaml: string, root: string, ruleFiles?: string[]): string {
  const config = parse(configYaml) as Record<string, unknown>;
  config.rule_files = (ruleFiles ?? (config.rule_files as string[])).map((f) =>
    f.replace(PROMETHEUS_RULES_DIR, join(root, 'rules')),
  );
  for (const job of config.scrape_configs as Record<string, unknown>[]) {
    if (!job.kubernetes_sd_configs) continue;
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['127.0.0.1:1'] }];
  }
  return stringify(config);
}

describe('kind Prometheus on a mounted ConfigMap (real prometheus)', function () {
  this.timeout(60_000);
  let root: string;
  let objects: KubeObject[];
  let groups: number;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'meshdrill-prom-volume-'));
    const ruleFiles = readdirSync(ALERTS_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((name) => ({ name, content: readFileSync(join(ALERTS_DIR, name), 'utf8') }));
    groups = ruleFiles.reduce((n, f) => n + (parse(f.content) as { groups: unknown[] }).groups.length, 0);
    const options = { scrapeIntervalMs: 5000, evaluationIntervalMs: 5000, ruleFiles };
    objects = buildPrometheusManifests(options, stringify(buildPrometheusConfig(options)));
    mountConfigMap(join(root, 'rules'), configMap(objects, '-rules'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Starts Prometheus with the Deployment's own arguments, paths moved under `root`. */
  async function start(configYaml: string) {
    mountConfigMap(join(root, 'config'), { 'prometheus.yml': configYaml });
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    const port = await freePort();
    const args = (deployment.spec.template.spec.containers[0]?.args ?? []).map((a) =>
      a
        .replace('/etc/prometheus/config', join(root, 'config'))
        .replace('=/prometheus', `=${join(root, 'data')}`),
    );
    const child = spawnBackground('prometheus', [...args, `--web.listen-address=127.0.0.1:${port}`], {
      env: { PATH: process.env.PATH },
    });
    return { child, url: `http://127.0.0.1:${port}` };
  }

  it('comes up Ready with every rule group of the pack loaded', async () => {
    const configYaml = configMap(objects, '-config')['prometheus.yml'] as string;
    const { child, url } = await start(relocate(configYaml, root));
    try {
      let ready = false;
      for (let i = 0; i < 100 && !ready; i++) {
        ready = await fetch(`${url}/-/ready`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      expect(ready, child.output().stderr.slice(-2000)).to.equal(true);
      const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: unknown[] } };
      expect(groups).to.be.greaterThan(0);
      expect(body.data.groups).to.have.length(groups);
    } finally {
      await child.stop();
    }
  });

  it('negative control: rules/* matches the volume’s ..data directory, and Prometheus exits', async () => {
    const configYaml = configMap(objects, '-config')['prometheus.yml'] as string;
    const { child } = await start(relocate(configYaml, root, [`${PROMETHEUS_RULES_DIR}/*`]));
    try {
      const exit = await Promise.race([
        child.exited,
        new Promise((r) => setTimeout(() => r('running'), 20_000)),
      ]);
      expect(exit).to.deep.include({ exitCode: 1 });
      expect(child.output().stderr).to.include('is a directory');
    } finally {
      await child.stop();
    }
  });
});
