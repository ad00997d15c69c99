// What meshdrill applies to a cluster against the real CRDs (../shared/crds: Istio 1.30.3, Chaos Mesh 2.8.3,
// k6-operator 1.6.0, unchanged): the structural-schema check refuses what a real API server refuses, in its words
// (negative controls below, one per rule the pack's objects lean on), and accepts every Istio, Chaos Mesh and k6
// object of the pack — workloads, faults, the apply steps of faults and runbooks — and the TestRun meshdrill renders.

import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  loadCrdCatalog,
  UPSTREAM_CRD_DIR,
  upstreamCrdFiles,
  validateCustomResource,
} from '../../clusters/shared/crd/index.js';
import { buildK6TestRun } from '../../harness/load/k6/manifests.js';
import type { KubeObject } from '../../harness/model/kube-object.js';
import { parseRunbook } from '../../harness/runbook/index.js';
import { loadScenarios } from '../../harness/scenario/index.js';

const CRDS = resolve('../shared/crds');
const catalog = loadCrdCatalog(
  readdirSync(CRDS)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(CRDS, f)),
);

const serviceEntry = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name: 'se', namespace: 'default' },
  spec,
});

describe('rendered objects against the real CRD schemas', function () {
  this.timeout(30_000);

  it('ships the upstream CRD files byte for byte, and reads what ../shared/crds holds', () => {
    const shipped = upstreamCrdFiles().map((f) => f.slice(UPSTREAM_CRD_DIR.length));
    expect(shipped).to.deep.equal(
      readdirSync(CRDS)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    );
    for (const name of shipped) {
      expect(
        readFileSync(join(UPSTREAM_CRD_DIR, name)).equals(readFileSync(join(CRDS, name))),
        name,
      ).to.equal(true);
    }
  });

  it('loads every kind of the three CRD files, all served versions', () => {
    const kinds = new Set(catalog.versions().map((v) => `${v.group}/${v.kind}`));
    expect(kinds.size).to.equal(15 + 23 + 1);
    expect(catalog.find('networking.istio.io/v1', 'ServiceEntry')?.served).to.equal(true);
    expect(catalog.find('telemetry.istio.io/v1', 'Telemetry')?.served).to.equal(true);
    expect(catalog.find('chaos-mesh.org/v1alpha1', 'Schedule')?.served).to.equal(true);
    expect(catalog.find('k6.io/v1alpha1', 'TestRun')?.served).to.equal(true);
  });

  describe('refuses what a real API server refuses', () => {
    it('more than 256 hosts in one ServiceEntry (spec.hosts maxItems)', () => {
      const hosts = Array.from({ length: 1500 }, (_, i) => `api-${i}.partners.example`);
      expect(validateCustomResource(catalog, serviceEntry({ hosts }))).to.deep.equal([
        'spec.hosts: Too many: 1500: must have at most 256 items',
      ]);
      expect(validateCustomResource(catalog, serviceEntry({ hosts: hosts.slice(0, 256) }))).to.deep.equal([]);
    });

    it('a field the schema does not declare, an enum value it does not list, a wrong type', () => {
      expect(validateCustomResource(catalog, serviceEntry({ hosts: ['a.example'], hostz: 1 }))).to.deep.equal(
        ['spec.hostz: field not declared in schema'],
      );
      expect(
        validateCustomResource(catalog, serviceEntry({ hosts: ['a.example'], resolution: 'MAYBE' }))[0],
      ).to.match(/^spec\.resolution: Unsupported value: "MAYBE": supported values: "NONE", "STATIC", "DNS"/);
      expect(validateCustomResource(catalog, serviceEntry({ hosts: 'a.example' }))).to.deep.equal([
        'spec.hosts: Invalid value: "string": spec.hosts in body must be of type array: "a.example"',
      ]);
    });

    it('a required field left out, and an apiVersion the CRD does not define', () => {
      const chaos = {
        apiVersion: 'chaos-mesh.org/v1alpha1',
        kind: 'PodChaos',
        metadata: { name: 'p', namespace: 'default' },
        spec: { action: 'pod-kill', selector: {} },
      };
      expect(validateCustomResource(catalog, chaos)).to.deep.equal(['spec.mode: Required value']);
      expect(validateCustomResource(catalog, { ...chaos, apiVersion: 'chaos-mesh.org/v2' })).to.deep.equal([
        'no matches for kind "PodChaos" in version "chaos-mesh.org/v2"',
      ]);
    });

    it('objects of groups no loaded CRD owns are not judged here', () => {
      expect(
        validateCustomResource(catalog, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {},
          bogus: 1,
        }),
      ).to.deep.equal([]);
    });
  });

  it('accepts every Istio, Chaos Mesh and k6 object of the pack: workloads, faults, runbooks', async () => {
    const { scenarios, problems } = await loadScenarios(['scenarios/'], { target: 'kind' });
    expect(problems).to.deep.equal([]);
    const judged: string[] = [];
    const refusals: string[] = [];
    const judge = (where: string, object: KubeObject | Record<string, unknown>): void => {
      const o = object as Record<string, unknown>;
      const group = String(o.apiVersion ?? '').split('/')[0] ?? '';
      if (!catalog.ownsGroup(group)) return;
      judged.push(`${where} ${String(o.kind)}`);
      for (const line of validateCustomResource(catalog, o))
        refusals.push(`${where}: ${String(o.kind)} ${line}`);
    };
    const runbooks = new Set<string>();
    for (const s of scenarios) {
      for (const m of s.workload.manifests) judge(`${s.name} workload`, m);
      const fault = s.fault;
      if (fault.kind === 'chaos-mesh' || fault.kind === 'istio') judge(`${s.name} fault`, fault.manifest);
      if (fault.kind === 'kubernetes')
        for (const step of fault.steps) if (step.action === 'apply') judge(`${s.name} fault`, step.manifest);
      for (const v of s.variants) if (v.runbook) runbooks.add(v.runbook.path);
    }
    for (const path of runbooks) {
      for (const step of parseRunbook(readFileSync(path, 'utf8'), path)) {
        if (step.kind !== 'apply') continue;
        for (const doc of parseAllDocuments(step.body)) {
          const object = doc.toJS() as Record<string, unknown> | null;
          if (object) judge(`${path}:${step.line}`, object);
        }
      }
    }
    judge(
      'meshdrill k6 TestRun',
      buildK6TestRun({
        name: 'drill',
        namespace: 'meshdrill-load',
        runId: 'r1',
        scenario: 's',
        script: 'export default function () {}',
        baseUrl: 'http://gateway',
        parallelism: 3,
      }),
    );
    expect(refusals).to.deep.equal([]);
    // The check really ran over the pack: its faults, workloads and runbooks hold dozens of such objects.
    expect(judged.length).to.be.greaterThan(15);
  });
});
