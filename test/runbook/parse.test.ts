// Runbook parsing: steps from fences, titles from headings, placeholders with lines, binding; the seed runbooks.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders are the syntax under test.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  bindRunbook,
  bindRunbookSteps,
  describeUnbound,
  findUnboundPlaceholders,
  parseRunbook,
} from '../../harness/runbook/index.js';

const SEEDS = fileURLToPath(new URL('../../scenarios/runbooks', import.meta.url));
const seed = (name: string) => parseRunbook(readFileSync(`${SEEDS}/${name}`, 'utf8'), `${SEEDS}/${name}`);
const summary = (md: string) =>
  parseRunbook(md, 'x.md').map((s) => ({
    title: s.title,
    kind: s.kind,
    line: s.line,
    tokens: s.placeholders.map((p) => `${p.token}@${p.line}`),
  }));

describe('parseRunbook', () => {
  it('turns bash/sh/shell fences into commands and yaml/yml into applies; ignores other fences and prose', () => {
    const md = [
      '# Fix', // 1
      '', // 2
      '```bash', // 3
      'echo one', // 4
      '```', // 5
      '## Apply', // 6
      '```yml', // 7
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }', // 8-10
      '```', // 11
      '```text', // 12
      'not run', // 13
      '```', // 14
      '```python', // 15
      'print(1)', // 16
      '```', // 17
      '```sh skip', // 18
      'rm -rf /', // 19
      '```', // 20
      '    indented code is prose', // 21
      '```shell', // 22
      'echo two', // 23
      '```', // 24
    ].join('\n');
    const steps = parseRunbook(md, 'x.md');
    expect(steps.map((s) => [s.index, s.title, s.kind, s.line, s.body])).to.deep.equal([
      [0, 'Fix', 'command', 3, 'echo one'],
      [1, 'Apply', 'apply', 7, 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }'],
      [2, 'Apply', 'command', 22, 'echo two'],
    ]);
  });

  it('titles a block with no heading above it "Step N", and finds blocks inside list items', () => {
    const md = '```bash\necho a\n```\n\n# Later\n\n1. First:\n\n   ```bash\n   echo b\n   ```\n';
    expect(parseRunbook(md, 'x.md').map((s) => [s.title, s.body])).to.deep.equal([
      ['Step 1', 'echo a'],
      ['Later', 'echo b'],
    ]);
  });

  it('finds angle-bracket and upper-case variable placeholders with their Markdown lines', () => {
    const md =
      '# T\n\n```bash\nkubectl get pods -n <namespace>\nkubectl logs $POD_NAME -c ${CONTAINER}\n```\n';
    expect(summary(md)).to.deep.equal([
      { title: 'T', kind: 'command', line: 3, tokens: ['<namespace>@4', '$POD_NAME@5', '${CONTAINER}@5'] },
    ]);
  });

  it('does not treat variables the runbook sets, ambient variables, defaults, quotes or comments as placeholders', () => {
    const md = [
      '# A',
      '```bash',
      "NODE=$(kubectl get pod $POD -o jsonpath='{.spec.nodeName}')",
      "echo $NODE $HOME ${OPT:-x} $lower '$SINGLE' # $COMMENT <in-comment>",
      'for ITEM in a b; do echo $ITEM; done',
      '```',
      '# B',
      '```bash',
      'export LATER=1',
      'echo $NODE $LATER "$DOUBLE"',
      '```',
    ].join('\n');
    expect(summary(md).map((s) => s.tokens)).to.deep.equal([['$POD@3'], ['$DOUBLE@10']]);
  });

  it('counts a variable used before the runbook sets it as a placeholder', () => {
    const md = '# A\n```bash\necho $LATE\nLATE=1\n```\n';
    expect(summary(md)[0]?.tokens).to.deep.equal(['$LATE@3']);
  });

  it('finds placeholders in yaml blocks but not in YAML comments', () => {
    const md =
      '# A\n```yaml\nmetadata: { namespace: <namespace> } # <not-this>\nspec: { hosts: [<service>.remote-cluster.local] }\n```\n';
    expect(summary(md)[0]?.tokens).to.deep.equal(['<namespace>@3', '<service>@4']);
  });
});

