// The patch engines: strategic merge directives, JSON merge patch and JSON patch, on tables of cases.

import { expect } from 'chai';
import {
  applyJsonMergePatch,
  applyJsonPatch,
  applyStrategicMergePatch,
} from '../../../clusters/local/apiserver/index.js';

const deployment = {
  spec: {
    template: {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'a:1',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            ports: [{ containerPort: 80 }, { containerPort: 90 }],
            volumeMounts: [{ name: 'v', mountPath: '/data' }],
          },
          { name: 'sidecar', image: 's:1' },
        ],
      },
    },
  },
  metadata: { finalizers: ['a'] },
};

function containers(value: unknown): Record<string, unknown>[] {
  return (value as typeof deployment).spec.template.spec.containers as Record<string, unknown>[];
}

describe('strategic merge patch', () => {
  it('merges containers by name and keeps the ones not mentioned', () => {
    const out = applyStrategicMergePatch(deployment, {
      spec: { template: { spec: { containers: [{ name: 'sidecar', image: 's:2' }] } } },
    });
    expect(containers(out).map((c) => `${String(c.name)}=${String(c.image)}`)).to.deep.equal([
      'app=a:1',
      'sidecar=s:2',
    ]);
  });

  it('merges env by name, ports by containerPort, volumeMounts by mountPath', () => {
    const out = applyStrategicMergePatch(deployment, {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                env: [{ name: 'B', value: 'changed' }],
                ports: [{ containerPort: 90, name: 'metrics' }],
                volumeMounts: [{ mountPath: '/data', readOnly: true }],
              },
            ],
          },
        },
      },
    });
    const app = containers(out)[0] ?? {};
    expect(app.env).to.deep.equal([
      { name: 'A', value: '1' },
      { name: 'B', value: 'changed' },
    ]);
    expect(app.ports).to.deep.equal([{ containerPort: 80 }, { containerPort: 90, name: 'metrics' }]);
    expect(app.volumeMounts).to.deep.equal([{ name: 'v', mountPath: '/data', readOnly: true }]);
  });

  it('deletes list items with $patch: delete and orders them with $setElementOrder', () => {
    const out = applyStrategicMergePatch(deployment, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'new' }, { name: 'app' }],
            containers: [
              { name: 'sidecar', $patch: 'delete' },
              { name: 'new', image: 'n:1' },
            ],
          },
        },
      },
    });
    expect(containers(out).map((c) => c.name)).to.deep.equal(['new', 'app']);
  });

  it('replaces a list with $patch: replace and drops keys with null', () => {
    const out = applyStrategicMergePatch(deployment, {
      spec: { template: { spec: { containers: [{ name: 'only', image: 'o:1' }, { $patch: 'replace' }] } } },
      metadata: { finalizers: null },
    }) as { metadata: Record<string, unknown> };
    expect(containers(out).map((c) => c.name)).to.deep.equal(['only']);
    expect(out.metadata).to.deep.equal({});
  });

  it('honours $retainKeys and unions finalizers', () => {
    const strategy = { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } };
    const out = applyStrategicMergePatch(strategy, { strategy: { $retainKeys: ['type'], type: 'Recreate' } });
    expect(out).to.deep.equal({ strategy: { type: 'Recreate' } });
    const fin = applyStrategicMergePatch(deployment, {
      metadata: { finalizers: ['b'] },
    }) as typeof deployment;
    expect(fin.metadata.finalizers).to.deep.equal(['a', 'b']);
    const removed = applyStrategicMergePatch(deployment, {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
    }) as typeof deployment;
    expect(removed.metadata.finalizers).to.deep.equal([]);
  });

  it('merges service ports by port', () => {
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const out = applyStrategicMergePatch(svc, { spec: { ports: [{ port: 80, name: 'http' }] } });
    expect(out).to.deep.equal({
      spec: { ports: [{ port: 80, targetPort: 8080, name: 'http' }, { port: 443 }] },
    });
  });
});

describe('JSON merge patch', () => {
  it('merges objects, replaces arrays and deletes with null', () => {
    const out = applyJsonMergePatch(
      { a: { b: 1, c: 2 }, list: [1, 2], gone: true },
      { a: { c: 3 }, list: [9], gone: null },
    );
    expect(out).to.deep.equal({ a: { b: 1, c: 3 }, list: [9] });
  });
});

describe('JSON patch', () => {
  const doc = { metadata: { labels: { 'app.kubernetes.io/name': 'x' } }, items: [1, 2, 3] };
  const cases: [string, unknown[], unknown][] = [
    [
      'add to an object',
      [{ op: 'add', path: '/metadata/labels/new', value: 'y' }],
      { metadata: { labels: { 'app.kubernetes.io/name': 'x', new: 'y' } }, items: [1, 2, 3] },
    ],
    ['append with -', [{ op: 'add', path: '/items/-', value: 4 }], { ...doc, items: [1, 2, 3, 4] }],
    ['insert at an index', [{ op: 'add', path: '/items/0', value: 0 }], { ...doc, items: [0, 1, 2, 3] }],
    [
      'remove an escaped key',
      [{ op: 'remove', path: '/metadata/labels/app.kubernetes.io~1name' }],
      { metadata: { labels: {} }, items: [1, 2, 3] },
    ],
    ['replace', [{ op: 'replace', path: '/items/1', value: 20 }], { ...doc, items: [1, 20, 3] }],
    ['move', [{ op: 'move', from: '/items/0', path: '/items/-' }], { ...doc, items: [2, 3, 1] }],
    ['copy', [{ op: 'copy', from: '/items/2', path: '/first' }], { ...doc, first: 3 }],
    [
      'test then replace',
      [
        { op: 'test', path: '/items/0', value: 1 },
        { op: 'replace', path: '/items/0', value: 5 },
      ],
      { ...doc, items: [5, 2, 3] },
    ],
  ];
  for (const [name, patch, expected] of cases) {
    it(name, () => {
      expect(applyJsonPatch(doc, patch)).to.deep.equal(expected);
    });
  }

  const broken: [string, unknown, string][] = [
    ['a failing test', [{ op: 'test', path: '/items/0', value: 9 }], 'testing value /items/0 failed'],
    ['a missing key', [{ op: 'remove', path: '/nothing' }], 'unable to remove nonexistent key'],
    ['an unknown op', [{ op: 'frob', path: '/a' }], 'unknown JSON patch op "frob"'],
    ['not an array', { op: 'add' }, 'must be an array'],
  ];
  for (const [name, patch, message] of broken) {
    it(`rejects ${name}`, () => {
      expect(() => applyJsonPatch(doc, patch)).to.throw(message);
    });
  }

  it('leaves the input untouched', () => {
    const input = structuredClone(doc);
    applyJsonPatch(input, [{ op: 'remove', path: '/items/0' }]);
    expect(input).to.deep.equal(doc);
  });
});
