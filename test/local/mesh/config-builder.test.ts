// The config builder against ISTIO-FACTS.md: relative weights, NC for an undefined subset, NR on no match,
// case-sensitive matches, auto-mTLS vs PeerAuthentication levels, Sidecar egress scoping, gateway binding.

import { expect } from 'chai';
import {
  buildProxyConfig,
  type MeshSnapshot,
  measureConfigSize,
  proxyNodeForPod,
} from '../../../clusters/local/mesh/config/index.js';
import type { ProxyConfig } from '../../../clusters/local/mesh/model/proxy-config.js';
import {
  expandHost,
  findVirtualHost,
  indexRoutes,
  type RequestFacts,
  selectRoute,
} from '../../../clusters/local/mesh/proxy/route-table.js';
import { istio, pod, service, snapshot } from './fixtures.js';

const client = pod('client-1', 'app', '127.1.0.10', { app: 'client', version: 'v1' });
const reviewsV1 = pod('reviews-v1-1', 'app', '127.1.0.11', { app: 'reviews', version: 'v1' });
const reviewsV2 = pod('reviews-v2-1', 'app', '127.1.0.12', { app: 'reviews', version: 'v2' });
const base = {
  pods: [client, reviewsV1, reviewsV2],
  services: [service('reviews', 'app', { app: 'reviews' }), service('client', 'app', { app: 'client' })],
};
const subsetsDr = istio('DestinationRule', 'reviews', 'app', {
  host: 'reviews',
  subsets: [
    { name: 'v1', labels: { version: 'v1' } },
    { name: 'v2', labels: { version: 'v2' } },
  ],
});

function configFor(s: MeshSnapshot, p = client): ProxyConfig {
  return buildProxyConfig({ snapshot: s, node: proxyNodeForPod(p, 'sidecar'), version: '1' });
}

function request(host: string, path = '/', headers: Record<string, string> = {}): RequestFacts {
  return { host, port: 8080, path, method: 'GET', headers };
}

function route(config: ProxyConfig, req: RequestFacts, random = Math.random()) {
  const index = indexRoutes(config, config.virtualHosts);
  const vh = findVirtualHost(index, expandHost(req.host, config.node.namespace), req.port);
  return selectRoute(index, vh, req, random);
}

