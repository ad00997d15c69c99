// Unit tests of the scenario modules: problem formatting, YAML positions, zod issue mapping, ${scaled:…},
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${scaled:…} is the literal syntax under test.
// object references, the kind registries and the rule list.

import { expect } from 'chai';
import {
  CONDITION_KINDS,
  FAULT_KINDS,
  formatProblem,
  RULES,
  sortProblems,
} from '../../harness/scenario/index.js';
import { apiGroupOf, resolveObjectRef, withDefaultNamespace } from '../../harness/scenario/object-refs.js';
import { describeValue, formatPath } from '../../harness/scenario/problem.js';
import { namespaceFor } from '../../harness/scenario/resolve.js';
import { expandScaled, findInvalidScaled, formatScaled } from '../../harness/scenario/scaled.js';
import { findingsFromIssues } from '../../harness/scenario/shape-issues.js';
import { conditionSchema, scenarioSpecSchema } from '../../harness/scenario/spec.js';
import { parseYamlSource } from '../../harness/scenario/yaml-source.js';

describe('problems', () => {
  it('print as file:line:col path: message, relative to the working directory', () => {
    const p = { file: '/w/scenarios/x.yaml', line: 14, column: 7, path: 'detect[0].within', message: 'm' };
    expect(formatProblem(p, '/w')).to.equal('scenarios/x.yaml:14:7 detect[0].within: m');
    expect(formatProblem({ ...p, column: 0, path: 'step "A"' }, '/w')).to.equal(
      'scenarios/x.yaml:14 step "A": m',
    );
    expect(formatProblem({ ...p, line: 0, path: '' }, '/elsewhere/deep')).to.equal('/w/scenarios/x.yaml m');
  });

  it('sort by file and position and drop exact duplicates', () => {
    const a = { file: 'a', line: 2, column: 1, path: '', message: 'x' };
    const b = { file: 'a', line: 1, column: 5, path: '', message: 'y' };
    expect(sortProblems([a, b, a])).to.deep.equal([b, a]);
  });

  it('format paths without the spec prefix and describe values with their type', () => {
    expect(formatPath(['spec', 'detect', 0, 'within'])).to.equal('detect[0].within');
    expect(formatPath(['metadata', 'name'])).to.equal('metadata.name');
    expect(formatPath(['spec', 'timeouts', 'steady-state'])).to.equal('timeouts.steady-state');
    expect(describeValue(60)).to.equal('60 (number)');
    expect(describeValue('1 min')).to.equal('"1 min" (string)');
    expect(describeValue([1, 2])).to.equal('a list of 2 (array)');
    expect(describeValue(undefined)).to.equal('nothing (the field is required)');
  });
});

describe('YAML sources', () => {
  it('map data paths back to line:col, keys or values', () => {
    const src = parseYamlSource('a: 1\nb:\n  - x: 2\n    y: [1, 2]\n', 'f.yaml');
    const [doc] = src.documents;
    expect(doc?.locate(['b', 0, 'y', 1])).to.deep.equal({ line: 4, column: 12 });
    expect(doc?.locate(['b', 0, 'y'], { key: true })).to.deep.equal({ line: 4, column: 5 });
    // A missing path points at its nearest existing ancestor.
    expect(doc?.locate(['b', 0, 'missing'])).to.deep.equal({ line: 3, column: 5 });
  });

  it('report syntax errors with positions and keep every document of a multi-document file', () => {
    expect(
      parseYamlSource('a: 1\na: 2\n', 'f.yaml').problems.map((p) => [p.line, p.column, p.message]),
    ).to.deep.equal([[2, 1, 'invalid YAML: Map keys must be unique']]);
    expect(parseYamlSource('a: 1\n---\nb: 2\n', 'f.yaml').documents.map((d) => d.data)).to.deep.equal([
      { a: 1 },
      { b: 2 },
    ]);
  });
});

