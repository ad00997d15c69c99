// Valid fixture scenarios resolve to the expected ResolvedScenario: durations scaled, variants built, paths
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${scaled:…} is the literal syntax under test.
// absolute, defaults filled.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { ResolvedScenario } from '../../harness/model/scenario.js';
import { loadScenarios } from '../../harness/scenario/index.js';

const VALID = fileURLToPath(new URL('../fixtures/scenarios/valid', import.meta.url));

async function load(target: string): Promise<Map<string, ResolvedScenario>> {
  const result = await loadScenarios([VALID], { target });
  expect(result.problems).to.deep.equal([]);
  return new Map(result.scenarios.map((s) => [s.name, s]));
}

describe('valid scenarios resolve', () => {
  it('finds the Scenario files of a directory, sorted, and skips other YAML', async () => {
    const result = await loadScenarios([VALID], { target: 'local' });
    expect(result.scenarios.map((s) => s.name)).to.deep.equal(['istiod-crash', 'pod-kill']);
  });

  describe('istiod-crash on the local target (time scale 0.2)', () => {
    let s: ResolvedScenario;
    before(async () => {
      s = (await load('local')).get('istiod-crash')!;
    });

    it('fills metadata, namespace and an absolute file', () => {
      expect(s.title).to.equal('istiod crashes and stays down');
      expect(s.file).to.equal(`${VALID}/istiod-crash.yaml`);
      expect(s.namespace).to.equal('drill-istiod-crash');
      expect(s.timeScale).to.equal(0.2);
    });

    it('scales every drill duration', () => {
      expect(s.steadyState.durationMs).to.equal(12_000);
      expect([s.recovery.budgetMs, s.recovery.verifyMs]).to.deep.equal([60_000, 12_000]);
      expect(s.recovery.conditions.map((c) => [c.name, c.pollMs])).to.deep.equal([
        ['istiod-pushes', 400],
        ['istiod-ready', 200],
      ]);
      expect(s.workload.readyTimeoutMs).to.equal(24_000);
      expect(s.signals.map((x) => [x.name, x.withinMs, x.pollMs])).to.deep.equal([
        ['push-errors', 12_000, 400],
        ['istiod-down-alert', 24_000, 200],
      ]);
      expect(s.efficacy.map((x) => [x.name, x.withinMs, x.pollMs])).to.deep.equal([
        ['istiod-down', 6_000, 200],
      ]);
      expect(s.timeouts).to.deep.equal({
        provision: 120_000,
        deploy: 36_000,
        load: 36_000, // 12 s + twice the 12 s steady state, to let signals settle
        'steady-state': 24_000,
        inject: 12_000,
        efficacy: 12_000,
        detect: 30_000,
        remediate: 60_000,
        recover: 78_000,
        cleanup: 36_000,
      });
    });

    it('expands ${scaled:…} in queries to whole seconds of the scaled duration', () => {
      const [first] = s.signals;
      expect(first?.kind === 'promql' && first.query).to.equal(
        'sum(rate(pilot_xds_push_errors[12s])) > 0 or absent(up{job="istiod"} == 1)',
      );
    });

    it('resolves recovery conditions like detect items, without a budget', () => {
      expect(s.recovery.conditions).to.deep.equal([
        {
          kind: 'promql',
          query: 'sum(rate(pilot_xds_pushes[12s])) > 0',
          name: 'istiod-pushes',
          pollMs: 400,
        },
        {
          kind: 'kubernetes',
          resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'istio-system', name: 'istiod' },
          field: 'status.readyReplicas',
          op: '>=',
          value: 1,
          match: 'any',
          name: 'istiod-ready',
          pollMs: 200,
        },
      ]);
      expect(s.recovery.conditions[0]).to.not.have.property('withinMs');
    });

    it('asserts the SLOs during the fault when duringFault.slos is hold', () => {
      expect(s.duringFault).to.deep.equal({ slos: 'hold' });
    });

    it('scales duringFault.holdFor and keeps the load running that much longer', async () => {
      const file = `${VALID}/istiod-crash.yaml`;
      const text = readFileSync(file, 'utf8');
      const held = text.replace('duringFault: { slos: hold }', 'duringFault: { slos: hold, holdFor: 5m }');
      expect(held).to.not.equal(text);
      // Beside the original, so its relative paths resolve; removed whatever happens.
      const copy = `${VALID}/held-${process.pid}.yaml`;
      writeFileSync(copy, held);
      let resolved: ResolvedScenario | undefined;
      try {
        const result = await loadScenarios([copy], { target: 'local' });
        expect(result.problems).to.deep.equal([]);
        resolved = result.scenarios[0];
      } finally {
        rmSync(copy, { force: true });
      }
      expect(resolved?.duringFault).to.deep.equal({ slos: 'hold', holdForMs: 60_000 });
      expect((resolved?.load.maxDurationMs ?? 0) - s.load.maxDurationMs).to.equal(60_000);
    });

    it('reads manifests from files (several documents) and inline, filling the namespace', () => {
      expect(
        s.workload.manifests.map((m) => `${m.kind}/${m.metadata.name}@${m.metadata.namespace}`),
      ).to.deep.equal([
        'Deployment/frontend@drill-istiod-crash',
        'Service/frontend@drill-istiod-crash',
        'ConfigMap/extra@drill-istiod-crash',
      ]);
      expect(s.workload.injection).to.equal(true);
    });

    it('resolves the kubernetes fault with a well-known apiVersion', () => {
      expect(s.fault).to.deep.equal({
        kind: 'kubernetes',
        steps: [
          {
            action: 'scale',
            target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'istio-system', name: 'istiod' },
            replicas: 0,
          },
        ],
      });
    });

    it('builds the variants: main, negative controls, then runbook variants, with inherited variables', () => {
      const withoutSteps = s.variants.map(({ runbook, ...v }) => {
        if (runbook === null) return { ...v, runbook };
        const { steps: _steps, ...ref } = runbook;
        return { ...v, runbook: ref };
      });
      expect(withoutSteps).to.deep.equal([
        {
          name: 'main',
          runbook: {
            path: `${VALID}/runbooks/restart-istiod.md`,
            variables: { namespace: 'istio-system', REPLICAS: '1' },
          },
          expect: 'recovery',
        },
        { name: 'empty-runbook', runbook: null, expect: 'no-recovery' },
        {
          name: 'wrong-fix',
          runbook: {
            path: `${VALID}/runbooks/wrong-fix.md`,
            variables: { namespace: 'istio-system', REPLICAS: '1' },
          },
          expect: 'no-recovery',
        },
        {
          name: 'scale-by-variable',
          runbook: {
            path: `${VALID}/runbooks/restart-istiod.md`,
            variables: { namespace: 'istio-system', REPLICAS: '2' },
          },
          expect: 'measure',
        },
      ]);
    });

    it("carries each variant's runbook steps, bound with that variant's variables when the scenario loaded", () => {
      const steps = (name: string) =>
        s.variants
          .find((v) => v.name === name)
          ?.runbook?.steps.map((st) => [
            st.index,
            st.title,
            st.kind,
            st.body,
            st.file,
            st.line,
            st.placeholders,
          ]);
      const restart = `${VALID}/runbooks/restart-istiod.md`;
      expect(steps('main')).to.deep.equal([
        [
          0,
          'Scale it back',
          'command',
          'kubectl scale deployment/istiod -n istio-system --replicas=1',
          restart,
          5,
          [],
        ],
        [
          1,
          'Wait for it',
          'command',
          'kubectl rollout status deployment/istiod -n istio-system --timeout=60s',
          restart,
          11,
          [],
        ],
      ]);
      // The same file, bound with the variant's own REPLICAS.
      expect(steps('scale-by-variable')?.[0]?.[3]).to.equal(
        'kubectl scale deployment/istiod -n istio-system --replicas=2',
      );
      expect(steps('wrong-fix')?.map((st) => st[3])).to.deep.equal(['kubectl get pods -n istio-system']);
      expect(s.variants.find((v) => v.name === 'empty-runbook')?.runbook).to.equal(null);
    });

    it('fills the load profile: shorthand requests, unscaled request timeout, derived caps', () => {
      expect(s.load).to.deep.equal({
        driver: 'builtin',
        executor: 'constant-arrival-rate',
        rate: 50,
        stages: [],
        maxDurationMs: 252_000,
        maxInFlight: 100,
        requestTimeoutMs: 2_000,
        maxRequests: 12_600,
        host: 'frontend.drill.local',
        requests: [
          { method: 'GET', path: '/echo', headers: {}, weight: 1 },
          { method: 'POST', path: '/slow', headers: { 'x-drill': '1' }, body: '{}', weight: 3 },
        ],
      });
      expect(s.slos.map((x) => [x.metric, x.op, x.value])).to.deep.equal([
        ['success_rate', '>=', 0.99],
        ['latency', '<', 300],
      ]);
      expect(s.alertRules).to.deep.equal([`${VALID}/alerts/mesh.rules.yaml`]);
    });
  });

  it('istiod-crash on kind (time scale 1) keeps real durations', async () => {
    const s = (await load('kind')).get('istiod-crash')!;
    expect(s.steadyState.durationMs).to.equal(60_000);
    expect(s.recovery.budgetMs).to.equal(300_000);
    expect(s.recovery.verifyMs).to.equal(60_000);
    expect(s.recovery.conditions.map((c) => c.pollMs)).to.deep.equal([2000, 1000]);
    const [pushes] = s.recovery.conditions;
    expect(pushes?.kind === 'promql' && pushes.query).to.contain('[60s]');
    const [first] = s.signals;
    expect(first?.kind === 'promql' && first.query).to.contain('[60s]');
    // A target missing from the timeScale map runs at scale 1.
    expect((await load('existing')).get('istiod-crash')!.timeScale).to.equal(1);
  });

  describe('pod-kill (number time scale 0.5, shorthands)', () => {
    let s: ResolvedScenario;
    before(async () => {
      s = (await load('local')).get('pod-kill')!;
    });

    it('applies a single number to every target and expands ${scaled:…} in the fault file', () => {
      expect(s.timeScale).to.equal(0.5);
      expect(s.steadyState.durationMs).to.equal(10_000);
      expect(s.fault.kind).to.equal('chaos-mesh');
      if (s.fault.kind === 'chaos-mesh') {
        expect(s.fault.manifest.metadata.namespace).to.equal('shop');
        expect((s.fault.manifest.spec as { duration: string }).duration).to.equal('30s');
      }
    });

    it('scales ramping stages and derives caps from the peak rate', () => {
      expect(s.load.executor).to.equal('ramping-arrival-rate');
      expect(s.load.stages).to.deep.equal([
        { durationMs: 15_000, target: 40 },
        { durationMs: 30_000, target: 40 },
      ]);
      expect(s.load.maxInFlight).to.equal(200);
      expect(s.load.maxRequests).to.equal(Math.ceil((40 * s.load.maxDurationMs) / 1000));
      expect(s.load.requests).to.deep.equal([{ method: 'GET', path: '/', headers: {}, weight: 1 }]);
    });

    it('has one variant with no runbook and the default efficacy, http and command fields', () => {
      expect(s.variants).to.deep.equal([{ name: 'main', runbook: null, expect: 'recovery' }]);
      expect(s.efficacy).to.deep.equal([]);
      expect(s.namespace).to.equal('shop');
      expect(s.workload.injection).to.equal(false);
      expect(s.signals.map(({ name, withinMs, pollMs, ...rest }) => rest)).to.deep.equal([
        {
          kind: 'command',
          run: 'kubectl get pods -n shop --no-headers | grep -v Running',
          expectExitCode: 0,
        },
        { kind: 'http', url: '/healthz', expectStatus: [503] },
      ]);
      expect(s.recovery).to.deep.equal({ budgetMs: 60_000, verifyMs: 15_000, conditions: [] });
      expect(s.duringFault).to.deep.equal({ slos: 'ignore' });
    });
  });
});
