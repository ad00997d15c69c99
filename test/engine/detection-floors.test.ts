// Alert floors as the engine computes them: rule files from disk, intervals from the running Prometheus's
// configuration (/api/v1/status/config, served here by a small stand-in with the real answer's shape).

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  alertSignalFloors,
  loadWarmupMs,
  paceToPrometheus,
  settleBudgetMs,
} from '../../harness/engine/detection-floors.js';
import type { ResolvedScenario, SignalSpec } from '../../harness/model/index.js';
import { createPrometheusClient } from '../../harness/signals/index.js';
import { parseRuleFile } from '../../harness/slo/detection.js';

/** The rule files as the scenario loader hands them over: parsed once, what cannot be read said. */
function ruleSet(paths: string[]): ResolvedScenario['alertRuleSet'] {
  const set: ResolvedScenario['alertRuleSet'] = { rules: [], problems: [] };
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      set.problems.push(`${path}: the rule file was not read`);
      continue;
    }
    const parsed = parseRuleFile(text, path);
    if (parsed.ok) set.rules.push(...parsed.rules);
    else set.problems.push(...parsed.errors);
  }
  return set;
}
import { fakeScenario } from '../support/fake-world.js';

const RULES = `groups:
  - name: mesh
    rules:
      - alert: IstiodDown
        expr: absent(up{app="istiod"} == 1)
        for: 10s
      - alert: RetryStorm
        expr: sum(rate(envoy_cluster_upstream_rq_retry[1m])) > 5
        for: 30s
`;

function alertSignal(name: string, alert: string, withinMs: number): SignalSpec {
  return { kind: 'alert', alert, name, withinMs, pollMs: 500 };
}

