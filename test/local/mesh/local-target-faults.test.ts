// Mesh failure facts on the real LocalTarget (ISTIO-FACTS.md): PERMISSIVE vs namespace DISABLE as seen by the
// server; a config flood OOM-kills the sidecar (OOMKilled/137) and a Sidecar egress scope brings it back; the
// injection webhook fails closed (FailedCreate) while istiod is down; an expired plugged-in intermediate breaks
// the mesh (503 UF,URX at reporter="source" only, negative agent expiry) and a renewed intermediate from the
// same root plus restarts brings traffic back.

import http from 'node:http';
import { expect } from 'chai';
import { cacertsSecret, generateCacerts, type RootMaterial } from '../../../clusters/local/mesh/index.js';
import type { MemoryStore } from '../../../clusters/local/store/index.js';
import {
  applyAndRollOut,
  type Booted,
  bootTarget,
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

const INTERMEDIATE_MS = 25_000;

const WORKLOAD = yamlStream(
  namespaceYaml('shop'),
  fortioDeploymentYaml({
    namespace: 'shop',
    name: 'reviews',
    labels: { app: 'reviews', version: 'v1' },
    selector: { app: 'reviews' },
  }),
  fortioDeploymentYaml({
    namespace: 'shop',
    name: 'client',
    labels: { app: 'client', version: 'v1' },
    selector: { app: 'client' },
  }),
  serviceYaml('shop', 'reviews'),
  ingressGatewayYaml('shop'),
  `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: front, namespace: shop }
spec:
  hosts: ["*"]
  gateways: [front]
  http: [{ route: [{ destination: { host: reviews } }] }]
`,
);

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; flags: string | undefined; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          flags: res.headers['x-envoy-response-flags'] as string | undefined,
          body,
        }),
      );
    });
    req.setTimeout(8000, () => req.destroy());
    req.once('error', () => resolve({ status: 0, flags: undefined, body: '' }));
  });
}

interface PodView {
  metadata: { name: string; deletionTimestamp?: string };
  status: {
    phase?: string;
    podIP: string;
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      lastState?: { terminated?: { reason: string; exitCode: number } };
    }[];
  };
}