describe('shape issues', () => {
  const messages = (data: unknown) => {
    const r = conditionSchema.safeParse(data, { reportInput: true });
    return r.success
      ? []
      : findingsFromIssues(r.error.issues, conditionSchema, data).map(
          (f) => `${f.path.join('.')}: ${f.message}`,
        );
  };

  it('say expected vs got, with the type', () => {
    expect(messages({ name: 'a', kind: 'promql', query: 'up', within: 60 })).to.deep.equal([
      'within: expected a duration like "60s", got 60 (number)',
    ]);
  });

  it('list the valid kinds of a tagged union', () => {
    expect(messages({ name: 'a', kind: 'graphite' })).to.deep.equal([
      'kind: expected kind to be one of "promql", "alert", "notification", "log", "kubernetes", "http", "command", got "graphite" (string)',
    ]);
  });

  it('suggest the nearest valid field for an unknown one', () => {
    expect(messages({ name: 'a', kind: 'alert', alert: 'X', pol: '1s' })).to.deep.equal([
      'pol: unknown field "pol" (did you mean "poll"?); valid fields: name, within, poll, kind, alert, labels',
    ]);
  });

  it('descend into the alternative of a plain union that matched the type', () => {
    const data = {
      apiVersion: 'meshdrill.io/v1alpha1',
      kind: 'Scenario',
      metadata: { name: 'a' },
      spec: { steadyState: { duration: 5 } },
    };
    const r = scenarioSpecSchema.safeParse(data, { reportInput: true });
    const found = r.success ? [] : findingsFromIssues(r.error.issues, scenarioSpecSchema, data);
    expect(found.find((f) => f.path.join('.') === 'spec.steadyState.duration')?.message).to.equal(
      'expected a duration like "60s", got 5 (number)',
    );
  });
});

describe('${scaled:…}', () => {
  it('scales to whole seconds with a 3 s floor', () => {
    expect(formatScaled(60_000, 0.2)).to.equal('12s');
    expect(formatScaled(5_000, 0.2)).to.equal('3s');
    expect(expandScaled('rate(x[${scaled:5m}]) and y[${scaled:1m30s}] ${var} ${scaled:bad}', 0.1)).to.equal(
      'rate(x[30s]) and y[9s] ${var} ${scaled:bad}',
    );
    expect(findInvalidScaled('a ${scaled:bad} ${scaled:1m}')).to.deep.equal(['${scaled:bad}']);
  });
});

describe('object references and names', () => {
  it('imply the apiVersion of well-known kinds and the scenario namespace for namespaced ones', () => {
    expect(resolveObjectRef({ kind: 'Deployment', name: 'istiod' }, 'ns')).to.deep.equal({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'ns',
      name: 'istiod',
    });
    expect(resolveObjectRef({ kind: 'Node', labelSelector: 'a=b' }, 'ns')).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Node',
      labelSelector: 'a=b',
    });
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } };
    expect(withDefaultNamespace(ns, 'd')).to.equal(ns);
    expect(apiGroupOf('chaos-mesh.org/v1alpha1')).to.equal('chaos-mesh.org');
    expect(apiGroupOf('v1')).to.equal('');
    expect(namespaceFor('istiod-crash')).to.equal('drill-istiod-crash');
    expect(namespaceFor('a'.repeat(70))).to.have.length(63);
  });
});

describe('registries and rules', () => {
  it('have a resolver for every kind and a unique, documented name per rule', async () => {
    expect(FAULT_KINDS).to.deep.equal(['chaos-mesh', 'istio', 'kubernetes', 'certificate-expiry']);
    expect(CONDITION_KINDS).to.deep.equal([
      'promql',
      'alert',
      'notification',
      'log',
      'kubernetes',
      'http',
      'command',
    ]);
    const names = RULES.map((r) => r.name);
    expect(new Set(names).size).to.equal(names.length);
    const { readFile } = await import('node:fs/promises');
    const docs = await readFile(new URL('../../docs/scenario-format.md', import.meta.url), 'utf8');
    for (const name of names)
      expect(docs, `docs/scenario-format.md documents ${name}`).to.contain(`\`${name}\``);
  });
});
