// The API server at the HTTP level: discovery content types, openapi answers, Table output, watch semantics
// (410, timeoutSeconds, selectors), delete collection, propagation policy and dry runs.

import { expect } from 'chai';
import { createMemoryStore, KEYS } from '../../../clusters/local/store/index.js';
import { startApiServer } from '../../../clusters/local/apiserver/index.js';
import { type Fixture, rawRequest, startFixture } from './fixture.js';

interface Json {
  [key: string]: unknown;
}

function parse(body: string): Json {
  return JSON.parse(body) as Json;
}

describe('API server over HTTP', function () {
  this.timeout(30_000);
  let f: Fixture;
  const get = (path: string, headers: Record<string, string> = {}) =>
    rawRequest(`${f.server.url}${path}`, { token: f.token, headers });

  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => {
    await f.stop();
  });

  it('serves aggregated discovery with its content type, and legacy documents otherwise', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const core = await get('/api', { Accept: accept });
    expect(core.headers['content-type']).to.equal(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const pods = JSON.stringify(parse(core.body));
    expect(pods).to.include('"resource":"pods"');
    const apis = parse((await get('/apis', { Accept: accept })).body) as {
      items: { metadata: { name: string } }[];
    };
    expect(apis.items.map((i) => i.metadata.name)).to.include.members([
      'apps',
      'networking.istio.io',
      'security.istio.io',
      'chaos-mesh.org',
      'k6.io',
      'metrics.k8s.io',
    ]);
    expect(parse((await get('/api')).body).kind).to.equal('APIVersions');
    const list = parse((await get('/apis/networking.istio.io/v1beta1')).body) as {
      resources: { name: string }[];
    };
    expect(list.resources.map((r) => r.name)).to.include('virtualservices');
    expect((await get('/apis/nope.io/v1')).status).to.equal(404);
  });

  it('answers /version with minor 31, /openapi/v3 with 404 and /openapi/v2 with an empty octet-stream', async () => {
    const version = parse((await rawRequest(`${f.server.url}/version`)).body);
    expect(version).to.deep.include({ major: '1', minor: '31' });
    expect((await get('/openapi/v3')).status).to.equal(404);
    const v2 = await get('/openapi/v2');
    expect(v2.status).to.equal(200);
    expect(v2.headers['content-type']).to.equal('application/octet-stream');
    expect(v2.body).to.equal('');
    expect((await rawRequest(`${f.server.url}/healthz`)).body).to.equal('ok');
  });

  it('returns Tables with object metadata in each row when asked', async () => {
    await f.store.create(KEYS.configmaps, {
      metadata: { name: 'c', namespace: 'default', labels: { a: 'b' } },
      data: { x: '1' },
    });
    const table = parse(
      (
        await get('/api/v1/namespaces/default/configmaps', {
          Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
        })
      ).body,
    ) as {
      kind: string;
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[]; object: { metadata: { labels: unknown } } }[];
    };
    expect(table.kind).to.equal('Table');
    expect(table.columnDefinitions.map((c) => c.name)).to.deep.equal(['Name', 'Data', 'Age']);
    expect(table.rows[0]?.cells.slice(0, 2)).to.deep.equal(['c', 1]);
    expect(table.rows[0]?.object.metadata.labels).to.deep.equal({ a: 'b' });
  });

  it('ends a watch after timeoutSeconds, replays from a resourceVersion and applies selectors', async () => {
    const rv = f.store.currentResourceVersion();
    await f.store.create(KEYS.configmaps, {
      metadata: { name: 'x', namespace: 'default', labels: { k: 'x' } },
    });
    await f.store.create(KEYS.configmaps, {
      metadata: { name: 'y', namespace: 'default', labels: { k: 'y' } },
    });
    const started = Date.now();
    const res = await get(
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&labelSelector=k%3Dy&timeoutSeconds=1`,
    );
    expect(Date.now() - started).to.be.within(900, 5000);
    const events = res.body
      .trim()
      .split('\n')
      .map((l) => parse(l) as { type: string; object: { metadata: { name: string } } });
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).to.deep.equal(['ADDED:y']);
    expect(f.store.watcherCount()).to.equal(0);
  });

  it('sends an ERROR event with 410 Expired for a resourceVersion older than the window', async () => {
    const store = createMemoryStore({ historyWindow: 5 });
    const server = await startApiServer({ store, token: 't' });
    try {
      for (let i = 0; i < 30; i++)
        await store.create(KEYS.configmaps, { metadata: { name: `c${i}`, namespace: 'default' } });
      const res = await rawRequest(`${server.url}/api/v1/configmaps?watch=1&resourceVersion=2`, {
        token: 't',
      });
      const event = parse(res.body.trim()) as { type: string; object: { code: number; reason: string } };
      expect(event.type).to.equal('ERROR');
      expect(event.object).to.deep.include({ code: 410, reason: 'Expired' });
    } finally {
      await server.close();
    }
  });

  it('deletes a collection by label, and orphans dependents on request', async () => {
    for (const name of ['a', 'b', 'c']) {
      await f.store.create(KEYS.configmaps, {
        metadata: { name, namespace: 'default', labels: { del: name === 'c' ? 'no' : 'yes' } },
      });
    }
    const res = await rawRequest(
      `${f.server.url}/api/v1/namespaces/default/configmaps?labelSelector=del%3Dyes`,
      { token: f.token, method: 'DELETE' },
    );
    expect(res.status).to.equal(200);
    expect(
      f.store.list(KEYS.configmaps, { namespace: 'default' }).items.map((i) => i.metadata.name),
    ).to.deep.equal(['c']);

    const owner = await f.store.create(KEYS.configmaps, {
      metadata: { name: 'owner', namespace: 'default' },
    });
    await f.store.create(KEYS.configmaps, {
      metadata: {
        name: 'child',
        namespace: 'default',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }],
      },
    });
    await rawRequest(`${f.server.url}/api/v1/namespaces/default/configmaps/owner`, {
      token: f.token,
      method: 'DELETE',
      body: JSON.stringify({ propagationPolicy: 'Orphan' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(f.store.get(KEYS.configmaps, 'default', 'child')?.metadata.ownerReferences).to.equal(undefined);
  });

  it('writes nothing on dryRun=All, and answers 404 for unknown resources', async () => {
    const body = JSON.stringify({ metadata: { name: 'dry' }, data: { a: '1' } });
    const res = await rawRequest(`${f.server.url}/api/v1/namespaces/default/configmaps?dryRun=All`, {
      token: f.token,
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).to.equal(201);
    expect(f.store.get(KEYS.configmaps, 'default', 'dry')).to.equal(undefined);
    const unknown = await get('/apis/apps/v1/namespaces/default/widgets');
    expect(unknown.status).to.equal(404);
    expect(parse(unknown.body)).to.deep.include({ kind: 'Status', reason: 'NotFound' });
  });
});
