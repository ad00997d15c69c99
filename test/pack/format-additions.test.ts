// The scenario-format additions the pack needs: generated workload manifests (`generate: cacerts`), workload
// setup actions, and the certificate-expiry fault kind — validation, resolution, generation and injection.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  describeRolloutWait,
  injectCertificateExpiry,
  readIntermediateExpiry,
} from '../../harness/faults/index.js';
import type { KubeClient, ObjectKey } from '../../harness/kube/index.js';
import type { FaultSpec, KubeObject } from '../../harness/model/index.js';
import { formatProblem, loadScenarios } from '../../harness/scenario/index.js';
import { generateManifests } from '../../harness/scenario/generate.js';
import { generateCacerts, readNotAfter } from '../../harness/util/pki.js';
import { generateCacerts as meshGenerateCacerts } from '../../clusters/local/mesh/ca/cacerts.js';
import { run } from '../../harness/exec/index.js';

const BASE = `apiVersion: meshdrill.io/v1alpha1
kind: Scenario
metadata: { name: ca }
spec:
  timeScale: { local: 0.5 }
  workload:
    manifests:
MANIFESTS
    setup:
      - { action: rollout-restart, target: { kind: Deployment, namespace: istio-system, name: istiod } }
  load: { rate: 10 }
  slos: ["success_rate >= 99%"]
  fault: FAULT
  runbook: none
  recovery: { budget: 1m }
`;

const GOOD_MANIFESTS = `      - { generate: cacerts, intermediateValidity: 3m, rootSecret: cacerts-root }
      - { inline: { apiVersion: v1, kind: ConfigMap, metadata: { name: c } } }`;