describe('mesh config builder', () => {
  it('weights are relative: 90/10 is observed within ±3 points over 2,000 picks (fact: weight / sum)', () => {
    const vs = istio('VirtualService', 'reviews', 'app', {
      hosts: ['reviews'],
      http: [
        {
          route: [
            { destination: { host: 'reviews', subset: 'v1' }, weight: 9 },
            { destination: { host: 'reviews', subset: 'v2' }, weight: 1 },
          ],
        },
      ],
    });
    const config = configFor(snapshot({ ...base, virtualServices: [vs], destinationRules: [subsetsDr] }));
    let v2 = 0;
    for (let i = 0; i < 2000; i++) {
      const d = route(config, request('reviews'));
      expect(d.kind).to.equal('route');
      if (d.kind === 'route' && d.cluster.subset === 'v2') v2 += 1;
    }
    expect(v2 / 2000).to.be.within(0.07, 0.13);
  });

  it('a subset without a DestinationRule routes to a missing cluster → 503 NC', () => {
    const vs = istio('VirtualService', 'reviews', 'app', {
      hosts: ['reviews'],
      http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }] }],
    });
    const config = configFor(snapshot({ ...base, virtualServices: [vs], destinationRules: [subsetsDr] }));
    const d = route(config, request('reviews.app.svc.cluster.local'));
    expect(d.kind).to.equal('no-cluster');
    if (d.kind === 'no-cluster') {
      expect(d.flag).to.equal('NC');
      expect(d.status).to.equal(503);
      expect(d.clusterName).to.equal('outbound|8080|v3|reviews.app.svc.cluster.local');
    }
  });

  it('subset clusters hold only endpoints whose labels match the DestinationRule subset', () => {
    const config = configFor(snapshot({ ...base, destinationRules: [subsetsDr] }));
    const v2 = config.clusters.find((c) => c.name === 'outbound|8080|v2|reviews.app.svc.cluster.local');
    expect(v2?.endpoints.map((e) => e.address)).to.deep.equal(['127.1.0.12']);
    const all = config.clusters.find((c) => c.name === 'outbound|8080||reviews.app.svc.cluster.local');
    expect(all?.endpoints).to.have.length(2);
  });

  it('matches are case-sensitive and exact unless prefix/regex; no match → 404 NR', () => {
    const vs = istio('VirtualService', 'reviews', 'app', {
      hosts: ['reviews'],
      http: [
        { match: [{ uri: { exact: '/api' } }], route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
        {
          match: [{ uri: { prefix: '/static/' } }],
          route: [{ destination: { host: 'reviews', subset: 'v1' } }],
        },
        {
          match: [{ uri: { regex: '/item/[0-9]+' } }],
          route: [{ destination: { host: 'reviews', subset: 'v2' } }],
        },
        {
          match: [{ headers: { 'End-User': { exact: 'jason' } } }],
          route: [{ destination: { host: 'reviews', subset: 'v2' } }],
        },
      ],
    });
    const config = configFor(snapshot({ ...base, virtualServices: [vs], destinationRules: [subsetsDr] }));
    expect(route(config, request('reviews', '/api')).kind).to.equal('route');
    expect(route(config, request('reviews', '/API')).kind).to.equal('no-route');
    expect(route(config, request('reviews', '/api/x')).kind).to.equal('no-route');
    expect(route(config, request('reviews', '/static/a.css')).kind).to.equal('route');
    expect(route(config, request('reviews', '/item/42')).kind).to.equal('route');
    expect(route(config, request('reviews', '/item/4x')).kind).to.equal('no-route');
    expect(route(config, request('reviews', '/x', { 'end-user': 'jason' })).kind).to.equal('route');
    const nr = route(config, request('reviews', '/x', { 'end-user': 'Jason' }));
    expect(nr).to.deep.equal({ kind: 'no-route', flag: 'NR', status: 404 });
  });

  it('without a VirtualService the default route carries the default retry policy (2 retries, no status codes)', () => {
    const config = configFor(snapshot(base));
    const d = route(config, request('reviews.app'));
    expect(d.kind).to.equal('route');
    if (d.kind === 'route') {
      expect(d.route.retries.attempts).to.equal(2);
      expect(d.route.retries.retryOn).to.equal(
        'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      );
    }
  });

  it('auto-mTLS: in-mesh endpoints get mTLS; out-of-mesh endpoints get plaintext', () => {
    const plain = pod('legacy-1', 'app', '127.1.0.20', { app: 'legacy' }, { sidecar: false });
    const config = configFor(
      snapshot({
        pods: [...base.pods, plain],
        services: [...base.services, service('legacy', 'app', { app: 'legacy' })],
      }),
    );
    const reviews = config.clusters.find((c) => c.name === 'outbound|8080||reviews.app.svc.cluster.local');
    const legacy = config.clusters.find((c) => c.name === 'outbound|8080||legacy.app.svc.cluster.local');
    expect(reviews?.endpoints.every((e) => e.mtls)).to.equal(true);
    expect(legacy?.endpoints.map((e) => e.mtls)).to.deep.equal([false]);
  });

  it('PERMISSIVE on the server does not change what clients send; a namespace-level DISABLE does', () => {
    const permissive = istio('PeerAuthentication', 'default', 'app', { mtls: { mode: 'PERMISSIVE' } });
    const withPermissive = configFor(snapshot({ ...base, peerAuthentications: [permissive] }));
    const c1 = withPermissive.clusters.find((c) => c.name === 'outbound|8080||reviews.app.svc.cluster.local');
    expect(c1?.endpoints.every((e) => e.mtls)).to.equal(true);
    expect(
      configFor(snapshot({ ...base, peerAuthentications: [permissive] }), reviewsV1).inbound.defaultMtls,
    ).to.equal('PERMISSIVE');

    const disable = istio('PeerAuthentication', 'default', 'app', { mtls: { mode: 'DISABLE' } });
    const withDisable = configFor(snapshot({ ...base, peerAuthentications: [disable] }));
    const c2 = withDisable.clusters.find((c) => c.name === 'outbound|8080||reviews.app.svc.cluster.local');
    expect(c2?.endpoints.every((e) => !e.mtls)).to.equal(true);
  });

  it('a workload-selector DISABLE changes the server only, not what clients send', () => {
    const workloadDisable = istio('PeerAuthentication', 'reviews', 'app', {
      selector: { matchLabels: { app: 'reviews' } },
      mtls: { mode: 'DISABLE' },
    });
    const s = snapshot({ ...base, peerAuthentications: [workloadDisable] });
    const c = configFor(s).clusters.find((x) => x.name === 'outbound|8080||reviews.app.svc.cluster.local');
    expect(c?.endpoints.every((e) => e.mtls)).to.equal(true);
    expect(configFor(s, reviewsV1).inbound.defaultMtls).to.equal('DISABLE');
  });

  it('PeerAuthentication precedence: workload > namespace > mesh-wide (root namespace) > PERMISSIVE', () => {
    const mesh = istio('PeerAuthentication', 'default', 'istio-system', { mtls: { mode: 'STRICT' } });
    expect(
      configFor(snapshot({ ...base, peerAuthentications: [mesh] }), reviewsV1).inbound.defaultMtls,
    ).to.equal('STRICT');
    const ns = istio('PeerAuthentication', 'default', 'app', { mtls: { mode: 'PERMISSIVE' } });
    expect(
      configFor(snapshot({ ...base, peerAuthentications: [mesh, ns] }), reviewsV1).inbound.defaultMtls,
    ).to.equal('PERMISSIVE');
    const portLevel = istio('PeerAuthentication', 'rv', 'app', {
      selector: { matchLabels: { app: 'reviews' } },
      mtls: { mode: 'UNSET' },
      portLevelMtls: { '8080': { mode: 'DISABLE' } },
    });
    const cfg = configFor(snapshot({ ...base, peerAuthentications: [mesh, ns, portLevel] }), reviewsV1);
    expect(cfg.inbound.defaultMtls).to.equal('PERMISSIVE');
    expect(cfg.inbound.ports.map((p) => [p.targetPort, p.mtls])).to.deep.equal([[8080, 'DISABLE']]);
    // A mesh-wide DISABLE also stops clients originating mTLS.
    const meshOff = istio('PeerAuthentication', 'default', 'istio-system', { mtls: { mode: 'DISABLE' } });
    const off = configFor(snapshot({ ...base, peerAuthentications: [meshOff] }));
    expect(off.clusters.flatMap((c) => c.endpoints).some((e) => e.mtls)).to.equal(false);
  });

  it('a DestinationRule tls.mode DISABLE turns mTLS off for that destination', () => {
    const dr = istio('DestinationRule', 'reviews', 'app', {
      host: 'reviews',
      trafficPolicy: { tls: { mode: 'DISABLE' } },
    });
    const config = configFor(snapshot({ ...base, destinationRules: [dr] }));
    const c = config.clusters.find((x) => x.name === 'outbound|8080||reviews.app.svc.cluster.local');
    expect(c?.endpoints.every((e) => !e.mtls)).to.equal(true);
  });

  it('a Sidecar egress scope (./*, istio-system/*) hides other namespaces and shrinks the config', () => {
    const flood = Array.from({ length: 60 }, (_, i) =>
      service(`svc-${i}`, `other-${i % 3}`, { app: `x${i}` }),
    );
    const s = snapshot({
      ...base,
      services: [...base.services, ...flood, service('istiod', 'istio-system', { app: 'istiod' })],
    });
    const before = measureConfigSize(configFor(s));
    const sidecar = istio('Sidecar', 'default', 'app', { egress: [{ hosts: ['./*', 'istio-system/*'] }] });
    const scoped = configFor({ ...s, sidecars: [sidecar] });
    const after = measureConfigSize(scoped);
    expect(scoped.clusters.map((c) => c.host).sort()).to.deep.equal([
      'client.app.svc.cluster.local',
      'istiod.istio-system.svc.cluster.local',
      'reviews.app.svc.cluster.local',
    ]);
    expect(before.clusters).to.equal(63);
    expect(after.clusters).to.equal(3);
    expect(after.bytes).to.be.below(before.bytes / 5);
    // ns/host entries and a workload-selected Sidecar take precedence over the namespace default.
    const narrow = istio('Sidecar', 'client-only', 'app', {
      workloadSelector: { labels: { app: 'client' } },
      egress: [{ hosts: ['other-1/svc-1.other-1.svc.cluster.local'] }],
    });
    const narrowCfg = configFor({ ...s, sidecars: [sidecar, narrow] });
    expect(narrowCfg.clusters.map((c) => c.host)).to.deep.equal(['svc-1.other-1.svc.cluster.local']);
  });

  it('a gateway binds VirtualServices by gateway name and listens on the Service target port', () => {
    const gwPod = pod(
      'istio-ingressgateway-1',
      'istio-system',
      '127.1.0.2',
      { istio: 'ingressgateway', app: 'istio-ingressgateway' },
      { sidecar: false },
    );
    const gwSvc = {
      ...service('istio-ingressgateway', 'istio-system', { istio: 'ingressgateway' }),
      spec: {
        type: 'LoadBalancer',
        selector: { istio: 'ingressgateway' },
        ports: [{ name: 'http2', port: 80, targetPort: 8080 }],
      },
    };
    const gw = istio('Gateway', 'front', 'app', {
      selector: { istio: 'ingressgateway' },
      servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
    });
    const vs = istio('VirtualService', 'front', 'app', {
      hosts: ['frontend.drill.local'],
      gateways: ['front'],
      http: [{ route: [{ destination: { host: 'reviews', port: { number: 8080 } } }] }],
    });
    const meshOnly = istio('VirtualService', 'mesh-only', 'app', {
      hosts: ['reviews'],
      http: [{ route: [{ destination: { host: 'reviews' } }] }],
    });
    const cfg = buildProxyConfig({
      snapshot: snapshot({
        pods: [...base.pods, gwPod],
        services: [...base.services, gwSvc],
        gateways: [gw],
        virtualServices: [vs, meshOnly],
      }),
      node: proxyNodeForPod(gwPod, 'router'),
      version: '1',
    });
    expect(cfg.gateway).to.have.length(1);
    expect(cfg.gateway[0]?.listenPort).to.equal(8080);
    expect(cfg.gateway[0]?.virtualHosts.map((v) => v.domains)).to.deep.equal([['frontend.drill.local']]);
    expect(cfg.gateway[0]?.virtualHosts[0]?.routes[0]?.clusters[0]?.cluster).to.equal(
      'outbound|8080||reviews.app.svc.cluster.local',
    );
  });
});