describe('mesh failure facts on the local target', function () {
  this.timeout(300_000);
  let booted: Booted | undefined;
  let store: MemoryStore;
  let ingressUrl = '';
  let root: RootMaterial;
  let intermediateExpiry = 0;
  const kubectl = lateKubectl(() => booted);
  // The serving pod: after a rollout restart the old pod may still be listed while it terminates (graceful
  // deletion, as on a real cluster), and its ports close under a test that picked it (seen once on CI).
  const podOf = async (ns: string, selector: string) => {
    const items = JSON.parse(expectOk(await kubectl(['-n', ns, 'get', 'pods', '-l', selector, '-o', 'json'])))
      .items as PodView[];
    const live = items.filter((p) => !p.metadata.deletionTimestamp);
    return (live.find((p) => p.status.phase === 'Running') ?? live[0] ?? items[0]) as PodView;
  };
  const secretYaml = (files: Parameters<typeof cacertsSecret>[0]) => JSON.stringify(cacertsSecret(files));

  before(async () => {
    booted = await bootTarget({
      backoffScale: 0.02,
      dirPrefix: 'meshdrill-mesh-faults-',
      kubectlTimeoutMs: 90_000,
    });
    ingressUrl = booted.env.ingressUrl;
    store = booted.target.cluster!.store;
    // The local target installs the mesh itself (istiod, gateway, injection) during provision.
    await applyAndRollOut(kubectl, WORKLOAD, 'shop', ['reviews', 'client']);
  });

  after(async () => {
    await booted?.stop();
  });

  it('PERMISSIVE on the server does not change what clients send; a namespace-level DISABLE makes them send plaintext', async () => {
    const client = await podOf('shop', 'app=client');
    const reviews = await podOf('shop', 'app=reviews');
    const call = () => get(`http://${client.status.podIP}:8080/fortio/fetch/reviews.shop:8080/echo`);
    const policy = async (reviewsMetric: string) =>
      sumMetric(
        await fetchText(`http://${reviews.status.podIP}:15020/stats/prometheus`),
        'istio_requests_total',
        {
          reporter: 'destination',
          source_workload: 'client',
          connection_security_policy: reviewsMetric,
        },
      );
    expect((await call()).status).to.equal(200);
    expect(await policy('mutual_tls')).to.equal(1);
    const pa = (mode: string) =>
      `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: default, namespace: shop }\nspec: { mtls: { mode: ${mode} } }\n`;
    expectOk(await kubectl(['apply', '-f', '-'], pa('PERMISSIVE')));
    await new Promise((r) => setTimeout(r, 500));
    expect((await call()).status).to.equal(200);
    expect(await policy('mutual_tls')).to.equal(2);
    expectOk(await kubectl(['apply', '-f', '-'], pa('DISABLE')));
    await until(
      'clients switch to plaintext',
      async () => {
        await call();
        return (await policy('none')) >= 1;
      },
      10_000,
    );
    expectOk(await kubectl(['-n', 'shop', 'delete', 'peerauthentication', 'default']));
  });

  it('a flood of visible services OOM-kills a sidecar (OOMKilled, 137); a Sidecar egress scope lets it run again', async () => {
    const ns = `apiVersion: v1\nkind: Namespace\nmetadata: { name: tight, labels: { istio-injection: enabled } }\n---\n`;
    const deploy = `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: tight, namespace: tight }\nspec:\n  replicas: 1\n  selector: { matchLabels: { app: tight } }\n  template:\n    metadata:\n      labels: { app: tight }\n      annotations: { sidecar.istio.io/proxyMemoryLimit: 150Mi }\n    spec:\n      containers:\n      - { name: app, image: fortio/fortio, args: [server, -http-port, "8080"], ports: [{ containerPort: 8080 }] }\n`;
    expectOk(await kubectl(['apply', '-f', '-'], ns + deploy));
    expectOk(await kubectl(['-n', 'tight', 'rollout', 'status', 'deployment/tight', '--timeout=60s']));
    // The flood: 2,500 Services in another namespace, created through the store (kubectl would take minutes).
    const services = { group: '', version: 'v1', resource: 'services' };
    await store.create(
      { group: '', version: 'v1', resource: 'namespaces' },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flood' } },
    );
    for (let i = 0; i < 2500; i++) {
      await store.create(services, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${i}`, namespace: 'flood' },
        spec: { selector: { app: `x${i}` }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
      });
    }
    const killed = await until(
      'the sidecar OOMKilled',
      async () => {
        const p = await podOf('tight', 'app=tight');
        const proxy = p.status.containerStatuses?.find((c) => c.name === 'istio-proxy');
        return proxy?.lastState?.terminated?.reason === 'OOMKilled' ? proxy : undefined;
      },
      60_000,
    );
    expect(killed.lastState?.terminated?.exitCode).to.equal(137);
    expect(killed.restartCount).to.be.at.least(1);
    expectOk(
      await kubectl(
        ['apply', '-f', '-'],
        'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: default, namespace: tight }\nspec:\n  egress: [{ hosts: ["./*", "istio-system/*"] }]\n',
      ),
    );
    await until(
      'the sidecar Ready again under the scope',
      async () => {
        const p = await podOf('tight', 'app=tight');
        return p.status.containerStatuses?.find((c) => c.name === 'istio-proxy')?.ready === true;
      },
      90_000,
    );
    const restarts =
      (await podOf('tight', 'app=tight')).status.containerStatuses?.find((c) => c.name === 'istio-proxy')
        ?.restartCount ?? 0;
    await new Promise((r) => setTimeout(r, 3000));
    const later = (await podOf('tight', 'app=tight')).status.containerStatuses?.find(
      (c) => c.name === 'istio-proxy',
    );
    expect(later?.restartCount).to.equal(restarts);
    expect(later?.ready).to.equal(true);
    expectOk(await kubectl(['delete', 'namespace', 'flood', '--wait=false']));
  });

  it('istiod down: new pods in injected namespaces are rejected (FailedCreate), existing traffic flows', async () => {
    await scaleIstiodDown(kubectl);
    expect((await get(`${ingressUrl}/`, { host: 'shop.example' })).status).to.equal(200);
    expectOk(await kubectl(['-n', 'shop', 'scale', 'deployment/client', '--replicas=2']));
    const events = await until(
      'a FailedCreate event',
      async () => {
        const out = expectOk(
          await kubectl([
            '-n',
            'shop',
            'get',
            'events',
            '--field-selector',
            'reason=FailedCreate',
            '-o',
            'json',
          ]),
        );
        const items = JSON.parse(out).items as { message: string }[];
        return items.length > 0 ? items : undefined;
      },
      20_000,
    );
    expect(events[0]?.message).to.include('no endpoints available for service "istiod"');
    expectOk(await kubectl(['-n', 'shop', 'scale', 'deployment/client', '--replicas=1']));
    expectOk(await kubectl(['-n', 'istio-system', 'scale', 'deployment/istiod', '--replicas=1']));
    expectOk(
      await kubectl(['-n', 'istio-system', 'rollout', 'status', 'deployment/istiod', '--timeout=60s']),
    );
  });

  it('an expired plugged-in intermediate: 503 UF,URX at reporter="source" only, agent expiry < 0; a renewed intermediate from the same root plus restarts recovers', async () => {
    // Plug in a CA whose intermediate lives INTERMEDIATE_MS; istiod reloads it, and restarted workloads take
    // certificates (and the trust bundle) from it.
    const files = await generateCacerts({ intermediateValidityMs: INTERMEDIATE_MS });
    root = files.root;
    intermediateExpiry = Date.now() + INTERMEDIATE_MS;
    expectOk(await kubectl(['apply', '-f', '-'], secretYaml(files)));
    await new Promise((r) => setTimeout(r, 1000));
    expectOk(await kubectl(['-n', 'shop', 'rollout', 'restart', 'deployment/reviews']));
    expectOk(await kubectl(['-n', 'istio-system', 'rollout', 'restart', 'deployment/istio-ingressgateway']));
    expectOk(await kubectl(['-n', 'shop', 'rollout', 'status', 'deployment/reviews', '--timeout=60s']));
    expectOk(
      await kubectl([
        '-n',
        'istio-system',
        'rollout',
        'status',
        'deployment/istio-ingressgateway',
        '--timeout=60s',
      ]),
    );
    await until(
      'traffic on the plugged-in CA',
      async () => (await get(`${ingressUrl}/`, { host: 'shop.example' })).status === 200,
      20_000,
    );
    const gateway = await podOf('istio-system', 'istio=ingressgateway');
    const reviews = await podOf('shop', 'app=reviews');
    const gwStats = `http://${gateway.status.podIP}:15020/stats/prometheus`;
    const dstStats = `http://${reviews.status.podIP}:15020/stats/prometheus`;
    expect((await get(`${ingressUrl}/`, { host: 'shop.example' })).status).to.equal(200);
    const wait = intermediateExpiry - Date.now() + 1500;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const destinationBefore = sumMetric(await fetchText(dstStats), 'istio_requests_total', {
      reporter: 'destination',
    });
    const failed = await get(`${ingressUrl}/`, { host: 'shop.example' });
    expect(failed.status).to.equal(503);
    expect(failed.flags).to.equal('UF,URX');
    expect(failed.body).to.match(/TLS_error:.*CERTIFICATE_VERIFY_FAILED/);
    const gw = await fetchText(gwStats);
    expect(
      sumMetric(gw, 'istio_requests_total', {
        reporter: 'source',
        response_code: '503',
        response_flags: 'UF,URX',
      }),
    ).to.be.at.least(1);
    expect(sumMetric(gw, 'istio_agent_cert_expiry_seconds', { resource_name: 'default' })).to.be.below(0);
    expect(
      sumMetric(await fetchText(dstStats), 'istio_requests_total', { reporter: 'destination' }),
    ).to.equal(destinationBefore);

    // The runbook fix: a new intermediate from the same root into cacerts, then restart workloads and gateways.
    const renewed = await generateCacerts({ root, intermediateValidityMs: 3600_000 });
    expectOk(await kubectl(['apply', '-f', '-'], secretYaml(renewed)));
    await new Promise((r) => setTimeout(r, 1000));
    expectOk(await kubectl(['-n', 'shop', 'rollout', 'restart', 'deployment/reviews']));
    expectOk(await kubectl(['-n', 'istio-system', 'rollout', 'restart', 'deployment/istio-ingressgateway']));
    for (const [ns, d] of [
      ['shop', 'reviews'],
      ['istio-system', 'istio-ingressgateway'],
    ] as const) {
      expectOk(await kubectl(['-n', ns, 'rollout', 'status', `deployment/${d}`, '--timeout=90s']));
    }
    await until(
      'traffic back through the ingress',
      async () => (await get(`${ingressUrl}/`, { host: 'shop.example' })).status === 200,
      30_000,
    );
  });
});