async function loadText(text: string) {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-format-'));
  try {
    await writeFile(join(dir, 'ca.yaml'), text);
    const result = await loadScenarios([join(dir, 'ca.yaml')], { target: 'local', cwd: dir });
    return { ...result, messages: result.problems.map((p) => formatProblem(p)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('format additions: generate, setup, certificate-expiry', () => {
  it('resolves generate: cacerts (intermediate scaled, defaults filled), setup actions and the fault defaults', async () => {
    const { scenarios, messages } = await loadText(
      BASE.replace('MANIFESTS', GOOD_MANIFESTS).replace('FAULT', '{ kind: certificate-expiry }'),
    );
    expect(messages).to.deep.equal([]);
    const s = scenarios[0];
    if (!s) throw new Error('no scenario');
    expect(s.workload.manifests.map((m) => m.kind)).to.deep.equal(['ConfigMap']);
    expect(s.workload.generate).to.deep.equal([
      {
        generate: 'cacerts',
        namespace: 'istio-system',
        name: 'cacerts',
        intermediateValidityMs: 90_000,
        rootValidityMs: 3650 * 24 * 3600 * 1000,
        rootSecret: 'cacerts-root',
      },
    ]);
    expect(s.workload.setup).to.deep.equal([
      {
        action: 'rollout-restart',
        target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'istio-system', name: 'istiod' },
      },
    ]);
    expect(s.fault).to.deep.equal({
      kind: 'certificate-expiry',
      secret: { apiVersion: 'v1', kind: 'Secret', namespace: 'istio-system', name: 'cacerts' },
      restart: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'istio-system', name: 'istiod' }],
      maxWaitMs: 300_000,
    });
    // The inject phase may take the whole maxWait: its derived deadline covers it.
    expect(s.timeouts.inject).to.equal(30_000 + 300_000);
  });

  const BROKEN: [string, string, string][] = [
    [
      'generate without intermediateValidity',
      '      - { generate: cacerts }',
      'workload.manifests[0].intermediateValidity: expected a duration like "3m" (how long the generated intermediate lives), got nothing (generate: cacerts needs it)',
    ],
    [
      'a generator field on a file manifest',
      '      - { inline: { apiVersion: v1, kind: ConfigMap, metadata: { name: c } }, rootSecret: r }',
      'workload.manifests[0].rootSecret: expected rootSecret only beside generate (e.g. generate: cacerts), got it on a inline manifest; remove it',
    ],
    [
      'generate and inline together',
      '      - { generate: cacerts, intermediateValidity: 1m, inline: { apiVersion: v1, kind: ConfigMap, metadata: { name: c } } }',
      'workload.manifests[0]: expected exactly one of file or inline (or generate), got several',
    ],
    [
      'an unknown generator',
      '      - { generate: tls, intermediateValidity: 1m }',
      'workload.manifests[0].generate: expected a generator: "cacerts"',
    ],
  ];
  for (const [what, manifests, expected] of BROKEN) {
    it(`reports ${what}`, async () => {
      const { messages } = await loadText(
        BASE.replace('MANIFESTS', manifests).replace('FAULT', '{ kind: certificate-expiry }'),
      );
      expect(
        messages.some((m) => m.includes(expected)),
        messages.join('\n'),
      ).to.equal(true);
    });
  }

  it('reports a certificate-expiry secret reference that selects nothing', async () => {
    const { messages } = await loadText(
      BASE.replace('MANIFESTS', GOOD_MANIFESTS).replace(
        'FAULT',
        '{ kind: certificate-expiry, secret: { kind: Secret, namespace: istio-system } }',
      ),
    );
    expect(messages.join('\n')).to.match(/fault\.secret: expected name or labelSelector/);
  });

  it('generates a cacerts Secret whose intermediate chains to the root and expires as asked, and a root Secret', async function () {
    this.timeout(20_000);
    const now = new Date();
    const objects = await generateManifests(
      [
        {
          generate: 'cacerts',
          namespace: 'istio-system',
          name: 'cacerts',
          intermediateValidityMs: 120_000,
          rootValidityMs: 86_400_000,
          rootSecret: 'cacerts-root',
        },
      ],
      now,
    );
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).to.deep.equal([
      'Secret istio-system/cacerts',
      'Secret istio-system/cacerts-root',
    ]);
    const [cacerts, root] = objects as [
      KubeObject & { data: Record<string, string> },
      KubeObject & { data: Record<string, string> },
    ];
    expect(Object.keys(cacerts.data).sort()).to.deep.equal([
      'ca-cert.pem',
      'ca-key.pem',
      'cert-chain.pem',
      'root-cert.pem',
    ]);
    const notAfter = readIntermediateExpiry(cacerts, 'istio-system/cacerts');
    expect(Math.abs(notAfter.getTime() - (now.getTime() - 1000 + 120_000))).to.be.lessThan(1500);
    // The real openssl agrees that the intermediate chains to the root (what the renewal runbook relies on).
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-pki-'));
    try {
      const decode = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');
      await writeFile(join(dir, 'root.pem'), decode(root.data['root-cert.pem']));
      await writeFile(join(dir, 'ca.pem'), decode(cacerts.data['ca-cert.pem']));
      await writeFile(join(dir, 'root-key.pem'), decode(root.data['root-key.pem']));
      const verify = await run('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), join(dir, 'ca.pem')]);
      expect(verify.exitCode, verify.stdout + verify.stderr).to.equal(0);
      const key = await run('openssl', ['pkey', '-in', join(dir, 'root-key.pem'), '-noout']);
      expect(key.exitCode, key.stderr).to.equal(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('judges rollouts as kubectl rollout status does', () => {
    const d = (status: Record<string, number>, generation = 2) => ({
      metadata: { generation },
      spec: { replicas: 2 },
      status: { observedGeneration: 2, ...status },
    });
    expect(describeRolloutWait(d({ replicas: 2, updatedReplicas: 2, readyReplicas: 2 }))).to.equal(undefined);
    expect(describeRolloutWait(d({ replicas: 2, updatedReplicas: 2, readyReplicas: 2 }, 3))).to.match(
      /not seen/,
    );
    expect(describeRolloutWait(d({ replicas: 3, updatedReplicas: 2, readyReplicas: 2 }))).to.match(
      /1 old replicas/,
    );
    expect(describeRolloutWait(d({ replicas: 2, updatedReplicas: 1, readyReplicas: 2 }))).to.match(
      /1 of 2 replicas updated/,
    );
    expect(describeRolloutWait(d({ replicas: 2, updatedReplicas: 2, readyReplicas: 1 }))).to.match(
      /1 of 2 updated/,
    );
  });

  describe('certificate-expiry injection against a recording API', () => {
    function fakeKube(objects: Map<string, KubeObject>, calls: string[]): KubeClient {
      const id = (k: ObjectKey) => `${k.kind} ${k.namespace}/${k.name}`;
      return {
        apply: async (o) => o,
        replace: async (o) => o,
        get: async (k) => objects.get(id(k)),
        list: async () => [],
        delete: async (k) => {
          calls.push(`delete ${id(k)}`);
          return objects.delete(id(k));
        },
        patch: async (k, patch) => {
          calls.push(`patch ${id(k)} ${JSON.stringify(patch).includes('restartedAt') ? 'restartedAt' : ''}`);
          return objects.get(id(k)) as KubeObject;
        },
        podLog: async () => '',
        serverVersion: async () => 'v1.31.0',
      };
    }
    const fault: Extract<FaultSpec, { kind: 'certificate-expiry' }> = {
      kind: 'certificate-expiry',
      secret: { apiVersion: 'v1', kind: 'Secret', namespace: 'istio-system', name: 'cacerts' },
      restart: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'istio-system', name: 'istiod' }],
      maxWaitMs: 10_000,
    };
    const rolledOut: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'istiod', namespace: 'istio-system', generation: 1 },
      spec: { replicas: 1 },
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1 },
    };

    it('waits until the intermediate expires, reports its notAfter as the injection time, and the undo deletes and restarts', async function () {
      this.timeout(20_000);
      const [secret] = await generateManifests([
        {
          generate: 'cacerts',
          namespace: 'istio-system',
          name: 'cacerts',
          intermediateValidityMs: 2_500,
          rootValidityMs: 86_400_000,
        },
      ]);
      const objects = new Map<string, KubeObject>([
        ['Secret istio-system/cacerts', secret as KubeObject],
        ['Deployment istio-system/istiod', rolledOut],
      ]);
      const calls: string[] = [];
      const ctx = { kube: fakeKube(objects, calls), runId: 'r', scenario: 's', defaultNamespace: 'drill-s' };
      const started = Date.now();
      const injected = await injectCertificateExpiry(fault, ctx);
      const notAfter = readNotAfter(
        Buffer.from(
          (secret as KubeObject & { data: Record<string, string> }).data['ca-cert.pem'] ?? '',
          'base64',
        ).toString(),
      ).getTime();
      expect(injected.injectedAt).to.equal(notAfter);
      expect(Date.now()).to.be.at.least(notAfter);
      expect(Date.now() - started).to.be.lessThan(5_000);
      expect(calls).to.deep.equal([]);
      await injected.revert();
      expect(calls).to.deep.equal([
        'delete Secret istio-system/cacerts',
        'patch Deployment istio-system/istiod restartedAt',
      ]);
    });

    it('refuses a wait beyond maxWait and a missing Secret, saying how to fix it', async function () {
      this.timeout(20_000);
      const [secret] = await generateManifests([
        {
          generate: 'cacerts',
          namespace: 'istio-system',
          name: 'cacerts',
          intermediateValidityMs: 3_600_000,
          rootValidityMs: 86_400_000,
        },
      ]);
      const objects = new Map<string, KubeObject>([['Secret istio-system/cacerts', secret as KubeObject]]);
      const ctx = { kube: fakeKube(objects, []), runId: 'r', scenario: 's', defaultNamespace: 'drill-s' };
      const far = await injectCertificateExpiry(fault, ctx).catch((e: Error) => e.message);
      expect(far).to.match(/beyond maxWait \(10 s\); shorten intermediateValidity or raise fault.maxWait/);
      objects.clear();
      const missing = await injectCertificateExpiry(fault, ctx).catch((e: Error) => e.message);
      expect(missing).to.match(/Secret istio-system\/cacerts not found; generate it in the workload/);
    });
  });

  it('the mesh emulation and scenarios share one generator', () => {
    // Both imported statically: the test loader may give a module first reached by a dynamic import() an instance
    // of its own, which would compare two copies of the same function.
    expect(meshGenerateCacerts).to.equal(generateCacerts);
  });
});
