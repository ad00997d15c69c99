// The mesh on the real LocalTarget, driven through the API with the real kubectl: install, injection, ingress
// routing with relative weights (ISTIO-FACTS.md "Routing"), NC through the gateway, the Istio metrics in the
// real Prometheus, and the istiod outage facts (traffic keeps flowing, the validating webhook fails closed).

import http from 'node:http';
import { expect } from 'chai';
import {
  applyAndRollOut,
  type Booted,
  bootTarget,
  destinationRuleYaml,
  expectOk,
  fortioDeploymentYaml,
  ingressGatewayYaml,
  lateKubectl,
  namespaceYaml,
  scaleIstiodDown,
  serviceYaml,
  until,
  yamlStream,
} from '../support/index.js';
import { fetchText, sumMetric } from './proxy-harness.js';

const WORKLOAD = yamlStream(
  namespaceYaml('demo'),
  fortioDeploymentYaml({
    namespace: 'demo',
    name: 'reviews-v1',
    labels: { app: 'reviews', version: 'v1' },
    annotations: { 'proxy.istio.io/config': '{"proxyMetadata":{"SECRET_TTL":"1h"}}' },
  }),
  fortioDeploymentYaml({ namespace: 'demo', name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' } }),
  serviceYaml('demo', 'reviews'),
  destinationRuleYaml('demo', 'reviews', ['v1', 'v2']),
  ingressGatewayYaml('demo'),
  `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: front, namespace: demo }
spec:
  hosts: [frontend.drill.local]
  gateways: [front]
  http:
  - match: [{ uri: { prefix: /v9 } }]
    route: [{ destination: { host: reviews, subset: v9 } }]
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 90 }
    - { destination: { host: reviews, subset: v2 }, weight: 10 }
`,
);

function get(
  url: string,
  host: string,
  agent: http.Agent,
): Promise<{ status: number; flags: string | undefined }> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { host }, agent }, (res) => {
      res.resume();
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          flags: res.headers['x-envoy-response-flags'] as string | undefined,
        }),
      );
    });
    req.setTimeout(5000, () => req.destroy());
    req.once('error', () => resolve({ status: 0, flags: undefined }));
  });
}

