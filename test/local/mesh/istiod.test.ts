// istiod with sidecars as child processes: config over the xDS stream with ACK/NACK, certificates by CSR,
// pushes after a VirtualService change, the control-plane outage facts of ISTIO-FACTS.md (traffic keeps
// flowing on the last config, CSR failures count up, reconnect + full push on recovery) and the real metric names.

import { once } from 'node:events';
import http from 'node:http';
import { expect } from 'chai';
import { createStoreSource, type Istiod, startIstiod } from '../../../clusters/local/mesh/istiod/index.js';
import { createMemoryStore, type MemoryStore } from '../../../clusters/local/store/index.js';
import type { ResourceKey } from '../../../clusters/local/store/types.js';
import {
  fetchText,
  getStatus,
  type ProxyChild,
  startProxyChild,
  sumMetric,
  viaProxy,
} from './proxy-harness.js';

const NS = 'xds';
const ISTIOD_IP = '127.44.0.2';
const CLIENT_IP = '127.44.0.11';
const SERVER_IP = '127.44.0.12';
const PODS: ResourceKey = { group: '', version: 'v1', resource: 'pods' };
const SERVICES: ResourceKey = { group: '', version: 'v1', resource: 'services' };
const VS: ResourceKey = { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' };

async function addPod(
  store: MemoryStore,
  name: string,
  ip: string,
  labels: Record<string, string>,
  sa: string,
) {
  const created = await store.create(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: {
      serviceAccountName: sa,
      containers: [
        { name: 'app', image: 'fortio/fortio', ports: [{ name: 'http', containerPort: 8080 }] },
        { name: 'istio-proxy', image: 'istio/proxyv2' },
      ],
    },
  });
  await store.updateStatus(PODS, {
    ...created,
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function startSidecar(name: string, ip: string, sa: string, istiodUrl: string): Promise<ProxyChild> {
  return startProxyChild({
    podIP: ip,
    podName: name,
    namespace: NS,
    serviceAccount: sa,
    configFile: '',
    certDir: '',
    env: {
      MESHDRILL_PROXY_CONFIG_FILE: '',
      MESHDRILL_PROXY_CERT_DIR: '',
      MESHDRILL_ISTIOD_URL: istiodUrl,
      SECRET_TTL: '4s',
    },
  });
}

describe('istiod: xDS push, ACK/NACK, CSR signing, outage', function () {
  this.timeout(60_000);
  let store: MemoryStore;
  let istiod: Istiod | undefined;
  let client: ProxyChild;
  let server: ProxyChild;
  let app: http.Server;
  let istiodUrl: string;

  before(async () => {
    store = createMemoryStore();
    await store.create(
      { group: '', version: 'v1', resource: 'namespaces' },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    );
    await addPod(store, 'client-1', CLIENT_IP, { app: 'client' }, 'client');
    await addPod(store, 'reviews-1', SERVER_IP, { app: 'reviews', version: 'v1' }, 'reviews');
    await store.create(SERVICES, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'reviews', namespace: NS },
      spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
    });
    app = http.createServer((req, res) => res.end(`ok ${req.url}`));
    app.listen(8080, SERVER_IP);
    await once(app, 'listening');
    istiod = await startIstiod({
      source: createStoreSource(store),
      host: ISTIOD_IP,
      port: 0,
      monitoringPort: 0,
      debounceMs: 50,
    });
    istiodUrl = istiod.url;
    [client, server] = await Promise.all([
      startSidecar('client-1', CLIENT_IP, 'client', istiodUrl),
      startSidecar('reviews-1', SERVER_IP, 'reviews', istiodUrl),
    ]);
  });

  after(async () => {
    await Promise.all([client?.stop(), server?.stop()]);
    await istiod?.close();
    app?.close();
  });

  it('proxies connect, get config and certificates (CSR), and talk mTLS; pilot_* and citadel_* use the real names', async () => {
    const reply = await viaProxy(CLIENT_IP, `http://reviews.${NS}:8080/a`);
    expect(reply.status).to.equal(200);
    const m = await fetchText(`${istiod!.monitoringUrl}/metrics`);
    expect(sumMetric(m, 'pilot_xds', {})).to.equal(2);
    expect(sumMetric(m, 'pilot_xds_pushes', { type: 'cds' })).to.be.at.least(2);
    expect(sumMetric(m, 'citadel_server_success_cert_issuance_count', {})).to.be.at.least(2);
    for (const name of [
      'pilot_total_xds_rejects',
      'pilot_services',
      'pilot_virt_services',
      'citadel_server_csr_count',
      'citadel_server_root_cert_expiry_timestamp',
      'citadel_server_cert_chain_expiry_seconds',
    ]) {
      expect(m, name).to.match(new RegExp(`\\n${name}[ {]`));
    }
    expect(m).to.not.match(/pilot_xds_pushes_total|pilot_xds_push_errors/);
    const dst = await fetchText(`http://${SERVER_IP}:15020/stats/prometheus`);
    expect(
      sumMetric(dst, 'istio_requests_total', {
        reporter: 'destination',
        connection_security_policy: 'mutual_tls',
        source_principal: `spiffe://cluster.local/ns/${NS}/sa/client`,
      }),
    ).to.equal(1);
  });

  it('a VirtualService change is pushed after the debounce and ACKed (subset without DestinationRule → NC)', async () => {
    const started = Date.now();
    await store.create(VS, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: NS },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v9' } }] }] },
    });
    await waitFor(
      'NC after the push',
      async () => (await viaProxy(CLIENT_IP, `http://reviews.${NS}:8080/b`)).status === 503,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).to.be.below(3000);
    const proxies = istiod!.proxies();
    expect(proxies.every((p) => p.ackedVersion === p.sentVersion && p.ackedVersion !== undefined)).to.equal(
      true,
    );
    const m = await fetchText(`${istiod!.monitoringUrl}/metrics`);
    expect(sumMetric(m, 'pilot_proxy_convergence_time_count', {})).to.be.at.least(2);
  });

  it('a config the proxy cannot load (invalid regex) is NACKed; the proxy keeps its last good config', async () => {
    const current = store.get(VS, NS, 'reviews');
    await store.update(VS, {
      ...current,
      spec: {
        hosts: ['reviews'],
        http: [{ match: [{ uri: { regex: '([a-z' } }], route: [{ destination: { host: 'reviews' } }] }],
      },
    });
    // Every proxy NACKs on its own: wait for client-1's, not just the first of any (a loaded CI machine once
    // counted the server proxy's NACK before client-1's arrived).
    await waitFor('a NACK from client-1', async () =>
      Boolean(istiod!.proxies().find((p) => p.pod === 'client-1')?.lastNack),
    );
    const client1 = istiod!.proxies().find((p) => p.pod === 'client-1');
    expect(client1?.lastNack).to.match(/invalid regex/);
    const m = await fetchText(`${istiod!.monitoringUrl}/metrics`);
    expect(sumMetric(m, 'pilot_total_xds_rejects', {})).to.be.at.least(1);
    // Still the previous config (the NC route).
    expect((await viaProxy(CLIENT_IP, `http://reviews.${NS}:8080/c`)).status).to.equal(503);
    await store.delete(VS, NS, 'reviews');
    await waitFor(
      'the default route again',
      async () => (await viaProxy(CLIENT_IP, `http://reviews.${NS}:8080/d`)).status === 200,
    );
  });

  it('certificates rotate by CSR at about half their life (SECRET_TTL 4s)', async () => {
    await waitFor(
      'a second CSR',
      async () =>
        sumMetric(
          await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`),
          'istio_agent_num_outgoing_requests',
          { request_type: 'csr' },
        ) >= 2,
      6000,
    );
  });

  it('istiod down: traffic keeps flowing on the last config, CSR failures count up, expiry goes negative; recovery reconnects', async () => {
    await istiod!.close();
    istiod = undefined;
    expect((await viaProxy(CLIENT_IP, `http://reviews.${NS}:8080/e`)).status).to.equal(200);
    await waitFor(
      'a failed CSR',
      async () =>
        sumMetric(
          await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`),
          'istio_agent_num_failed_outgoing_requests',
          { request_type: 'csr' },
        ) >= 1,
      8000,
    );
    await waitFor(
      'an expired certificate',
      async () =>
        sumMetric(
          await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`),
          'istio_agent_cert_expiry_seconds',
          {},
        ) < 0,
      8000,
    );
    const text = await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`);
    expect(
      sumMetric(text, 'istio_agent_istiod_connection_terminations', {}) +
        sumMetric(text, 'istio_agent_istiod_connection_failures', {}),
    ).to.be.at.least(1);
    // Certificates expired on both sides: new connections fail verification.
    const failed = await viaProxy(CLIENT_IP, `http://reviews.${NS}:8080/f`, { connection: 'close' });
    expect([200, 503]).to.include(failed.status);
    // istiod back on the same address: proxies reconnect, receive a full push and fresh certificates.
    const port = Number(new URL(istiodUrl).port);
    istiod = await startIstiod({
      source: createStoreSource(store),
      host: ISTIOD_IP,
      port,
      monitoringPort: 0,
      debounceMs: 50,
    });
    await waitFor('reconnect', async () => istiod!.proxies().length === 2, 10_000);
    await waitFor(
      'fresh certificates',
      async () =>
        sumMetric(
          await fetchText(`http://${CLIENT_IP}:15020/stats/prometheus`),
          'istio_agent_cert_expiry_seconds',
          {},
        ) > 0,
      10_000,
    );
    expect(await getStatus(`http://${CLIENT_IP}:15021/healthz/ready`)).to.equal(200);
  });

  it('a proxy that starts while istiod is unreachable stays running but not Ready ("config not received from XDS server")', async () => {
    const lonely = await startProxyChild({
      podIP: '127.44.0.30',
      podName: 'lonely-1',
      namespace: NS,
      serviceAccount: 'default',
      configFile: '',
      certDir: '',
      waitReady: false,
      // Nothing listens there: every connection attempt fails.
      env: { MESHDRILL_ISTIOD_URL: 'http://127.44.0.99:15012', SECRET_TTL: '1h' },
    });
    try {
      const body = await waitFor(
        'the readiness endpoint',
        async () => (await getStatus('http://127.44.0.30:15021/healthz/ready')) === 503,
        10_000,
      );
      expect(body).to.be.a('number');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await getStatus('http://127.44.0.30:15021/healthz/ready')).to.equal(503);
      expect(await fetchText('http://127.44.0.30:15021/healthz/ready')).to.equal(
        'config not received from XDS server\n',
      );
      expect(lonely.child.exitCode).to.equal(null);
      const stats = await fetchText('http://127.44.0.30:15020/stats/prometheus');
      expect(sumMetric(stats, 'istio_agent_istiod_connection_failures', {})).to.be.at.least(2);
      expect(
        sumMetric(stats, 'istio_agent_num_failed_outgoing_requests', { request_type: 'csr' }),
      ).to.be.at.least(1);
    } finally {
      await lonely.stop();
    }
  });
});
