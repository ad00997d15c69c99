// cert-expiry's M6 signal (`mtls-handshake-success-ratio`) evaluated by promtool on made-up Envoy counters: it
// stays quiet while every handshake succeeds and while there is no traffic at all, and fires once handshakes fail
// verification or end in the server's alert. A mutation check proves the promtool run can fail.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { run } from '../../harness/exec/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLUSTER = 'outbound|8080||shop.drill-cert-expiry.svc.cluster.local';

async function signalQuery(): Promise<string> {
  const doc = parse(await readFile(join(ROOT, 'scenarios/cert-expiry.yaml'), 'utf8')) as {
    spec: { detect: { name: string; query?: string }[] };
  };
  const signal = doc.spec.detect.find((d) => d.name === 'mtls-handshake-success-ratio');
  if (!signal?.query) throw new Error('cert-expiry has no mtls-handshake-success-ratio query');
  // The local target's time scale is irrelevant here: the unscaled window.
  return signal.query.replaceAll(/\$\{scaled:1m\}/g, '1m').trim();
}

const series = (stat: string, values: string) => ({
  series: `envoy_cluster_ssl_${stat}{cluster_name="${CLUSTER}"}`,
  values,
});

/** One promtool test group: the counters every 15 s, the query at 8 min (3 min after a fault at 5 min). */
function group(inputs: { series: string; values: string }[], fires: boolean, expr: string) {
  return {
    interval: '15s',
    input_series: inputs,
    promql_expr_test: [{ expr, eval_time: '8m', exp_samples: fires ? [{ labels: '{}', value: 0 }] : [] }],
  };
}

function cases(expr: string) {
  return [
    // Steady state: a handshake every 5 s, none failed — quiet.
    group([series('handshake', '0+3x40')], false, expr),
    // No connection at all (0/0): not a failure — quiet.
    group([series('handshake', '0x40')], false, expr),
    // Expired certificates: from 5 min on no handshake succeeds and each fails verification — fires.
    group([series('handshake', '0+3x20 60x20'), series('fail_verify_error', '_x20 0+3x20')], true, expr),
    // The server refuses our certificate (its alert is a connection_error on our side) — fires.
    group([series('handshake', '0+3x20 60x20'), series('connection_error', '_x20 0+3x20')], true, expr),
  ];
}

async function promtoolTest(dir: string, expr: string) {
  const file = join(dir, 'mtls-ratio.test.yaml');
  await writeFile(file, JSON.stringify({ rule_files: [], evaluation_interval: '15s', tests: cases(expr) }));
  const result = await run('promtool', ['test', 'rules', file], { timeoutMs: 60_000 });
  if (result.spawnError)
    throw new Error(`promtool could not start (${result.spawnError}); apt-get install prometheus`);
  return result;
}

describe("cert-expiry's mTLS success ratio signal (promtool)", function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdrill-mtls-ratio-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('quiet with all handshakes succeeding or none tried; fires on failed verification or a server alert', async () => {
    const result = await promtoolTest(dir, await signalQuery());
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout + result.stderr).to.contain('SUCCESS');
  });

  it('the same cases fail against a query that never fires, and one that always does (the check can fail)', async () => {
    const query = await signalQuery();
    for (const threshold of ['< 0', '< 2']) {
      const mutant = query.replace(/<\s*0\.99\s*$/, threshold);
      expect(mutant).to.not.equal(query);
      const result = await promtoolTest(dir, mutant);
      expect(result.exitCode, `${threshold}: ${result.stdout}`).to.not.equal(0);
    }
  });
});
