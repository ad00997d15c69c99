// The local API server serves every kind and version the real CRD files define — read from the files, as a real
// cluster learns them once the CRDs are installed — also the kinds the emulation never acts on (Telemetry,
// EnvoyFilter, Chaos Mesh's Schedule and Workflow…): kubectl lists them in api-resources, stores them, and resolves
// their short names; discovery prefers the version a real server prefers (Kubernetes' version priority).

import { expect } from 'chai';
import {
  compareKubeVersions,
  loadCrdCatalog,
  upstreamCrdCatalog,
  upstreamCrdFiles,
} from '../../../clusters/shared/crd/index.js';
import {
  findResource,
  KEYS,
  servedResources,
  storeCustomResourceDefinitions,
} from '../../../clusters/local/store/index.js';
import { expectSuccess, type Fixture, rawRequest, startFixture } from './fixture.js';

const TELEMETRY = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: default}
spec:
  accessLogging: [{providers: [{name: envoy}]}]
`;

const SCHEDULE = `apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata: {name: nightly-kill, namespace: default}
spec:
  schedule: "@every 10m"
  type: PodChaos
  historyLimit: 2
  concurrencyPolicy: Forbid
  podChaos:
    action: pod-kill
    mode: one
    selector: {namespaces: [default]}
`;

const POD_CHAOS = `apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: kill-one, namespace: default}
spec: {action: pod-kill, mode: one, selector: {namespaces: [default]}}
`;

const VIRTUAL_SERVICE = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec: {hosts: [web], http: [{route: [{destination: {host: web}}]}]}
`;

