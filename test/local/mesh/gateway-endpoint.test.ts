// A gateway pod behind a Service is not a sidecar endpoint: its `istio-proxy` container runs `proxy router` and
// listens on its container ports itself, so a client proxy dials the Service's target port (not the inbound
// capture port 15006) — the path the gateway-overload drill's edge takes to its dedicated gateway.

import { expect } from 'chai';
import { buildProxyConfig, proxyNodeForPod } from '../../../clusters/local/mesh/config/index.js';
import { hasSidecar } from '../../../clusters/local/mesh/config/snapshot.js';
import type { KubeObject } from '../../../harness/model/kube-object.js';
import { pod, service, snapshot } from './fixtures.js';

const NS = 'gw';

function gatewayPod(name: string, ip: string): KubeObject {
  const p = pod(name, NS, ip, { app: 'shop-gateway', istio: 'drill-gateway' }, { sidecar: false });
  const spec = p.spec as { containers: Record<string, unknown>[] };
  spec.containers = [
    { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.30.3', args: ['proxy', 'router'] },
  ];
  return p;
}

describe('gateway pods as endpoints', () => {
  const client = pod('client-1', NS, '127.60.0.1', { app: 'client' });
  const shop = pod('shop-1', NS, '127.60.0.2', { app: 'shop' });
  const gateway = gatewayPod('shop-gateway-1', '127.60.0.3');

  it('a pod whose istio-proxy runs `proxy router` has no sidecar; an injected pod has one', () => {
    expect(hasSidecar(gateway)).to.equal(false);
    expect(hasSidecar(shop)).to.equal(true);
  });

  it('a client proxy marks the gateway endpoint out of the mesh (dialled directly) and the sidecar one in it', () => {
    const world = snapshot({
      pods: [client, shop, gateway],
      services: [service('shop', NS, { app: 'shop' }), service('shop-gateway', NS, { app: 'shop-gateway' })],
    });
    const config = buildProxyConfig({
      snapshot: world,
      node: proxyNodeForPod(client, 'sidecar'),
      version: '1',
    });
    const endpoint = (svc: string) =>
      config.clusters.find((c) => c.name === `outbound|8080||${svc}.${NS}.svc.cluster.local`)?.endpoints[0];
    expect(endpoint('shop-gateway')?.inMesh).to.equal(false);
    expect(endpoint('shop-gateway')?.mtls).to.equal(false);
    expect(endpoint('shop')?.inMesh).to.equal(true);
  });
});
