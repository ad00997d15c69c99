// The Telemetry API on the local target (telemetry.istio.io/v1 Telemetry, metrics): istiod merges the root,
// namespace and workload Telemetry of each proxy and pushes it; a proxy whose Prometheus metrics are disabled
// stops reporting the standard metrics and drops their series (Prometheus marks them stale) while its agent and
// Envoy server stats and its scrape target stay; a namespace without the override keeps reporting (the control);
// deleting the override brings the metrics back. The API server refuses a Telemetry the CRD refuses.

import { expect } from 'chai';
import {
  buildMetricsConfig,
  DEFAULT_MESH_OPTIONS,
  emptySnapshot,
} from '../../../clusters/local/mesh/config/index.js';
import type { ProxyNode } from '../../../clusters/local/mesh/model/proxy-config.js';
import {
  applyAndRollOut,
  type Booted,
  bootTarget,
  expectOk,
  fortioDeploymentYaml,
  lateKubectl,
  namespaceYaml,
  serviceYaml,
  until,
  yamlStream,
} from '../support/index.js';
import { fetchText, sumMetric } from './proxy-harness.js';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

const telemetry = (name: string, namespace: string, spec: Record<string, unknown>) => ({
  apiVersion: 'telemetry.istio.io/v1',
  kind: 'Telemetry',
  metadata: { name, namespace, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec,
});

const node = (namespace: string, labels: Record<string, string>) =>
  ({ namespace, labels, mode: 'sidecar' }) as unknown as ProxyNode;

describe('Telemetry API metrics merge (pure)', () => {
  const off = { metrics: [{ providers: [{ name: 'prometheus' }], overrides: [{ disabled: true }] }] };

  it('a namespace Telemetry disables every standard metric on both sides of its workloads only', () => {
    const snapshot = { ...emptySnapshot(), telemetries: [telemetry('off', 'blind', off)] };
    const blind = buildMetricsConfig(snapshot, node('blind', { app: 'a' }), DEFAULT_MESH_OPTIONS);
    expect(blind.server).to.include.members(['istio_requests_total', 'istio_request_duration_milliseconds']);
    expect(blind.client).to.deep.equal(blind.server);
    expect(blind.sources).to.deep.equal(['blind/off']);
    const other = buildMetricsConfig(snapshot, node('seen', { app: 'a' }), DEFAULT_MESH_OPTIONS);
    expect(other).to.deep.equal({ client: [], server: [] });
  });

  it('a workload Telemetry re-enabling a metric wins over the namespace; another provider changes nothing', () => {
    const snapshot = {
      ...emptySnapshot(),
      telemetries: [
        telemetry('off', 'blind', off),
        telemetry('back', 'blind', {
          selector: { matchLabels: { app: 'a' } },
          metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT', mode: 'SERVER' }, disabled: false }] }],
        }),
        telemetry('otel', 'seen', {
          metrics: [{ providers: [{ name: 'otel' }], overrides: [{ disabled: true }] }],
        }),
      ],
    };
    const a = buildMetricsConfig(snapshot, node('blind', { app: 'a' }), DEFAULT_MESH_OPTIONS);
    expect(a.server).not.to.include('istio_requests_total');
    expect(a.client).to.include('istio_requests_total');
    const b = buildMetricsConfig(snapshot, node('blind', { app: 'b' }), DEFAULT_MESH_OPTIONS);
    expect(b.server).to.include('istio_requests_total');
    const seen = buildMetricsConfig(snapshot, node('seen', { app: 'a' }), DEFAULT_MESH_OPTIONS);
    expect(seen.server).to.deep.equal([]);
  });
});

describe('Telemetry API on the local target', function () {
  this.timeout(240_000);
  let booted: Booted | undefined;
  const kubectl = lateKubectl(() => booted);

  const workload = (ns: string) =>
    yamlStream(
      namespaceYaml(ns),
      fortioDeploymentYaml({ namespace: ns, name: 'reviews', labels: { app: 'reviews', version: 'v1' } }),
      fortioDeploymentYaml({ namespace: ns, name: 'client', labels: { app: 'client', version: 'v1' } }),
      serviceYaml(ns, 'reviews'),
    );

  const ips = new Map<string, string>();
  const podIp = async (ns: string, app: string) => {
    const key = `${ns}/${app}`;
    const known = ips.get(key);
    if (known) return known;
    const ip = expectOk(
      await kubectl(['-n', ns, 'get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={.items[0].status.podIP}']),
    ).trim();
    ips.set(key, ip);
    return ip;
  };
  const slow = { intervalMs: 500 };

  const query = async (promql: string): Promise<Sample[]> => {
    const url = `${booted?.env.prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`;
    return ((await (await fetch(url)).json()) as { data: { result: Sample[] } }).data.result;
  };

  /** One call client → reviews in `ns`, through both sidecars. */
  const call = async (ns: string) => {
    const res = await fetch(`http://${await podIp(ns, 'client')}:8080/fortio/fetch/reviews.${ns}:8080/echo`);
    return res.status;
  };

  const reviewsStats = async (ns: string) =>
    fetchText(`http://${await podIp(ns, 'reviews')}:15020/stats/prometheus`);

  before(async () => {
    booted = await bootTarget({ dirPrefix: 'meshdrill-telemetry-', kubectlTimeoutMs: 90_000 });
    await applyAndRollOut(kubectl, workload('blind'), 'blind', ['reviews', 'client']);
    await applyAndRollOut(kubectl, workload('seen'), 'seen', ['reviews', 'client']);
  });

  after(async () => {
    await booted?.stop();
  });

  it('the API server refuses a Telemetry its CRD refuses (disabled must be a boolean)', async () => {
    const bad = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: bad, namespace: blind }
spec: { metrics: [{ providers: [{ name: prometheus }], overrides: [{ disabled: "yes" }] }] }
`;
    const result = await kubectl(['apply', '-f', '-'], bad);
    expect(result.exitCode).to.not.equal(0);
    expect(result.stderr).to.match(/disabled/);
  });

  it("a namespace's metrics override stops its workloads' standard metrics (stale in Prometheus), not the control namespace's", async () => {
    for (const ns of ['blind', 'seen']) expect(await call(ns)).to.equal(200);
    const reported = (ns: string) =>
      `sum(istio_requests_total{reporter="destination",destination_workload_namespace="${ns}"})`;
    await until(
      'both namespaces reported in Prometheus',
      async () => {
        for (const ns of ['blind', 'seen']) await call(ns);
        return (await query(reported('blind'))).length > 0 && (await query(reported('seen'))).length > 0;
      },
      30_000,
      slow,
    );
    expectOk(
      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify(
          telemetry('drop-metrics', 'blind', {
            metrics: [{ providers: [{ name: 'prometheus' }], overrides: [{ disabled: true }] }],
          }),
        ),
      ),
    );
    // The series leave the proxy's /stats/prometheus; the Envoy server and agent stats stay.
    const text = await until(
      'the blind sidecar drops istio_requests_total',
      async () => {
        await call('blind');
        const t = await reviewsStats('blind');
        return t.includes('istio_requests_total') ? undefined : t;
      },
      30_000,
      slow,
    );
    expect(text).to.include('envoy_server_live');
    expect(text).to.include('istio_agent_cert_expiry_seconds');
    await until(
      'Prometheus marks the blind series stale',
      async () => {
        await call('blind');
        return (await query(reported('blind'))).length === 0;
      },
      30_000,
      slow,
    );
    // The scrape target is still up: the data is missing, not the pod.
    const up = await query('up{namespace="blind",app="reviews"}');
    expect(up.map((s) => s.value[1])).to.deep.equal(['1']);
    // The control: the other namespace keeps counting requests.
    const before = sumMetric(await reviewsStats('seen'), 'istio_requests_total', { reporter: 'destination' });
    expect(await call('seen')).to.equal(200);
    const after = sumMetric(await reviewsStats('seen'), 'istio_requests_total', { reporter: 'destination' });
    expect(after).to.equal(before + 1);
    expect(await query(reported('seen'))).to.have.length(1);
    // The requests themselves still work: only the telemetry is gone.
    expect(await call('blind')).to.equal(200);
    expect(sumMetric(await reviewsStats('blind'), 'istio_requests_total', {})).to.equal(0);
  });

  it('deleting the override brings the metrics back, counted from zero', async () => {
    expectOk(await kubectl(['-n', 'blind', 'delete', 'telemetry', 'drop-metrics']));
    await until(
      'the blind sidecar reports again',
      async () => {
        await call('blind');
        return (
          sumMetric(await reviewsStats('blind'), 'istio_requests_total', { reporter: 'destination' }) > 0
        );
      },
      30_000,
      slow,
    );
    await until(
      'Prometheus has the series again',
      async () => {
        await call('blind');
        return (
          (await query('istio_requests_total{reporter="destination",destination_workload_namespace="blind"}'))
            .length > 0
        );
      },
      30_000,
      slow,
    );
  });
});
