// The runbook runner: steps through harness/exec with the target's environment, a fake kubectl on PATH.

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildStepEnv, parseRunbook, runRunbook, type StepResult } from '../../harness/runbook/index.js';

describe('runRunbook', () => {
  let dir: string;
  let bin: string;
  let options: { kubeconfigPath: string; binDirs: string[]; workDir: string; stepTimeoutMs: number };
  const saved = { KUBECONTEXT: process.env.KUBECONTEXT, KUBECONFIG: process.env.KUBECONFIG };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshdrill-runbook-'));
    bin = join(dir, 'bin');
    writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
    mkdirSync(bin, { recursive: true });
    // A fake kubectl that records its argv, stdin and the variables that matter.
    writeFileSync(
      join(bin, 'kubectl'),
      `#!/bin/bash\necho "argv=$*" >> "${dir}/kubectl.log"\nif [ "$1" = apply ]; then cat > "${dir}/stdin.yaml"; fi\necho "KUBECONFIG=$KUBECONFIG KUBECONTEXT=\${KUBECONTEXT:-unset}"\n`,
    );
    chmodSync(join(bin, 'kubectl'), 0o755);
    options = { kubeconfigPath: join(dir, 'kubeconfig'), binDirs: [bin], workDir: dir, stepTimeoutMs: 5_000 };
    process.env.KUBECONTEXT = 'users-own-context';
    process.env.KUBECONFIG = '/home/user/.kube/config';
  });

  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every step in order, records a failing one and carries on', async () => {
    const md =
      '# One\n```bash\necho hello; echo oops >&2\n```\n# Two\n```bash\nfalse | true\n```\n# Three\n```bash\nexit 3\n```\n# Four\n```bash\necho after\n```\n';
    const started: number[] = [];
    const ended: StepResult[] = [];
    const results = await runRunbook(parseRunbook(md, 'x.md'), {
      ...options,
      onStepStart: (index) => started.push(index),
      onStepEnd: (r) => ended.push(r),
    });
    expect(results.map((r) => [r.index, r.title, r.kind, r.exitCode, r.timedOut])).to.deep.equal([
      [0, 'One', 'command', 0, false],
      [1, 'Two', 'command', 1, false], // pipefail: the failing left side counts
      [2, 'Three', 'command', 3, false],
      [3, 'Four', 'command', 0, false],
    ]);
    expect(results[0]?.output).to.contain('hello').and.contain('oops');
    expect(results[3]?.output).to.equal('after\n');
    expect(started).to.deep.equal([0, 1, 2, 3]);
    expect(ended).to.deep.equal(results);
    expect(results[0]?.command).to.equal('echo hello; echo oops >&2');
    expect(results[0]?.startedAt).to.be.closeTo(Date.now(), 10_000);
  });

  it('pins KUBECONFIG to the target, drops the user context, and puts binDirs first on PATH', async () => {
    const md = '# Env\n```bash\nkubectl get pods -n shop\necho "cache=$KUBECACHEDIR"\n```\n';
    const [result] = await runRunbook(parseRunbook(md, 'x.md'), options);
    expect(result?.output).to.contain(`KUBECONFIG=${options.kubeconfigPath} KUBECONTEXT=unset`);
    expect(result?.output).to.contain(`cache=${join(dir, 'kube-cache')}`);
    expect(readFileSync(join(dir, 'kubectl.log'), 'utf8')).to.contain('argv=get pods -n shop');
  });

  it('applies a yaml step with kubectl apply -f - and the manifest on stdin', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x';
    const [result] = await runRunbook(
      parseRunbook(`# Apply\n\`\`\`yaml\n${yaml}\n\`\`\`\n`, 'x.md'),
      options,
    );
    expect(result?.kind).to.equal('apply');
    expect(result?.exitCode).to.equal(0);
    expect(result?.command).to.equal(`kubectl apply -f - <<'EOF'\n${yaml}\nEOF`);
    expect(readFileSync(join(dir, 'stdin.yaml'), 'utf8')).to.equal(yaml);
    expect(readFileSync(join(dir, 'kubectl.log'), 'utf8')).to.contain('argv=apply -f -');
  });

  it('times a step out, kills it, and goes on to the next', async () => {
    const md = '# Slow\n```bash\nsleep 30\n```\n# Next\n```bash\necho next\n```\n';
    const t0 = Date.now();
    const results = await runRunbook(parseRunbook(md, 'x.md'), { ...options, stepTimeoutMs: 300 });
    expect(Date.now() - t0).to.be.lessThan(10_000);
    expect(results.map((r) => r.timedOut)).to.deep.equal([true, false]);
    expect(results[0]?.output).to.contain('timed out after 300 ms');
    expect(results[1]?.output).to.equal('next\n');
  });

  it('runs nothing once the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const results = await runRunbook(parseRunbook('```bash\necho x\n```\n', 'x.md'), {
      ...options,
      signal: controller.signal,
    });
    expect(results).to.deep.equal([]);
  });

  it('clips long output, keeping head and tail', async () => {
    const md = '```bash\necho START; head -c 50000 /dev/zero | tr "\\0" a; echo; echo END\n```\n';
    const [result] = await runRunbook(parseRunbook(md, 'x.md'), { ...options, maxOutputChars: 1000 });
    expect(result?.output.length).to.be.lessThan(1200);
    expect(result?.output)
      .to.match(/^START/)
      .and.match(/END\n$/)
      .and.contain('characters elided');
  });

  it('buildStepEnv strips every cluster pointer from the base environment', () => {
    const env = buildStepEnv(options, {
      PATH: '/usr/bin',
      KUBECONTEXT: 'a',
      KUBE_CONTEXT: 'b',
      KUBECTL_CONTEXT: 'c',
      HELM_KUBECONTEXT: 'd',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      ISTIOCTL_XDS_ADDRESS: 'x',
      HOME: '/home/u',
    });
    expect(env).to.deep.equal({
      PATH: `${bin}:/usr/bin`,
      HOME: '/home/u',
      KUBECONFIG: options.kubeconfigPath,
      KUBECACHEDIR: join(dir, 'kube-cache'),
    });
  });
});
