// The real Prometheus of the local target: loads the rule files handed in, scrapes an annotated pod with
// Istio-addon labels (up == 1 through the HTTP API), and drops the target when the pod goes.

import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Booted, bootTarget, expectOk, until } from './fixture.js';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(b: Booted, promql: string): Promise<Sample[]> {
  const res = await fetch(`${b.env.prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { data: { result: Sample[] } };
  return body.data.result;
}

describe('local target Prometheus', function () {
  this.timeout(60_000);
  let b: Booted;
  const rules = join(process.env.TMPDIR ?? '/tmp', `meshdrill-rules-${process.pid}.yml`);
  before(async () => {
    writeFileSync(
      rules,
      'groups:\n- name: meshdrill-test\n  rules:\n  - alert: EchoDown\n    expr: absent(up{pod="scraped"} == 1)\n',
    );
    b = await bootTarget({ ruleFiles: [rules] });
  });
  after(async () => {
    await b?.stop();
    rmSync(rules, { force: true });
  });

  it('runs with 1 s intervals and the rule files it was given', async () => {
    expect(b.env.prometheus).to.deep.equal({ scrapeIntervalMs: 1000, evaluationIntervalMs: 1000 });
    const rules = (await (await fetch(`${b.env.prometheusUrl}/api/v1/rules`)).json()) as {
      data: { groups: { name: string }[] };
    };
    expect(rules.data.groups.map((g) => g.name)).to.include('meshdrill-test');
  });

  it('scrapes an annotated pod (up == 1 with namespace, pod, app, version labels), and forgets it once deleted', async () => {
    expectOk(
      await b.kubectl(
        ['apply', '-f', '-'],
        `
apiVersion: v1
kind: Pod
metadata:
  name: scraped
  labels: {app: echo, version: v1}
  annotations: {prometheus.io/scrape: "true", prometheus.io/port: "8080", prometheus.io/path: /metrics}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: fortio, image: fortio/fortio, ports: [{containerPort: 8080}]}]
`,
      ),
    );
    const up = await until(
      'up{pod="scraped"} == 1',
      async () => {
        const r = await query(b, 'up{job="kubernetes-pods",pod="scraped"}');
        return r[0]?.value[1] === '1' ? r[0] : undefined;
      },
      25_000,
    );
    expect(up.metric).to.include({ namespace: 'default', pod: 'scraped', app: 'echo', version: 'v1' });
    expectOk(await b.kubectl(['delete', 'pod', 'scraped']));
    await until('target gone', async () => (await query(b, 'up{pod="scraped"}')).length === 0, 25_000);
  });
});