describe('mesh on the local target (real API, kubectl, Prometheus)', function () {
  this.timeout(180_000);
  let booted: Booted | undefined;
  let ingressUrl = '';
  let prometheusUrl = '';
  const kubectl = lateKubectl(() => booted);

  before(async () => {
    booted = await bootTarget({ dirPrefix: 'meshdrill-mesh-e2e-' });
    ingressUrl = booted.env.ingressUrl;
    prometheusUrl = booted.env.prometheusUrl;
    // The local target installs the mesh itself (istiod, gateway, injection) during provision.
    await applyAndRollOut(kubectl, WORKLOAD, 'demo', ['reviews-v1', 'reviews-v2']);
  });

  after(async () => {
    await booted?.stop();
  });

  it('injected pods run istio-proxy next to the app and carry the prometheus.io annotations', async () => {
    const out = JSON.parse(expectOk(await kubectl(['-n', 'demo', 'get', 'pods', '-o', 'json'])));
    for (const pod of out.items) {
      expect(pod.spec.containers.map((c: { name: string }) => c.name)).to.deep.equal(['app', 'istio-proxy']);
      expect(pod.metadata.annotations['prometheus.io/port']).to.equal('15020');
      expect(pod.status.containerStatuses.every((s: { ready: boolean }) => s.ready)).to.equal(true);
    }
  });

  it('ingress routes 90/10 by relative weights over mTLS (within ±3 points over 2,000 requests), NC for an undefined subset', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    await until(
      'the gateway routes',
      async () => (await get(`${ingressUrl}/`, 'frontend.drill.local', agent)).status === 200,
      30_000,
    );
    const gatewayPod = JSON.parse(
      expectOk(
        await kubectl(['-n', 'istio-system', 'get', 'pods', '-l', 'istio=ingressgateway', '-o', 'json']),
      ),
    ).items[0];
    const gwStats = `http://${gatewayPod.status.podIP}:15020/stats/prometheus`;
    const before = await fetchText(gwStats);
    const base = (v: string) =>
      sumMetric(before, 'istio_requests_total', {
        reporter: 'source',
        destination_version: v,
        response_code: '200',
      });
    const [v1Before, v2Before] = [base('v1'), base('v2')];
    let ok = 0;
    for (let batch = 0; batch < 100; batch++) {
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => get(`${ingressUrl}/echo`, 'frontend.drill.local', agent)),
      );
      ok += replies.filter((r) => r.status === 200).length;
    }
    expect(ok).to.equal(2000);
    const after = await fetchText(gwStats);
    const v1 =
      sumMetric(after, 'istio_requests_total', {
        reporter: 'source',
        destination_version: 'v1',
        response_code: '200',
      }) - v1Before;
    const v2 =
      sumMetric(after, 'istio_requests_total', {
        reporter: 'source',
        destination_version: 'v2',
        response_code: '200',
      }) - v2Before;
    expect(v1 + v2).to.equal(2000);
    expect(v2 / 2000).to.be.within(0.07, 0.13);
    const nc = await get(`${ingressUrl}/v9/x`, 'frontend.drill.local', agent);
    expect(nc).to.deep.equal({ status: 503, flags: 'NC' });
    agent.destroy();
    // The server side saw mTLS from the gateway's identity.
    const v1Pod = JSON.parse(
      expectOk(await kubectl(['-n', 'demo', 'get', 'pods', '-l', 'version=v1', '-o', 'json'])),
    ).items[0];
    const dst = await fetchText(`http://${v1Pod.status.podIP}:15020/stats/prometheus`);
    expect(
      sumMetric(dst, 'istio_requests_total', {
        reporter: 'destination',
        connection_security_policy: 'mutual_tls',
        source_principal: 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
      }),
    ).to.be.at.least(1700);
    // Access logs reach the container's log within a second (pilot-agent runs Envoy with
    // --file-flush-interval-msec 1000).
    let logs = '';
    for (let waited = 0; waited <= 3000 && !/" 503 NC cluster_not_found /.test(logs); waited += 250) {
      if (waited > 0) await new Promise((r) => setTimeout(r, 250));
      logs = expectOk(
        await kubectl(['-n', 'istio-system', 'logs', 'deploy/istio-ingressgateway', '--tail=50']),
      );
    }
    expect(logs).to.match(/" 503 NC cluster_not_found /);
  });

  it('Prometheus scrapes the sidecars and istiod: istio_requests_total and pilot_xds are queryable', async () => {
    const query = async (q: string): Promise<number> => {
      const body = JSON.parse(
        await fetchText(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`),
      );
      return (body.data?.result ?? []).length;
    };
    await until(
      'istio_requests_total in Prometheus',
      async () => (await query('istio_requests_total{reporter="destination"}')) > 0,
      30_000,
    );
    await until('pilot_xds in Prometheus', async () => (await query('pilot_xds')) > 0, 30_000);
  });

  it('istiod down: existing traffic keeps flowing and applying an Istio object fails with the webhook error', async () => {
    await scaleIstiodDown(kubectl);
    const agent = new http.Agent({ keepAlive: false });
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => get(`${ingressUrl}/echo`, 'frontend.drill.local', agent)),
    );
    expect(replies.every((r) => r.status === 200)).to.equal(true);
    const applied = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: late, namespace: demo }\nspec:\n  hosts: [reviews]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n',
    );
    expect(applied.exitCode).to.not.equal(0);
    expect(applied.stderr).to.include('no endpoints available for service "istiod"');
    expectOk(await kubectl(['-n', 'istio-system', 'scale', 'deployment/istiod', '--replicas=1']));
  });
});
