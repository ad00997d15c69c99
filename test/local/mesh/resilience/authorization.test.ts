// AuthorizationPolicy facts through real sidecars over mTLS: ALLOW / DENY / empty-rules allow-all
// (`rules: [{}]`), source principals and namespaces (and their `not` forms), operation paths (exact, prefix
// `*`, suffix `*`) and methods, DENY before ALLOW, no ALLOW match → 403 "RBAC: access denied"; the seed's
// `debug-allow-all` restores access that a deny-by-default ALLOW policy had cut, but not what a DENY cuts (the
// rbac-deny drill's fault: no response flag, the access log names the policy; a scoped ALLOW fixes it).

import { expect } from 'chai';
import type { KubeObject } from '../../../../harness/model/kube-object.js';
import { istio, pod, service, snapshot } from '../fixtures.js';
import { sumMetric, waitForOutput } from '../proxy-harness.js';
import { Rig, requestVia, type SidecarHandle, scrape, waitForVersion } from './rig.js';

const NS = 'authz';
const OTHER_NS = 'elsewhere';
const FRONT_IP = '127.48.4.11';
const STRANGER_IP = '127.48.4.12';
const API_IP = '127.48.4.13';

describe('resilience: AuthorizationPolicy end to end (child process sidecars, mTLS)', function () {
  this.timeout(60_000);
  const rig = new Rig(NS);
  let api: SidecarHandle;
  let version = 1;
  const pods = [
    pod('front-1', NS, FRONT_IP, { app: 'front' }, { sa: 'front' }),
    pod('stranger-1', OTHER_NS, STRANGER_IP, { app: 'stranger' }, { sa: 'stranger' }),
    pod('api-1', NS, API_IP, { app: 'api' }, { sa: 'api' }),
  ];
  const world = (policies: KubeObject[]) =>
    snapshot({ pods, services: [service('api', NS, { app: 'api' })], authorizationPolicies: policies });
  const policy = (name: string, spec: Record<string, unknown>, ns = NS) =>
    istio('AuthorizationPolicy', name, ns, spec);
  const apply = async (...policies: KubeObject[]): Promise<void> => {
    version += 1;
    rig.configure(api, world(policies), String(version));
    await waitForVersion(API_IP, String(version));
  };
  const from = (ip: string, path = '/', method = 'GET') =>
    requestVia(ip, `http://api.${NS}:8080${path}`, method);

  before(async () => {
    await rig.app(API_IP, (req, res) => res.writeHead(200).end(`api ${req.method} ${req.url}`));
    const w = world([]);
    // The stranger lives in another namespace: its certificate names that namespace.
    [, api] = await Promise.all([
      rig.sidecar(pods[0] as KubeObject, w),
      rig.sidecar(pods[2] as KubeObject, w),
      rig.sidecar(pods[1] as KubeObject, w, { namespace: OTHER_NS }),
    ]);
  });
  after(() => rig.stop());

  it('no policy: allowed', async () => {
    expect((await from(FRONT_IP)).status).to.equal(200);
  });

  it('DENY on a path prefix → 403 "RBAC: access denied" there, 200 elsewhere; counted at reporter=destination', async () => {
    await apply(
      policy('no-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] }),
    );
    const denied = await from(FRONT_IP, '/admin/users');
    expect([denied.status, denied.body]).to.deep.equal([403, 'RBAC: access denied']);
    expect((await from(FRONT_IP, '/public')).status).to.equal(200);
    const dst = await scrape(API_IP);
    expect(
      sumMetric(dst, 'istio_requests_total', {
        reporter: 'destination',
        response_code: '403',
        source_principal: `spiffe://cluster.local/ns/${NS}/sa/front`,
      }),
    ).to.equal(1);
  });

  it('ALLOW by source principal: the named service account passes, another is denied (no ALLOW match)', async () => {
    await apply(
      policy('front-only', {
        action: 'ALLOW',
        rules: [{ from: [{ source: { principals: [`cluster.local/ns/${NS}/sa/front`] } }] }],
      }),
    );
    expect((await from(FRONT_IP)).status).to.equal(200);
    const r = await from(STRANGER_IP);
    expect([r.status, r.body]).to.deep.equal([403, 'RBAC: access denied']);
  });

  it('ALLOW by source namespace, and notNamespaces', async () => {
    await apply(
      policy('same-ns', { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: [NS] } }] }] }),
    );
    expect((await from(FRONT_IP)).status).to.equal(200);
    expect((await from(STRANGER_IP)).status).to.equal(403);
    await apply(
      policy('not-same', { action: 'ALLOW', rules: [{ from: [{ source: { notNamespaces: [NS] } }] }] }),
    );
    expect((await from(FRONT_IP)).status).to.equal(403);
    expect((await from(STRANGER_IP)).status).to.equal(200);
  });

  it('operation paths: exact, prefix "/api/*", suffix "*.json"; methods are exact', async () => {
    await apply(
      policy('ops', {
        action: 'ALLOW',
        rules: [
          { to: [{ operation: { paths: ['/exact'] } }] },
          { to: [{ operation: { paths: ['/api/*'], methods: ['GET'] } }] },
          { to: [{ operation: { paths: ['*.json'] } }] },
        ],
      }),
    );
    expect((await from(FRONT_IP, '/exact')).status).to.equal(200);
    expect((await from(FRONT_IP, '/exact/more')).status).to.equal(403);
    expect((await from(FRONT_IP, '/api/items?q=1')).status).to.equal(200);
    expect((await from(FRONT_IP, '/api/items', 'POST')).status).to.equal(403);
    expect((await from(FRONT_IP, '/data/x.json')).status).to.equal(200);
    expect((await from(FRONT_IP, '/data/x.xml')).status).to.equal(403);
  });

  it('DENY is evaluated before ALLOW: allow-all plus a DENY by notPrincipals still denies the stranger', async () => {
    await apply(
      policy('allow-all', { action: 'ALLOW', rules: [{}] }),
      policy('only-front', {
        action: 'DENY',
        rules: [{ from: [{ source: { notPrincipals: [`cluster.local/ns/${NS}/sa/front`] } }] }],
      }),
    );
    expect((await from(FRONT_IP)).status).to.equal(200);
    expect((await from(STRANGER_IP)).status).to.equal(403);
  });

  it("an ALLOW policy with no rules denies everything; the seed's debug-allow-all (rules: [{}]) restores access", async () => {
    await apply(policy('deny-all', { action: 'ALLOW' }));
    expect((await from(FRONT_IP)).status).to.equal(403);
    expect((await from(STRANGER_IP)).status).to.equal(403);
    // The seed's "Immediate Fix" for "RBAC: access denied", applied beside the deny-by-default policy.
    await apply(
      policy('deny-all', { action: 'ALLOW' }),
      policy('debug-allow-all', { action: 'ALLOW', rules: [{}] }),
    );
    expect((await from(FRONT_IP)).status).to.equal(200);
    expect((await from(STRANGER_IP)).status).to.equal(200);
  });

  it("a DENY from notNamespaces shuts out another namespace's caller: 403 with no response flag, the access log names the policy; the seed's allow-all beside it changes nothing, a scoped ALLOW in its place restores", async () => {
    const strangerDenied = async () =>
      sumMetric(await scrape(API_IP), 'istio_requests_total', {
        reporter: 'destination',
        response_code: '403',
        response_flags: '-',
        source_principal: `spiffe://cluster.local/ns/${OTHER_NS}/sa/stranger`,
      });
    const deny = policy('ns-only', {
      selector: { matchLabels: { app: 'api' } },
      action: 'DENY',
      rules: [{ from: [{ source: { notNamespaces: [NS] } }] }],
    });
    await apply(deny);
    const before = await strangerDenied();
    const r = await from(STRANGER_IP, '/echo');
    expect([r.status, r.body]).to.deep.equal([403, 'RBAC: access denied']);
    expect((await from(FRONT_IP, '/echo')).status).to.equal(200);
    expect((await strangerDenied()) - before).to.equal(1);
    await waitForOutput(
      api.child,
      /"GET \/echo HTTP\/1\.1" 403 - rbac_access_denied_matched_policy\[ns\[authz\]-policy\[ns-only\]-rule\[0\]\]/,
    );
    // DENY is evaluated before ALLOW: an allow-all cannot override it.
    await apply(deny, policy('debug-allow-all', { action: 'ALLOW', rules: [{}] }));
    expect((await from(STRANGER_IP, '/echo')).status).to.equal(403);
    // The runbook's fix: the DENY gone, an ALLOW naming the callers that must pass.
    await apply(
      policy('api-allow-callers', {
        selector: { matchLabels: { app: 'api' } },
        action: 'ALLOW',
        rules: [
          {
            from: [
              { source: { principals: [`cluster.local/ns/${OTHER_NS}/sa/stranger`] } },
              { source: { namespaces: [NS] } },
            ],
            to: [{ operation: { methods: ['GET', 'HEAD'] } }],
          },
        ],
      }),
    );
    expect((await from(STRANGER_IP, '/echo')).status).to.equal(200);
    expect((await from(FRONT_IP, '/echo')).status).to.equal(200);
    expect((await from(FRONT_IP, '/echo', 'POST')).status).to.equal(403);
  });

  it('a policy in the root namespace (istio-system) applies mesh-wide', async () => {
    await apply(
      policy(
        'mesh-deny-delete',
        { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/gone'] } }] }] },
        'istio-system',
      ),
    );
    expect((await from(FRONT_IP, '/gone')).status).to.equal(403);
    expect((await from(FRONT_IP, '/here')).status).to.equal(200);
  });
});
