// `meshdrill cleanup` against a running local cluster: it deletes only what carries the run's label, on the
// context it was told (never the current one of a kubeconfig with several), and reads KUBECONFIG lists.

import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseCliArgs } from '../../harness/cli/args.js';
import { cleanupCommand } from '../../harness/cli/commands/cleanup.js';
import { readPendingUndos, recordPendingUndo } from '../../harness/exec/index.js';
import { MeshdrillError } from '../../harness/model/errors.js';
import { RUN_ID_LABEL } from '../../harness/model/kube-object.js';
import { type Booted, bootTarget } from '../local/support/boot.js';

describe('meshdrill cleanup', function () {
  this.timeout(60_000);
  let booted: Booted;
  let otherKubeconfig: string;

  before(async () => {
    booted = await bootTarget({ dirPrefix: 'meshdrill-cleanup-test-' });
    // A second kubeconfig whose current context is another cluster: what a user's KUBECONFIG list looks like.
    otherKubeconfig = join(booted.dir, 'prod.kubeconfig');
    writeFileSync(
      otherKubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'prod', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'prod', user: { token: 'x' } }],
        contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'prod' } }],
        'current-context': 'prod',
      }),
    );
  });
  after(async () => {
    await booted?.stop();
  });

  const ok = async (args: string[]): Promise<string> => {
    const result = await booted.kubectl(args);
    expect(result.exitCode, `kubectl ${args.join(' ')}: ${result.stderr}`).to.equal(0);
    return result.stdout;
  };
  const seed = async (runId: string): Promise<void> => {
    await ok(['create', 'namespace', `drill-${runId}`]);
    await ok(['label', 'namespace', `drill-${runId}`, `${RUN_ID_LABEL}=${runId}`]);
    await ok(['-n', 'default', 'create', 'configmap', `mine-${runId}`]);
    await ok(['-n', 'default', 'label', 'configmap', `mine-${runId}`, `${RUN_ID_LABEL}=${runId}`]);
    await ok(['-n', 'default', 'create', 'configmap', `not-mine-${runId}`]);
  };
  const names = (): Promise<string> => ok(['get', 'namespaces,configmaps', '-A', '-o', 'name']);

  it('refuses a kubeconfig list of several contexts without --context, and deletes nothing', async () => {
    await seed('r1');
    const env = { KUBECONFIG: `${otherKubeconfig}:${booted.env.kubeconfigPath}` };
    const error = await cleanupCommand(parseCliArgs(['cleanup', '--run-id', 'r1']), env).catch(
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(MeshdrillError);
    expect((error as MeshdrillError).kind).to.equal('invalid-input');
    expect((error as MeshdrillError).message)
      .to.include('expected --context NAME')
      .and.include('prod, meshdrill-local');
    expect(await names())
      .to.include('namespace/drill-r1')
      .and.include('configmap/mine-r1');
  });

  it('with --context, reads the list as kubectl does and deletes only what carries the run-id', async () => {
    const env = { KUBECONFIG: `${otherKubeconfig}:${booted.env.kubeconfigPath}` };
    const code = await cleanupCommand(
      parseCliArgs(['cleanup', '--run-id', 'r1', '--context', 'meshdrill-local']),
      env,
    );
    expect(code).to.equal(0);
    const left = await names();
    expect(left).to.not.include('namespace/drill-r1');
    expect(left).to.not.include('configmap/mine-r1');
    expect(left).to.include('configmap/not-mine-r1');
  });

  it("takes a kubeconfig of one context (the run's own copy) without --context", async () => {
    await seed('r2');
    const code = await cleanupCommand(
      parseCliArgs(['cleanup', '--run-id', 'r2', '--kubeconfig', booted.env.kubeconfigPath]),
      {},
    );
    expect(code).to.equal(0);
    const left = await names();
    expect(left).to.not.include('configmap/mine-r2');
    expect(left).to.include('configmap/not-mine-r2').and.include('configmap/not-mine-r1');
  });

  it('names the contexts there when --context names none of them', async () => {
    const error = await cleanupCommand(
      parseCliArgs(['cleanup', '--run-id', 'r3', '--context', 'staging', '--kubeconfig', otherKubeconfig]),
      {},
    ).catch((e: unknown) => e);
    expect((error as MeshdrillError).message).to.include('--context: no context "staging"');
    expect((error as MeshdrillError).hint).to.equal('contexts there: prod');
  });

  it('runs a pending undo through the real door: one that exits 1 keeps its record and exits 4; --dry-run lists it', async () => {
    await seed('r4');
    const state = join(booted.dir, 'state');
    const probe = join(booted.dir, 'undo-ran');
    const record = (step: number, undo: string) =>
      recordPendingUndo(state, {
        runId: 'r4',
        scenario: 'istio-upgrade',
        part: 'setup',
        step,
        undo,
        description: `ran \`install ${step}\``,
        env: { context: 'meshdrill-local', kubeconfig: '/gone', path: [], cwd: booted.dir },
      });
    await record(0, `echo first >> ${probe}`);
    await record(1, 'echo "Error: revision drill-1-30 still in use" >&2; exit 1');
    const env = { MESHDRILL_STATE_DIR: state };
    const args = ['cleanup', '--run-id', 'r4', '--kubeconfig', booted.env.kubeconfigPath];
    const lines: string[] = [];
    const log = console.log;
    const error = console.error;
    console.log = (line: string) => lines.push(line);
    console.error = (line: string) => lines.push(line);
    let dry: number;
    let code: number;
    try {
      dry = await cleanupCommand(parseCliArgs([...args, '--dry-run']), env);
      expect(existsSync(probe), 'a dry run runs nothing').to.equal(false);
      code = await cleanupCommand(parseCliArgs(args), env);
    } finally {
      console.log = log;
      console.error = error;
    }
    expect(dry).to.equal(0);
    expect(lines.join('\n')).to.include('dry run: 2 pending undo(s)');
    expect(code, lines.join('\n')).to.equal(4);
    // The failing one (the last step) ran first, and did not stop the other.
    expect(readFileSync(probe, 'utf8')).to.equal('first\n');
    expect(lines.join('\n')).to.match(
      /CLEANUP FAILED — undo of run r4 not done \(record kept\): istio-upgrade setup step 2 .*exited with code 1:\nError: revision drill-1-30 still in use/s,
    );
    const left = await readPendingUndos(state, 'r4');
    expect(left.map((e) => e.record.step)).to.deep.equal([1]);
    // The run's labelled objects are still deleted.
    expect(await names()).to.not.include('configmap/mine-r4');
  });
});
