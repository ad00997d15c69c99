// An alert signal counts only the alert instances carrying its labels: a burn-rate alert firing for another
// drill's service (or a previous drill's, still inside its rate window) must not count as this drill's
// detection. The client reads the instances from /api/v1/alerts (a stand-in with the real answer's shape).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { KubeClient } from '../../harness/kube/index.js';
import {
  type ConditionContext,
  createPrometheusClient,
  evaluateCondition,
  type PrometheusClient,
} from '../../harness/signals/index.js';

/** Prometheus' /api/v1/alerts answer: pending and firing instances, labels including alertname. */
const ALERTS = {
  status: 'success',
  data: {
    alerts: [
      {
        labels: {
          alertname: 'ErrorBudgetBurnFast',
          destination_service_namespace: 'drill-canary-shift',
          destination_service_name: 'shop',
          severity: 'page',
        },
        state: 'firing',
      },
      {
        labels: { alertname: 'IstioProxyRestarting', namespace: 'drill-sidecar-oom', pod: 'shop-1' },
        state: 'pending',
      },
    ],
  },
};

function contextWith(prometheus: PrometheusClient): ConditionContext {
  return {
    kube: {} as KubeClient,
    prometheus,
    ingressUrl: 'http://127.0.0.1:1',
    runCommand: async () => {
      throw new Error('not used');
    },
  };
}

describe('alert signals with labels', () => {
  let server: http.Server;
  let prometheus: PrometheusClient;

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url !== '/api/v1/alerts') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ALERTS));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    prometheus = createPrometheusClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads the firing instances with their labels, leaving pending ones out', async () => {
    const firing = await prometheus.firingAlerts();
    expect(firing).to.deep.equal([{ name: 'ErrorBudgetBurnFast', labels: ALERTS.data.alerts[0]?.labels }]);
  });

  it('fires on the alert name alone when no labels are given', async () => {
    const result = await evaluateCondition(
      { kind: 'alert', alert: 'ErrorBudgetBurnFast' },
      contextWith(prometheus),
    );
    expect(result.fired).to.equal(true);
    expect(result.evidence).to.contain('destination_service_namespace="drill-canary-shift"');
  });

  it('fires when a firing instance carries every wanted label', async () => {
    const result = await evaluateCondition(
      {
        kind: 'alert',
        alert: 'ErrorBudgetBurnFast',
        labels: { destination_service_namespace: 'drill-canary-shift', destination_service_name: 'shop' },
      },
      contextWith(prometheus),
    );
    expect(result.fired).to.equal(true);
  });

  it("does not fire for another drill's instance, and says whose it was", async () => {
    const result = await evaluateCondition(
      {
        kind: 'alert',
        alert: 'ErrorBudgetBurnFast',
        labels: { destination_service_namespace: 'drill-cert-expiry' },
      },
      contextWith(prometheus),
    );
    expect(result.fired).to.equal(false);
    expect(result.evidence).to.contain('fires only for other labels');
    expect(result.evidence).to.contain('drill-canary-shift');
  });

  it('does not fire for a pending instance, even with matching labels', async () => {
    const result = await evaluateCondition(
      { kind: 'alert', alert: 'IstioProxyRestarting', labels: { namespace: 'drill-sidecar-oom' } },
      contextWith(prometheus),
    );
    expect(result.fired).to.equal(false);
    expect(result.evidence).to.equal('IstioProxyRestarting not firing; firing: ErrorBudgetBurnFast');
  });
});