describe('binding placeholders', () => {
  const md =
    '# Restart istiod\n\n```bash\nkubectl -n <namespace> delete pod $POD_NAME\nkubectl -n <namespace> get pods\n```\n';
  const steps = parseRunbook(md, 'runbooks/x.md');

  it('lists each unbound placeholder with its line, as the validation message', () => {
    expect(describeUnbound(steps, { namespace: 'shop' })).to.deep.equal([
      'runbooks/x.md:4 step "Restart istiod": placeholder $POD_NAME is not bound; add it to runbook.variables in the scenario',
    ]);
    expect(findUnboundPlaceholders(steps, { namespace: 'shop', POD_NAME: 'p' })).to.deep.equal([]);
  });

  it('substitutes every occurrence verbatim and keeps the rest', () => {
    const [bound] = bindRunbook(steps, { namespace: 'shop' });
    expect(bound?.body).to.equal('kubectl -n shop delete pod $POD_NAME\nkubectl -n shop get pods');
    expect(bound?.placeholders.map((p) => [p.token, p.line, bound.body.slice(p.start, p.end)])).to.deep.equal(
      [['$POD_NAME', 4, '$POD_NAME']],
    );
    const [full] = bindRunbook(steps, {
      namespace: 'shop',
      POD_NAME: '$(kubectl get pod -o name | head -1)',
    });
    expect(full?.body).to.equal(
      'kubectl -n shop delete pod $(kubectl get pod -o name | head -1)\nkubectl -n shop get pods',
    );
    expect(full?.placeholders).to.deep.equal([]);
  });

  it('binds all or refuses: bindRunbookSteps (what the loader stores) names every unbound placeholder', () => {
    const all = { namespace: 'shop', POD_NAME: 'p' };
    expect(bindRunbookSteps(steps, all)).to.deep.equal(bindRunbook(steps, all));
    expect(() => bindRunbookSteps(steps, { namespace: 'shop' })).to.throw(
      'runbooks/x.md:4 step "Restart istiod": placeholder $POD_NAME is not bound',
    );
  });
});

describe('the seed runbooks (scenarios/runbooks/seed-*.md) parse', () => {
  it('seed-emergency-restore: the PeerAuthentication, then the three restore commands', () => {
    const steps = seed('seed-emergency-restore.md');
    expect(steps.map((s) => [s.title, s.kind])).to.deep.equal([
      ['Emergency Certificate Fix', 'apply'],
      ['Emergency Restore (60 seconds)', 'command'],
    ]);
    expect(steps[0]?.body).to.contain('kind: PeerAuthentication').and.contain('mode: PERMISSIVE');
    expect(steps[1]?.body.split('\n')).to.deep.equal([
      'kubectl apply -f emergency-permissive-policy.yaml',
      'kubectl delete secret cacerts -n istio-system',
      'kubectl rollout restart deployment/istiod -n istio-system',
    ]);
    expect(steps.flatMap((s) => s.placeholders)).to.deep.equal([]);
  });

  it('seed-5-step-debug: five command steps and their placeholders', () => {
    const steps = seed('seed-5-step-debug.md');
    expect(steps.map((s) => s.title)).to.deep.equal([
      'Step 1: Control Plane Health Verification (30 seconds)',
      'Step 2: Configuration Validation (90 seconds)',
      'Step 3: Traffic Path Verification (2 minutes)',
      'Step 4: Sidecar Log Analysis (1 minute)',
      'Step 5: Certificate Validation (30 seconds)',
    ]);
    expect(steps.every((s) => s.kind === 'command')).to.equal(true);
    expect(steps.map((s) => [...new Set(s.placeholders.map((p) => p.token))])).to.deep.equal([
      [],
      ['<namespace>'],
      ['$POD_NAME', '<target-service>'],
      ['$POD_NAME'],
      ['$POD_NAME', '<target-service>'],
    ]);
    const variables = { namespace: 'shop', POD_NAME: 'frontend-0', 'target-service': 'backend' };
    expect(findUnboundPlaceholders(steps, variables)).to.deep.equal([]);
    expect(bindRunbook(steps, variables)[2]?.body).to.equal(
      'istioctl proxy-config cluster frontend-0 | grep backend\nistioctl proxy-config routes frontend-0 --name 8080',
    );
  });

  it('seed-sidecar-scope: one Sidecar to apply', () => {
    const steps = seed('seed-sidecar-scope.md');
    expect(steps.map((s) => [s.title, s.kind])).to.deep.equal([['Immediate Fix', 'apply']]);
    expect(steps[0]?.body).to.contain('kind: Sidecar').and.contain('"istio-system/*"');
  });
});