describe('the local API server serves every kind of the real CRD files', function () {
  this.timeout(60_000);

  it('registers each CRD of the three files with its served versions, names, scope and subresources', () => {
    const crds = loadCrdCatalog(upstreamCrdFiles()).definitions();
    expect(crds.length).to.be.greaterThan(35);
    for (const crd of crds) {
      const def = servedResources().find((r) => r.group === crd.group && r.plural === crd.plural);
      expect(def, `${crd.plural}.${crd.group}`).to.not.equal(undefined);
      expect(def?.versions).to.deep.equal(crd.versions);
      expect(def?.kind).to.equal(crd.kind);
      expect(def?.namespaced).to.equal(crd.namespaced);
      expect(def?.shortNames).to.deep.equal(crd.shortNames);
      expect(def?.subresources).to.deep.equal(crd.subresources);
      expect(def?.custom).to.equal(true);
    }
  });

  it('orders versions by Kubernetes priority: GA, then beta, then alpha, higher first', () => {
    const sorted = ['v1alpha1', 'foo', 'v1beta1', 'v2', 'v1', 'v1beta2', 'v1alpha3', 'bar'].sort(
      compareKubeVersions,
    );
    expect(sorted).to.deep.equal(['v2', 'v1', 'v1beta2', 'v1beta1', 'v1alpha3', 'v1alpha1', 'bar', 'foo']);
    const vs = servedResources().find((r) => r.plural === 'virtualservices');
    expect(vs?.versions).to.deep.equal(['v1', 'v1beta1', 'v1alpha3']);
    // Telemetry stores v1alpha1 but serves v1 too: the preferred version is v1, not the storage version.
    expect(servedResources().find((r) => r.plural === 'telemetries')?.versions).to.deep.equal([
      'v1',
      'v1alpha1',
    ]);
  });

  it("names each custom resource's preferred version in KEYS, and only served resources", () => {
    for (const [name, key] of Object.entries(KEYS)) {
      const def = findResource(key);
      expect(def, name).to.not.equal(undefined);
      expect(key.version, name).to.equal(def?.versions[0]);
    }
  });

  describe('through real kubectl', () => {
    let f: Fixture;
    before(async () => {
      f = await startFixture({ customResourceSchemas: upstreamCrdCatalog() });
      await storeCustomResourceDefinitions(f.store, upstreamCrdCatalog());
    });
    after(async () => {
      await f?.stop();
    });

    it('lists the CRDs themselves, established, and refuses to change them (the served kinds are fixed)', async () => {
      const names = expectSuccess(await f.kubectl(['get', 'crd', '-o', 'name']))
        .trim()
        .split('\n');
      const files = loadCrdCatalog(upstreamCrdFiles()).definitions();
      expect(names).to.have.length(files.length);
      expect(names).to.include('customresourcedefinition.apiextensions.k8s.io/testruns.k6.io');
      const established = expectSuccess(
        await f.kubectl([
          'get',
          'crd',
          'virtualservices.networking.istio.io',
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Established")].status} {.spec.names.kind} {.status.storedVersions}',
        ]),
      );
      expect(established).to.equal('True VirtualService ["v1"]');
      const deleted = await f.kubectl(['delete', 'crd', 'testruns.k6.io']);
      expect(deleted.exitCode).to.not.equal(0);
      expect(deleted.stderr).to.include('MethodNotAllowed');
      expectSuccess(await f.kubectl(['get', 'crd', 'testruns.k6.io']));
    });

    it('lists the kinds the emulation does not act on in api-resources', async () => {
      const out = expectSuccess(await f.kubectl(['api-resources', '--no-headers']));
      for (const line of [
        /^telemetries\s+telemetry\s+telemetry\.istio\.io\/v1\s+true\s+Telemetry$/m,
        /^envoyfilters\s+networking\.istio\.io\/v1alpha3\s+true\s+EnvoyFilter$/m,
        /^requestauthentications\s+ra\s+security\.istio\.io\/v1\s+true\s+RequestAuthentication$/m,
        /^workflows\s+wf\s+chaos-mesh\.org\/v1alpha1\s+true\s+Workflow$/m,
        /^schedules\s+chaos-mesh\.org\/v1alpha1\s+true\s+Schedule$/m,
        /^remoteclusters\s+chaos-mesh\.org\/v1alpha1\s+false\s+RemoteCluster$/m,
        /^testruns\s+k6\.io\/v1alpha1\s+true\s+TestRun$/m,
      ]) {
        expect(out).to.match(line);
      }
    });

    it('stores a Telemetry and a Schedule, and reads them back by short name and by category', async () => {
      expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: TELEMETRY }));
      expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: SCHEDULE }));
      const byShortName = expectSuccess(await f.kubectl(['get', 'telemetry', '-n', 'default', '-o', 'name']));
      expect(byShortName.trim()).to.equal('telemetry.telemetry.istio.io/mesh-default');
      const category = expectSuccess(await f.kubectl(['get', 'istio-io', '-n', 'default', '-o', 'name']));
      expect(category).to.include('telemetry.telemetry.istio.io/mesh-default');
      const schedule = expectSuccess(
        await f.kubectl([
          'get',
          'schedules.chaos-mesh.org',
          'nightly-kill',
          '-n',
          'default',
          '-o',
          'jsonpath={.spec.type}',
        ]),
      );
      expect(schedule).to.equal('PodChaos');
    });

    it('refuses an invalid Schedule by its CRD schema (concurrencyPolicy enum)', async () => {
      const bad = await f.kubectl(['apply', '-f', '-'], {
        input: SCHEDULE.replace('name: nightly-kill', 'name: bad').replace('Forbid', 'Sometimes'),
      });
      expect(bad.exitCode).to.equal(1);
      expect(bad.stderr).to.include(
        'The Schedule "bad" is invalid: spec.concurrencyPolicy: Unsupported value: "Sometimes"',
      );
    });

    it('has no status subresource where the CRD declares none (Chaos Mesh PodChaos), as a real server', async () => {
      expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: POD_CHAOS }));
      expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: VIRTUAL_SERVICE }));
      const get = (path: string) => rawRequest(`${f.server.url}${path}`, { token: f.token });
      const chaos = '/apis/chaos-mesh.org/v1alpha1/namespaces/default/podchaos/kill-one';
      expect((await get(chaos)).status).to.equal(200);
      expect((await get(`${chaos}/status`)).status).to.equal(404);
      // Istio's CRDs declare one: the same request on a VirtualService is served.
      expect(
        (await get('/apis/networking.istio.io/v1/namespaces/default/virtualservices/web/status')).status,
      ).to.equal(200);
    });
  });
});
