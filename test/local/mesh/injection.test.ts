// Injection and validation admission on the real in-memory store, and the install objects (ISTIO-FACTS.md
// "Sidecar memory and OOM", "Control plane outage", "Metrics and where they come from").

import { expect } from 'chai';
import {
  buildInstallManifests,
  installIstio,
  meshContainerEnv,
  meshImageEnv,
  registerMeshAdmission,
  registerMeshImages,
  uninstallIstio,
} from '../../../clusters/local/mesh/index.js';
import { WEBHOOK_CONFIGURATIONS } from '../../../clusters/local/mesh/injection/webhooks.js';
import { createImageRegistry } from '../../../clusters/local/programs/registry.js';
import { createMemoryStore, type MemoryStore } from '../../../clusters/local/store/index.js';
import type { ResourceKey, StoredObject } from '../../../clusters/local/store/types.js';

const NAMESPACES: ResourceKey = { group: '', version: 'v1', resource: 'namespaces' };
const PODS: ResourceKey = { group: '', version: 'v1', resource: 'pods' };
const ENDPOINTS: ResourceKey = { group: '', version: 'v1', resource: 'endpoints' };
const VS: ResourceKey = { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' };

type Container = {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
  resources?: unknown;
  restartPolicy?: string;
};

function podSpec(
  name: string,
  namespace: string,
  annotations: Record<string, string> = {},
  labels: Record<string, string> = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, annotations, labels: { app: 'web', ...labels } },
    spec: { containers: [{ name: 'app', image: 'fortio/fortio', ports: [{ containerPort: 8080 }] }] },
  };
}

function containersOf(pod: StoredObject): { containers: Container[]; initContainers: Container[] } {
  const spec = pod.spec as { containers?: Container[]; initContainers?: Container[] };
  return { containers: spec.containers ?? [], initContainers: spec.initContainers ?? [] };
}

async function setIstiodEndpoints(store: MemoryStore, ready: boolean): Promise<void> {
  const existing = store.get(ENDPOINTS, 'istio-system', 'istiod');
  const object = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'istiod', namespace: 'istio-system' },
    subsets: ready ? [{ addresses: [{ ip: '127.1.0.5' }], ports: [{ name: 'https-dns', port: 15012 }] }] : [],
  };
  if (existing) await store.update(ENDPOINTS, { ...object, metadata: existing.metadata });
  else await store.create(ENDPOINTS, object);
}

