// The kind target's Alertmanager as rendered: its configuration passes the real `amtool check-config`; the real
// binary (Debian's prometheus-alertmanager) starts with the Deployment's own arguments from the ConfigMap laid out
// as a volume, and its v2 API shows the routing meshdrill reads back (the same bound the local target uses); and
// the real Prometheus, given the rendered alerting section, sends to that Alertmanager's v2 API.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  ALERTMANAGER_ROUTING_DELAY_MS,
  ALERTMANAGER_SERVICE_ADDRESS,
  buildAlertmanagerConfig,
  buildAlertmanagerManifests,
  buildPrometheusConfig,
  readAlertmanagerRouting,
  spawnBackground,
} from '../../clusters/shared/index.js';
import type { KubeObject } from '../../harness/model/kube-object.js';
import { freePort } from '../support/ports.js';

/** As the receiver on a kind network's gateway would be addressed. */
const WEBHOOK = 'http://172.18.0.1:40123';

const configMapData = (objects: KubeObject[]): Record<string, string> =>
  (objects.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> }).data;

/** Writes a ConfigMap's data as the kubelet lays out a ConfigMap volume (`..data` and a symlink per key). */
function mountConfigMap(dir: string, data: Record<string, string>): void {
  const stamp = '..2026_12_06_16_00_00.000000001';
  mkdirSync(join(dir, stamp), { recursive: true });
  for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, stamp, key), value);
  symlinkSync(stamp, join(dir, '..data'));
  for (const key of Object.keys(data)) symlinkSync(join('..data', key), join(dir, key));
}

async function waitReady(url: string, output: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect.fail(`${url} never became ready: ${output().slice(-2000)}`);
}

describe("kind's Alertmanager as rendered (real amtool, alertmanager, prometheus)", function () {
  this.timeout(60_000);
  let root: string;
  const objects = buildAlertmanagerManifests(buildAlertmanagerConfig(WEBHOOK));
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'meshdrill-am-kind-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('passes amtool check-config; a route to a receiver it does not define does not (negative control)', () => {
    const config = configMapData(objects)['alertmanager.yml'] as string;
    const check = (text: string) => {
      const file = join(root, `check-${Math.random().toString(16).slice(2)}.yml`);
      writeFileSync(file, text);
      return spawnSync('amtool', ['check-config', file], { encoding: 'utf8' });
    };
    const good = check(config);
    expect(good.status, good.stdout + good.stderr).to.equal(0);
    expect(good.stdout).to.include('SUCCESS');
    const broken = check(config.replace('receiver: meshdrill', 'receiver: pager'));
    expect(broken.status).to.not.equal(0);
    expect(broken.stdout + broken.stderr).to.include('undefined receiver "pager"');
  });

  it("starts with the Deployment's arguments, and its API shows the routing meshdrill bounds the delay by", async () => {
    mountConfigMap(join(root, 'config'), configMapData(objects));
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    const port = await freePort();
    const args = (deployment.spec.template.spec.containers[0]?.args ?? []).map((a) =>
      a
        .replace('/etc/alertmanager', join(root, 'config'))
        .replace('=/alertmanager', `=${join(root, 'data')}`),
    );
    const child = spawnBackground(
      'prometheus-alertmanager',
      [...args, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { env: { PATH: process.env.PATH } },
    );
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitReady(url, () => child.output().stderr);
      const status = (await (await fetch(`${url}/api/v2/status`)).json()) as {
        config: { original: string };
        cluster: { status: string };
      };
      // No gossip: a lone replica must not wait for peers.
      expect(status.cluster.status).to.equal('disabled');
      expect(status.config.original).to.include(`url: ${WEBHOOK}/hook/meshdrill`);
      expect(readAlertmanagerRouting(status.config.original)).to.deep.equal({
        routingDelayMs: ALERTMANAGER_ROUTING_DELAY_MS,
        silentReceivers: [],
      });
    } finally {
      await child.stop();
    }
  });

  it("makes Prometheus send its alerts to the Alertmanager Service's v2 API", async () => {
    const config = buildPrometheusConfig({
      scrapeIntervalMs: 5000,
      evaluationIntervalMs: 5000,
      ruleFiles: [],
      alertmanagers: [ALERTMANAGER_SERVICE_ADDRESS],
    }) as { scrape_configs: Record<string, unknown>[]; rule_files?: unknown };
    // Debian's Prometheus is built without Kubernetes discovery: the pod job gets a static target instead.
    for (const job of config.scrape_configs) {
      if (!job.kubernetes_sd_configs) continue;
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: ['127.0.0.1:1'] }];
    }
    delete config.rule_files;
    const file = join(root, 'prometheus.yml');
    writeFileSync(file, stringify(config));
    const port = await freePort();
    const child = spawnBackground(
      'prometheus',
      [
        `--config.file=${file}`,
        `--storage.tsdb.path=${join(root, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { env: { PATH: process.env.PATH } },
    );
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitReady(url, () => child.output().stderr);
      // The notifier picks up discovered Alertmanagers on its next sync (seconds), so the list is polled.
      let urls: string[] = [];
      for (let i = 0; i < 75 && urls.length === 0; i++) {
        const body = (await (await fetch(`${url}/api/v1/alertmanagers`)).json()) as {
          data: { activeAlertmanagers: { url: string }[] };
        };
        urls = body.data.activeAlertmanagers.map((a) => a.url);
        if (urls.length === 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(urls).to.deep.equal(['http://meshdrill-alertmanager.meshdrill-system.svc:9093/api/v2/alerts']);
    } finally {
      await child.stop();
    }
    // Without the option the section is absent (existing's install=prometheus has no Alertmanager).
    expect(
      parse(
        stringify(
          buildPrometheusConfig({ scrapeIntervalMs: 5000, evaluationIntervalMs: 5000, ruleFiles: [] }),
        ),
      ),
    ).to.not.have.property('alerting');
  });
});
