// Real kubectl against the local API server with the real CRDs loaded: it refuses what a real cluster refuses —
// a value the schema does not allow (422, "is invalid: spec.hosts: Too many…"), a field it does not declare
// (kubectl's strict field validation: "strict decoding error: unknown field …"), a required field left out — in
// the API server's words, and stores what a real cluster accepts. The negative control is the same server without
// the CRDs, which accepts all of it.

import { expect } from 'chai';
import { upstreamCrdCatalog } from '../../../clusters/shared/crd/index.js';
import { KEYS } from '../../../clusters/local/store/index.js';
import { expectSuccess, type Fixture, startFixture } from './fixture.js';

function serviceEntryYaml(hosts: number, extra = ''): string {
  const list = Array.from({ length: hosts }, (_, i) => `  - api-${i}.partners.example`).join('\n');
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: partners, namespace: default}
spec:
  location: MESH_EXTERNAL
  resolution: NONE
  ports: [{number: 80, name: http, protocol: HTTP}]
${extra}  hosts:
${list}
`;
}

const PODCHAOS_WITHOUT_MODE = `apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: kill, namespace: default}
spec:
  action: pod-kill
  selector: {namespaces: [default]}
`;

describe('kubectl and the real CRD schemas (local API server)', function () {
  this.timeout(60_000);

  describe('with the CRDs', () => {
    let f: Fixture;
    before(async () => {
      f = await startFixture({ customResourceSchemas: upstreamCrdCatalog() });
    });
    after(async () => {
      await f?.stop();
    });

    it('refuses a ServiceEntry of 300 hosts as a real API server does, and stores one of 256', async () => {
      const refused = await f.kubectl(['apply', '-f', '-'], { input: serviceEntryYaml(300) });
      expect(refused.exitCode).to.equal(1);
      expect(refused.stderr).to.include(
        'The ServiceEntry "partners" is invalid: spec.hosts: Too many: 300: must have at most 256 items',
      );
      expect(f.store.get(KEYS.serviceentries, 'default', 'partners')).to.equal(undefined);
      expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: serviceEntryYaml(256) }));
      expect(f.store.get(KEYS.serviceentries, 'default', 'partners')).to.not.equal(undefined);
    });

    it('refuses a field the schema does not declare (kubectl asks for strict field validation)', async () => {
      const refused = await f.kubectl(['create', '-f', '-'], {
        input: serviceEntryYaml(1, '  hostz: [a.example]\n').replace('name: partners', 'name: typo'),
      });
      expect(refused.exitCode).to.equal(1);
      expect(refused.stderr).to.include('strict decoding error: unknown field "spec.hostz"');
    });

    it('refuses a PodChaos without its required mode, and an unsupported enum value', async () => {
      const missing = await f.kubectl(['apply', '-f', '-'], { input: PODCHAOS_WITHOUT_MODE });
      expect(missing.stderr).to.include('The PodChaos "kill" is invalid: spec.mode: Required value');
      const badEnum = await f.kubectl(['apply', '-f', '-'], {
        input: PODCHAOS_WITHOUT_MODE.replace('action: pod-kill', 'action: pod-explode\n  mode: one'),
      });
      expect(badEnum.stderr).to.match(
        /spec\.action: Unsupported value: "pod-explode": supported values: "pod-kill"/,
      );
    });
  });

  it('negative control: without the CRDs the same server accepts all of it', async () => {
    const f = await startFixture();
    try {
      expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: serviceEntryYaml(300) }));
      expectSuccess(await f.kubectl(['apply', '-f', '-'], { input: PODCHAOS_WITHOUT_MODE }));
    } finally {
      await f.stop();
    }
  });
});