describe('mesh injection and validation admission', () => {
  let store: MemoryStore;

  beforeEach(async () => {
    store = createMemoryStore();
    await store
      .create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } })
      .catch(() => undefined);
    await store.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'meshed', labels: { 'istio-injection': 'enabled' } },
    });
    await store.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'rev', labels: { 'istio.io/rev': '1-30-3' } },
    });
    await store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'plain' } });
    // The injection webhooks come with the install: the default revision's and revision 1-30-3's.
    await installIstio(store);
    await installIstio(store, { revision: '1-30-3' });
    registerMeshAdmission(store);
  });

  it('injects istio-proxy with default resources (100m/128Mi, 2/1Gi), HTTP_PROXY for apps and prometheus.io annotations', async () => {
    const pod = await store.create(PODS, podSpec('a', 'meshed'));
    const { containers } = containersOf(pod);
    const proxy = containers.find((c) => c.name === 'istio-proxy');
    expect(proxy?.image).to.equal('docker.io/istio/proxyv2:1.30.3');
    expect(proxy?.resources).to.deep.equal({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '2', memory: '1Gi' },
    });
    const app = containers.find((c) => c.name === 'app');
    expect(app?.env?.find((e) => e.name === 'HTTP_PROXY')?.value).to.equal(
      'http://$(MESHDRILL_SIDECAR_IP):15001',
    );
    expect(pod.metadata.annotations).to.include({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '15020',
      'prometheus.io/path': '/stats/prometheus',
    });
    const rev = await store.create(PODS, podSpec('b', 'rev'));
    expect(containersOf(rev).containers.map((c) => c.name)).to.include('istio-proxy');
  });

  it('honours sidecar.istio.io/inject "false" and leaves uninjected namespaces alone', async () => {
    const optedOut = await store.create(PODS, podSpec('c', 'meshed', { 'sidecar.istio.io/inject': 'false' }));
    expect(containersOf(optedOut).containers.map((c) => c.name)).to.deep.equal(['app']);
    const byLabel = await store.create(
      PODS,
      podSpec('d', 'meshed', {}, { 'sidecar.istio.io/inject': 'false' }),
    );
    expect(containersOf(byLabel).containers.map((c) => c.name)).to.deep.equal(['app']);
    const plain = await store.create(PODS, podSpec('e', 'plain'));
    expect(containersOf(plain).containers.map((c) => c.name)).to.deep.equal(['app']);
  });

  it('resource annotations, nativeSidecar and proxy.istio.io/config (SECRET_TTL, proxyStatsMatcher)', async () => {
    const pod = await store.create(
      PODS,
      podSpec('f', 'meshed', {
        'sidecar.istio.io/proxyMemoryLimit': '256Mi',
        'sidecar.istio.io/proxyCPU': '50m',
        'sidecar.istio.io/nativeSidecar': 'true',
        'proxy.istio.io/config':
          'proxyMetadata:\n  SECRET_TTL: 30s\nproxyStatsMatcher:\n  inclusionRegexps: [".*upstream_rq_retry.*"]\n',
      }),
    );
    const { containers, initContainers } = containersOf(pod);
    expect(containers.map((c) => c.name)).to.deep.equal(['app']);
    const proxy = initContainers.find((c) => c.name === 'istio-proxy');
    expect(proxy?.restartPolicy).to.equal('Always');
    expect(proxy?.resources).to.deep.equal({
      requests: { cpu: '50m', memory: '128Mi' },
      limits: { cpu: '2', memory: '256Mi' },
    });
    expect(proxy?.env?.find((e) => e.name === 'SECRET_TTL')?.value).to.equal('30s');
    const proxyConfig = JSON.parse(proxy?.env?.find((e) => e.name === 'PROXY_CONFIG')?.value ?? '{}');
    expect(proxyConfig.proxyStatsMatcher.inclusionRegexps).to.deep.equal(['.*upstream_rq_retry.*']);
  });

  it('validation rejects invalid Istio objects with the webhook wording', async () => {
    const error = await store
      .create(VS, {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'bad', namespace: 'meshed' },
        spec: {
          hosts: [],
          http: [{ match: [{ uri: { regex: '([a-z' } }], route: [{ destination: { host: 'x' } }] }],
        },
      })
      .catch((e: unknown) => e as Error);
    expect(String(error)).to.match(
      /admission webhook "validation.istio.io" denied the request: configuration is invalid: virtual service must have at least one host/,
    );
    expect(String(error)).to.match(/not a valid regex/);
  });

  it('once istiod has been up, injection and validation fail closed while it has no ready endpoints', async () => {
    // Never up yet: like a cluster before istiod's first start, nothing is refused.
    expect((await store.create(PODS, podSpec('g', 'meshed'))).metadata.name).to.equal('g');
    await setIstiodEndpoints(store, true);
    await setIstiodEndpoints(store, false);
    const podError = await store.create(PODS, podSpec('h', 'meshed')).catch((e: unknown) => e as Error);
    expect(String(podError)).to.include(
      'failed calling webhook "namespace.sidecar-injector.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/inject?timeout=10s": no endpoints available for service "istiod"',
    );
    // Pods outside injected namespaces are not affected.
    expect((await store.create(PODS, podSpec('i', 'plain'))).metadata.name).to.equal('i');
    const vsError = await store
      .create(VS, {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'ok', namespace: 'meshed' },
        spec: { hosts: ['x'], http: [{ route: [{ destination: { host: 'x' } }] }] },
      })
      .catch((e: unknown) => e as Error);
    expect(String(vsError)).to.include('failed calling webhook "validation.istio.io"');
    expect(String(vsError)).to.include('no endpoints available for service "istiod"');
    await setIstiodEndpoints(store, true);
    expect((await store.create(PODS, podSpec('j', 'meshed'))).metadata.name).to.equal('j');
  });

  it('a server-side dry run goes through the webhooks: injected when istiod is up, refused while it is down, never stored', async () => {
    await setIstiodEndpoints(store, true);
    const dry = await store.create(PODS, podSpec('dry', 'meshed'), { dryRun: true });
    expect(containersOf(dry).containers.map((c) => c.name)).to.include('istio-proxy');
    expect(store.get(PODS, 'meshed', 'dry')).to.equal(undefined);
    await setIstiodEndpoints(store, false);
    const refused = await store
      .create(PODS, podSpec('dry', 'meshed'), { dryRun: true })
      .catch((e: unknown) => e as Error);
    expect(String(refused)).to.include('no endpoints available for service "istiod"');
    expect(store.get(PODS, 'meshed', 'dry')).to.equal(undefined);
  });

  it('install creates istio-system objects through the store (istiod on istio/pilot, gateway on istio/proxyv2 behind a LoadBalancer) and uninstall removes them', async () => {
    const created = await installIstio(store);
    expect(created.map((o) => `${o.kind}/${o.metadata.name}`)).to.include.members([
      'Deployment/istiod',
      'Service/istiod',
      'Deployment/istio-ingressgateway',
      'Service/istio-ingressgateway',
    ]);
    const gwSvc = store.get(
      { group: '', version: 'v1', resource: 'services' },
      'istio-system',
      'istio-ingressgateway',
    );
    expect((gwSvc?.spec as { type?: string } | undefined)?.type).to.equal('LoadBalancer');
    const images = buildInstallManifests().flatMap((m) => {
      const spec = (m.object.spec as { template?: { spec: { containers: { image: string }[] } } } | undefined)
        ?.template;
      return spec ? spec.spec.containers.map((c) => c.image) : [];
    });
    expect(images).to.deep.equal(['docker.io/istio/pilot:1.30.3', 'docker.io/istio/proxyv2:1.30.3']);
    await uninstallIstio(store);
    expect(
      store.get({ group: 'apps', version: 'v1', resource: 'deployments' }, 'istio-system', 'istiod'),
    ).to.equal(undefined);
  });

  it('maps the Istio images to the emulation programs and gives only istiod the API token', () => {
    const registry = createImageRegistry();
    registerMeshImages(registry);
    expect(registry.resolve('docker.io/istio/proxyv2:1.30.3')?.program.entrypoint).to.deep.equal([
      '/usr/local/bin/pilot-agent',
    ]);
    expect(registry.resolve('istio/pilot:1.30.3')?.program.executables['pilot-discovery']).to.deep.include({
      kind: 'bundle',
    });
    const istiodPod = {
      spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.30.3' }] },
    };
    expect(meshContainerEnv(istiodPod, 'discovery', 't0k')).to.deep.equal({ MESHDRILL_KUBE_TOKEN: 't0k' });
    const appPod = { spec: { containers: [{ name: 'app', image: 'fortio/fortio' }] } };
    expect(meshContainerEnv(appPod, 'app', 't0k')).to.deep.equal({});
  });

  it("gives Istio's containers the version of the image they run (and nothing to other images)", () => {
    const pod = (image: string, init = false) => ({
      spec: init
        ? { containers: [], initContainers: [{ name: 'c', image }] }
        : { containers: [{ name: 'c', image }] },
    });
    expect(meshImageEnv(pod('docker.io/istio/proxyv2:1.29.9'), 'c')).to.deep.equal({
      ISTIO_META_ISTIO_VERSION: '1.29.9',
    });
    // A native sidecar is an init container.
    expect(meshImageEnv(pod('istio/proxyv2:1.30.3', true), 'c')).to.deep.equal({
      ISTIO_META_ISTIO_VERSION: '1.30.3',
    });
    expect(meshImageEnv(pod('docker.io/istio/pilot:1.29.9'), 'c')).to.deep.equal({
      MESHDRILL_ISTIO_VERSION: '1.29.9',
    });
    expect(meshImageEnv(pod('localhost:5000/istio/pilot:1.29.9@sha256:abc'), 'c')).to.deep.equal({
      MESHDRILL_ISTIO_VERSION: '1.29.9',
    });
    expect(meshImageEnv(pod('localhost:5000/istio/pilot@sha256:abc'), 'c')).to.deep.equal({});
    expect(meshImageEnv(pod('fortio/fortio:1.30.3'), 'c')).to.deep.equal({});
    expect(meshImageEnv(pod('docker.io/istio/proxyv2:1.29.9'), 'other')).to.deep.equal({});
  });
});

