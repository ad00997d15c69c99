// ${mesh.…}: the target's control-plane names, expanded in the scenario, its manifest files and its runbooks —
// the pack's control-plane drills name `istiod-canary` on a revision install and `istiod` on a default one.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${mesh.…} is the literal syntax under test.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { controlPlaneOf } from '../../clusters/index.js';
import { exitCodeOf } from '../../harness/model/errors.js';
import type { ResolvedScenario } from '../../harness/model/scenario.js';
import {
  DEFAULT_MESH_VARIABLES,
  expandMesh,
  loadScenarios,
  type MeshVariables,
  meshVariablesFor,
} from '../../harness/scenario/index.js';

const PACK = fileURLToPath(new URL('../../scenarios', import.meta.url));
const CANARY = meshVariablesFor({ revision: 'canary' });

async function load(file: string, mesh: MeshVariables): Promise<ResolvedScenario> {
  const result = await loadScenarios([`${PACK}/${file}`], { target: 'local', mesh });
  expect(result.problems).to.deep.equal([]);
  const [scenario] = result.scenarios;
  if (!scenario) throw new Error(`${file} did not resolve`);
  return scenario;
}

describe('control-plane variables', () => {
  it('names a default install and a revision install as the istio-discovery chart does', () => {
    expect(DEFAULT_MESH_VARIABLES).to.deep.equal({
      namespace: 'istio-system',
      revision: 'default',
      istiodDeployment: 'istiod',
      istiodService: 'istiod',
      istiodSelector: 'app=istiod,istio.io/rev=default',
    });
    expect(meshVariablesFor({ revision: 'default' })).to.deep.equal(DEFAULT_MESH_VARIABLES);
    expect(CANARY).to.deep.equal({
      namespace: 'istio-system',
      revision: 'canary',
      istiodDeployment: 'istiod-canary',
      istiodService: 'istiod-canary',
      istiodSelector: 'app=istiod,istio.io/rev=canary',
    });
  });

  it('expands known names and leaves unknown ones for validation to report', () => {
    expect(expandMesh('deployment/${mesh.istiodDeployment} -n ${mesh.namespace}', CANARY)).to.equal(
      'deployment/istiod-canary -n istio-system',
    );
    expect(expandMesh('${mesh.istiod} ${scaled:1m} $HOME', CANARY)).to.equal(
      '${mesh.istiod} ${scaled:1m} $HOME',
    );
  });

  it('takes the revision from --target-opt revision= and refuses one that is not a DNS label (exit 2)', () => {
    expect(controlPlaneOf({ revision: 'canary' })).to.deep.equal({
      namespace: 'istio-system',
      revision: 'canary',
    });
    expect(controlPlaneOf({})).to.deep.equal({ namespace: 'istio-system' });
    for (const bad of ['Canary', '1_30', '-canary', 'canary-', 'a'.repeat(64)]) {
      let thrown: unknown;
      try {
        controlPlaneOf({ revision: bad });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, bad).to.be.an('error');
      expect((thrown as Error).message).to.contain(`--target-opt revision: expected a DNS label`);
      expect(exitCodeOf(thrown)).to.equal(2);
    }
  });
});

describe('the pack on a revision install', () => {
  it('istiod-crash: the fault, the efficacy checks and the runbook name the revision', async () => {
    const [canary, plain] = [
      await load('istiod-crash.yaml', CANARY),
      await load('istiod-crash.yaml', DEFAULT_MESH_VARIABLES),
    ];
    const fault = (s: ResolvedScenario) =>
      s.fault.kind === 'chaos-mesh' ? s.fault.manifest.spec : undefined;
    expect(fault(canary)).to.deep.include({
      selector: { namespaces: ['istio-system'], labelSelectors: { app: 'istiod', 'istio.io/rev': 'canary' } },
    });
    expect(fault(plain)).to.deep.include({
      selector: {
        namespaces: ['istio-system'],
        labelSelectors: { app: 'istiod', 'istio.io/rev': 'default' },
      },
    });
    const resource = (s: ResolvedScenario) => {
      const c = s.efficacy[0];
      return c?.kind === 'kubernetes' ? c.resource : undefined;
    };
    expect(resource(canary)).to.deep.include({ namespace: 'istio-system', name: 'istiod-canary' });
    expect(resource(plain)).to.deep.include({ namespace: 'istio-system', name: 'istiod' });
    const patterns = canary.efficacy.flatMap((c) =>
      c.kind === 'command' && c.outputPattern ? [c.outputPattern] : [],
    );
    expect(patterns.every((p) => p.endsWith('no endpoints available for service "istiod-canary"'))).to.equal(
      true,
    );
    const steps = canary.variants[0]?.runbook?.steps.map((s) => s.body).join('\n') ?? '';
    expect(steps)
      .to.contain('rollout restart deployment/istiod-canary')
      .and.contain('-l app=istiod,istio.io/rev=canary');
    expect(steps).not.to.match(/deployment\/istiod\b(?!-)/);
  });

  it('cert-expiry: the CA Secret, the setup restart, the fault restart and the renewal runbook', async () => {
    const s = await load('cert-expiry.yaml', CANARY);
    expect(s.workload.generate?.[0]?.namespace).to.equal('istio-system');
    const setup = s.workload.setup?.map((a) => ('target' in a ? a.target.name : undefined));
    expect(setup).to.deep.equal(['istiod-canary', 'istio-ingressgateway']);
    if (s.fault.kind !== 'certificate-expiry') throw new Error('expected the certificate-expiry fault');
    expect(s.fault.restart.map((r) => r.name)).to.deep.equal(['istiod-canary']);
    const renew = s.variants
      .find((v) => v.name === 'main')
      ?.runbook?.steps.map((st) => st.body)
      .join('\n');
    expect(renew).to.contain('rollout restart deployment/istiod-canary');
  });

  it('leaves no literal control-plane name in the pack', () => {
    // Every drill file except the seed runbooks (verbatim by design), the shared alert and routing configs, and
    // istio-upgrade's, which names the revisions it installs itself where `istioctl install` puts them.
    const files = readdirSync(PACK, { recursive: true, encoding: 'utf8' }).filter(
      (file) =>
        /\.(ya?ml|md)$/.test(file) &&
        !/^(runbooks\/seed-|alerts\/|alertmanager\/|invalid\/)|istio-upgrade/.test(file),
    );
    expect(files).to.include.members(['gateway-overload.yaml', 'workloads/gateway-overload.yaml']);
    for (const file of files) expect(literalControlPlaneNames(file), file).to.deep.equal([]);
  });

  it('the literal-name check catches an istiod address written out (the control)', () => {
    const lines = [
      '  value: \'{"discoveryAddress":"istiod.istio-system.svc:15012"}\'',
      '  - kubectl -n istio-system get pods',
    ];
    expect(lines.filter(isLiteralControlPlaneName)).to.have.length(2);
  });
});

function isLiteralControlPlaneName(line: string): boolean {
  return /deployment\/istiod(\s|$)|name: istiod(\s|,|}|$)|namespace: istio-system|-n istio-system|\[istio-system\]|service "istiod"|"istio-system\/\*"|istiod\.istio-system|\.istio-system\.svc/.test(
    line,
  );
}

function literalControlPlaneNames(file: string): string[] {
  return readFileSync(`${PACK}/${file}`, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line) && !/^\s*(title|description):/.test(line))
    .filter(isLiteralControlPlaneName);
}
