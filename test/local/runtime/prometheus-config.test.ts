// Prometheus configuration for the local target (pure) and the missing-binary environment error.

import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Pod } from '../../../clusters/local/controllers/kube-types.js';
import {
  buildPodTargets,
  buildPrometheusConfig,
  startPrometheus,
} from '../../../clusters/local/prometheus/index.js';
import { createMemoryStore } from '../../../clusters/local/store/index.js';
import { MeshdrillError } from '../../../harness/model/errors.js';

function pod(
  name: string,
  phase: string,
  annotations: Record<string, string>,
  labels: Record<string, string> = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      uid: name,
      resourceVersion: '1',
      creationTimestamp: '',
      annotations,
      labels,
    },
    spec: { containers: [{ name: 'c', image: 'fortio/fortio', ports: [{ containerPort: 8080 }] }] },
    status: { phase: phase as 'Running', podIP: '127.1.0.9' },
  };
}

describe('local Prometheus configuration', () => {
  it('uses 1 s scrape and evaluation intervals, the rule files, and file-based pod discovery', () => {
    const config = parse(
      buildPrometheusConfig({
        scrapeIntervalMs: 1000,
        evaluationIntervalMs: 1000,
        ruleFiles: ['/r/a.yml'],
        podTargetsFile: '/t.json',
        selfAddress: '127.0.0.1:9',
      }),
    ) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: { job_name: string; file_sd_configs?: { files: string[] }[] }[];
    };
    expect(config.global).to.deep.equal({
      scrape_interval: '1s',
      scrape_timeout: '1s',
      evaluation_interval: '1s',
    });
    expect(config.rule_files).to.deep.equal(['/r/a.yml']);
    expect(
      config.scrape_configs.find((j) => j.job_name === 'kubernetes-pods')?.file_sd_configs?.[0]?.files,
    ).to.deep.equal(['/t.json']);
  });

  it('targets only running pods annotated for scraping, with the labels Istio addon relabelling gives', () => {
    const groups = buildPodTargets([
      pod(
        'a',
        'Running',
        {
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': '15020',
          'prometheus.io/path': '/stats/prometheus',
        },
        { app: 'web', version: 'v2', 'app.kubernetes.io/name': 'web' },
      ),
      pod('b', 'Running', {}),
      pod('c', 'Pending', { 'prometheus.io/scrape': 'true' }),
    ]);
    expect(groups).to.deep.equal([
      {
        targets: ['127.1.0.9:15020'],
        labels: {
          app: 'web',
          version: 'v2',
          app_kubernetes_io_name: 'web',
          __metrics_path__: '/stats/prometheus',
          __scheme__: 'http',
          namespace: 'shop',
          pod: 'a',
        },
      },
    ]);
  });

  it('reports a missing prometheus binary as an environment error that says how to install it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdrill-prom-'));
    const saved = process.env.PATH;
    process.env.PATH = join(dir, 'empty');
    try {
      await startPrometheus({ store: createMemoryStore(), workDir: dir, ruleFiles: [] });
      expect.fail('startPrometheus should have thrown');
    } catch (error) {
      expect(error).to.be.instanceOf(MeshdrillError);
      expect((error as MeshdrillError).kind).to.equal('environment');
      expect((error as MeshdrillError).hint).to.include('apt-get install prometheus');
      expect((error as MeshdrillError).hint).to.include('make setup');
    } finally {
      process.env.PATH = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