describe('injection by revision: the webhooks each revision and tag installs choose the injector', () => {
  let store: MemoryStore;

  const namespace = (name: string, labels: Record<string, string>) =>
    store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  const proxyOf = (pod: StoredObject) => containersOf(pod).containers.find((c) => c.name === 'istio-proxy');
  const discovery = (pod: StoredObject) =>
    JSON.parse(proxyOf(pod)?.env?.find((e) => e.name === 'PROXY_CONFIG')?.value ?? '{}').discoveryAddress;

  beforeEach(async () => {
    store = createMemoryStore();
    await installIstio(store, { version: '1.29.9' });
    await installIstio(store, { revision: 'canary', version: '1.30.3' });
    registerMeshAdmission(store);
  });

  it('creates istiod-<rev>, its configmaps and its webhook, all labelled istio.io/rev, beside the default', () => {
    const names = buildInstallManifests({ revision: 'canary' }).map(
      (m) => `${m.object.kind}/${(m.object.metadata as { name: string }).name}`,
    );
    expect(names).to.deep.equal([
      'Namespace/istio-system',
      'ServiceAccount/istiod-canary',
      'ConfigMap/istio-canary',
      'ConfigMap/istio-sidecar-injector-canary',
      'Deployment/istiod-canary',
      'Service/istiod-canary',
      'MutatingWebhookConfiguration/istio-sidecar-injector-canary',
    ]);
    // The chart's ServiceAccount carries no revision label; everything after it does.
    for (const m of buildInstallManifests({ revision: 'canary' }).slice(2)) {
      expect((m.object.metadata as { labels: Record<string, string> }).labels['istio.io/rev']).to.equal(
        'canary',
      );
    }
    const svc = store.get(
      { group: '', version: 'v1', resource: 'services' },
      'istio-system',
      'istiod-canary',
    );
    expect((svc?.spec as { selector?: unknown } | undefined)?.selector).to.deep.equal({
      app: 'istiod',
      'istio.io/rev': 'canary',
    });
    const webhook = store.get(
      WEBHOOK_CONFIGURATIONS,
      undefined,
      'istio-sidecar-injector-canary',
    ) as unknown as {
      webhooks: { name: string; namespaceSelector: unknown }[];
    };
    expect(webhook.webhooks.map((w) => w.name)).to.deep.equal([
      'rev.namespace.sidecar-injector.istio.io',
      'rev.object.sidecar-injector.istio.io',
    ]);
    expect(webhook.webhooks[0]?.namespaceSelector).to.deep.equal({
      matchExpressions: [
        { key: 'istio.io/rev', operator: 'In', values: ['canary'] },
        { key: 'istio-injection', operator: 'DoesNotExist' },
      ],
    });
  });

  it('istio.io/rev=<rev> is injected by that revision: its istiod, its proxy image, its revision annotation', async () => {
    await namespace('b', { 'istio.io/rev': 'canary' });
    const pod = await store.create(PODS, podSpec('p', 'b'));
    expect(proxyOf(pod)?.image).to.equal('docker.io/istio/proxyv2:1.30.3');
    expect(discovery(pod)).to.equal('istiod-canary.istio-system.svc:15012');
    expect(pod.metadata.annotations?.['istio.io/rev']).to.equal('canary');
    expect(JSON.parse(pod.metadata.annotations?.['sidecar.istio.io/status'] ?? '{}').revision).to.equal(
      'canary',
    );
  });

  it('istio-injection=enabled and istio.io/rev=default go to the default revision; with both labels istio-injection wins', async () => {
    await namespace('legacy', { 'istio-injection': 'enabled' });
    await namespace('bydefault', { 'istio.io/rev': 'default' });
    await namespace('both', { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' });
    for (const ns of ['legacy', 'bydefault', 'both']) {
      const pod = await store.create(PODS, podSpec('p', ns));
      expect(discovery(pod), ns).to.equal('istiod.istio-system.svc:15012');
      expect(proxyOf(pod)?.image, ns).to.equal('docker.io/istio/proxyv2:1.29.9');
      expect(pod.metadata.annotations?.['istio.io/rev'], ns).to.equal('default');
    }
  });

  it('a pod label istio.io/rev in an unlabelled namespace picks its revision; a revision nobody installed injects nothing', async () => {
    await namespace('plain', {});
    const pod = await store.create(PODS, podSpec('p', 'plain', {}, { 'istio.io/rev': 'canary' }));
    expect(discovery(pod)).to.equal('istiod-canary.istio-system.svc:15012');
    await namespace('nobody', { 'istio.io/rev': 'stable' });
    const plain = await store.create(PODS, podSpec('q', 'nobody'));
    expect(proxyOf(plain)).to.equal(undefined);
  });

  it('after the revision is uninstalled its namespaces get no sidecar (the webhook is gone)', async () => {
    await namespace('b', { 'istio.io/rev': 'canary' });
    await uninstallIstio(store, { revision: 'canary' });
    expect(store.get(WEBHOOK_CONFIGURATIONS, undefined, 'istio-sidecar-injector-canary')).to.equal(undefined);
    expect(
      store.get({ group: 'apps', version: 'v1', resource: 'deployments' }, 'istio-system', 'istiod'),
    ).to.not.equal(undefined);
    const pod = await store.create(PODS, podSpec('p', 'b'));
    expect(proxyOf(pod)).to.equal(undefined);
  });

  it('a webhook whose istiod Service is gone fails the create, as the API server does (failurePolicy Fail)', async () => {
    await namespace('b', { 'istio.io/rev': 'canary' });
    await store.delete({ group: '', version: 'v1', resource: 'services' }, 'istio-system', 'istiod-canary');
    const error = await store.create(PODS, podSpec('p', 'b')).catch((e: unknown) => e as Error);
    expect(String(error)).to.include(
      'failed calling webhook "rev.namespace.sidecar-injector.istio.io": failed to call webhook: Post "https://istiod-canary.istio-system.svc:443/inject?timeout=10s": service "istiod-canary" not found',
    );
  });
});
