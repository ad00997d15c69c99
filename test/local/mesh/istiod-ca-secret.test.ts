// Fact (Istio): istiod keeps its self-signed CA in the Secret istio-system/istio-ca-secret and loads it when it
// starts, so a restarted istiod (crash, scale to 0 and back, rollout) signs with the root every proxy already
// trusts. ISTIO-FACTS "Control plane outage": proxies keep their certificates, and on recovery reconnect.

import { expect } from 'chai';
import { createStoreSource, type Istiod, startIstiod } from '../../../clusters/local/mesh/istiod/index.js';
import { createMemoryStore } from '../../../clusters/local/store/index.js';

const SECRETS = { group: '', version: 'v1', resource: 'secrets' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };

/** A store with istio-system, as after an install. */
async function installedStore() {
  const store = createMemoryStore();
  await store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
  return store;
}

describe('istiod self-signed CA persistence (istio-ca-secret)', function () {
  this.timeout(20_000);
  const running: Istiod[] = [];
  afterEach(async () => {
    for (const istiod of running.splice(0)) await istiod.close();
  });
  const start = async (store: ReturnType<typeof createMemoryStore>): Promise<Istiod> => {
    const istiod = await startIstiod({
      source: createStoreSource(store),
      host: '127.44.9.2',
      port: 0,
      monitoringPort: 0,
    });
    running.push(istiod);
    return istiod;
  };

  it('stores its root in istio-system/istio-ca-secret and signs with the same root after a restart', async () => {
    const store = await installedStore();
    const first = await start(store);
    const root = first.ca().rootCertPem;
    const secret = store.get(SECRETS, 'istio-system', 'istio-ca-secret');
    expect(secret?.type).to.equal('istio.io/ca-root');
    const data = secret?.data as Record<string, string>;
    expect(Buffer.from(data['ca-cert.pem'] ?? '', 'base64').toString()).to.equal(root);
    expect(Buffer.from(data['ca-key.pem'] ?? '', 'base64').toString()).to.match(/BEGIN PRIVATE KEY/);
    await first.close();
    running.splice(0);

    const second = await start(store);
    expect(second.ca().rootCertPem).to.equal(root);
  });

  it('a fresh cluster (no istio-ca-secret) gets a new root: the secret, not chance, carries it', async () => {
    const a = await start(await installedStore());
    const b = await start(await installedStore());
    expect(a.ca().rootCertPem).to.not.equal(b.ca().rootCertPem);
  });
});