describe('alert detection floors in the engine', () => {
  let dir: string;
  let server: http.Server;
  let url: string;
  let configYaml = 'global:\n  scrape_interval: 2s\n  evaluation_interval: 3s\n';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdrill-floors-'));
    await writeFile(join(dir, 'mesh.rules.yaml'), RULES);
    server = http.createServer((req, res) => {
      if (req.url !== '/api/v1/status/config') {
        res.writeHead(404).end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', data: { yaml: configYaml } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reads Prometheus's global intervals, and its defaults (1m) when they are left out", async () => {
    const prometheus = createPrometheusClient(url);
    expect(await prometheus.ruleTiming()).to.deep.equal({
      scrapeIntervalMs: 2000,
      evaluationIntervalMs: 3000,
    });
    configYaml = 'global: {}\n';
    expect(await prometheus.ruleTiming()).to.deep.equal({
      scrapeIntervalMs: 60_000,
      evaluationIntervalMs: 60_000,
    });
    configYaml = 'global:\n  scrape_interval: 2s\n  evaluation_interval: 3s\n';
  });

  it('floor = scrape + evaluation + for; look-back = largest range + scrape + evaluation, per alert signal', async () => {
    const result = await alertSignalFloors(
      {
        alertRuleSet: ruleSet([join(dir, 'mesh.rules.yaml')]),
        signals: [alertSignal('down', 'IstiodDown', 60_000), alertSignal('storm', 'RetryStorm', 120_000)],
      },
      createPrometheusClient(url),
    );
    expect(result.problems).to.deep.equal([]);
    expect(Object.fromEntries(result.floors)).to.deep.equal({
      IstiodDown: 2000 + 3000 + 10_000,
      RetryStorm: 2000 + 3000 + 30_000,
    });
    expect(Object.fromEntries(result.lookbacks)).to.deep.equal({
      IstiodDown: 2000 + 3000,
      RetryStorm: 60_000 + 2000 + 3000,
    });
  });

  it('says which floors are missing and which budgets are below their floor, without failing', async () => {
    const result = await alertSignalFloors(
      {
        alertRuleSet: ruleSet([join(dir, 'mesh.rules.yaml'), join(dir, 'missing.rules.yaml')]),
        signals: [alertSignal('storm', 'RetryStorm', 20_000), alertSignal('ghost', 'NoSuchAlert', 30_000)],
      },
      createPrometheusClient(url),
    );
    expect(result.floors.get('RetryStorm')).to.equal(35_000);
    expect(result.problems.join('\n')).to.include('missing.rules.yaml');
    expect(result.problems.join('\n')).to.include('no floor for alert NoSuchAlert');
    expect(result.problems.join('\n')).to.match(/signal storm: its budget \(20s\) is below the floor .*35s/);
  });

  it('leaves floors out when Prometheus does not answer', async () => {
    const result = await alertSignalFloors(
      {
        alertRuleSet: ruleSet([join(dir, 'mesh.rules.yaml')]),
        signals: [alertSignal('down', 'IstiodDown', 60_000)],
      },
      createPrometheusClient('http://127.0.0.1:1'),
    );
    expect(result.floors.size).to.equal(0);
    expect(result.problems[0]).to.match(/Prometheus's configuration could not be read/);
  });
});

describe('the settle budget before a steady state', () => {
  const steadyState = { durationMs: 15_000 };
  const promql = (name: string, query: string): SignalSpec => ({
    kind: 'promql',
    query,
    name,
    withinMs: 30_000,
    pollMs: 500,
  });

  it('waits out the longest look-back of the signals (a PromQL range, an alert look-back)', () => {
    const signals = [promql('p', 'sum(rate(x[45s])) > 0'), alertSignal('a', 'RetryStorm', 120_000)];
    expect(settleBudgetMs({ signals, steadyState }, new Map([['RetryStorm', 70_000]]), 120_000)).to.equal(
      72_000,
    );
    expect(settleBudgetMs({ signals: [signals[0] as SignalSpec], steadyState }, new Map(), 120_000)).to.equal(
      47_000,
    );
  });

  it('never less than twice the steady state, never more than the cap', () => {
    expect(settleBudgetMs({ signals: [promql('p', 'up == 0')], steadyState }, new Map(), 120_000)).to.equal(
      30_000,
    );
    expect(
      settleBudgetMs(
        { signals: [alertSignal('a', 'Slow', 1)], steadyState },
        new Map([['Slow', 600_000]]),
        90_000,
      ),
    ).to.equal(90_000);
  });
});

describe('the load warm-up before a steady state', () => {
  const promql = (query: string): SignalSpec => ({
    kind: 'promql',
    query,
    name: 'p',
    withinMs: 30_000,
    pollMs: 500,
  });

  it('lasts the longest range window of the PromQL signals, subqueries included, plus a scrape', () => {
    const signals = [promql('sum(rate(x[15s])) > 0'), promql('max_over_time(rate(y[5s])[20s:1s]) > 1')];
    expect(loadWarmupMs({ signals })).to.equal(21_000);
    expect(loadWarmupMs({ signals }, 2000)).to.equal(22_000);
  });

  it('is none when no signal looks back over a range (an instant query, an alert: its rule has a for)', () => {
    expect(loadWarmupMs({ signals: [promql('up == 0'), alertSignal('a', 'IstiodDown', 15_000)] })).to.equal(
      0,
    );
  });
});

describe('polls paced to the running Prometheus', () => {
  const scenario = fakeScenario({
    signals: [
      { name: 'fast-promql', kind: 'promql', query: 'x > 0', withinMs: 5000, pollMs: 250 },
      { name: 'slow-promql', kind: 'promql', query: 'x > 0', withinMs: 5000, pollMs: 2000 },
      { name: 'alert', kind: 'alert', alert: 'A', withinMs: 5000, pollMs: 100 },
      {
        name: 'pods',
        kind: 'kubernetes',
        resource: { kind: 'Pod', namespace: 'ns' },
        field: 'status.phase',
        op: '==',
        value: 'Running',
        match: 'any',
        withinMs: 5000,
        pollMs: 250,
      } as never,
    ],
  });

  it('polls PromQL no faster than half the scrape interval, alerts half the evaluation interval, the rest as written', () => {
    const paced = paceToPrometheus(scenario, { scrapeIntervalMs: 1000, evaluationIntervalMs: 3000 });
    expect(paced.signals.map((s) => [s.name, s.pollMs])).to.deep.equal([
      ['fast-promql', 500],
      ['slow-promql', 2000],
      ['alert', 1500],
      ['pods', 250],
    ]);
    // Efficacy checks too (the fake scenario's PromQL efficacy check is written at 200 ms).
    expect(paced.efficacy.map((c) => c.pollMs)).to.deep.equal([500]);
    // The scenario itself is not changed.
    expect(scenario.signals[0]?.pollMs).to.equal(250);
  });

  it('leaves the polls as written when the timing could not be read', () => {
    expect(paceToPrometheus(scenario, undefined)).to.equal(scenario);
  });
});
