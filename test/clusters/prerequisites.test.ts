// Prerequisite checks: every missing tool named at once with how to get it, a stopped Docker daemon told apart
// from a missing docker, and Podman accepted in its place — before anything is created.

import { expect } from 'chai';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createKindTarget } from '../../clusters/kind/index.js';
import { MeshdrillError } from '../../harness/model/errors.js';
import { FAKE_BIN, FakeCluster, type Sandbox, createSandbox } from './support.js';

/** A PATH directory holding only some of the fake tools. */
async function pathWith(sandbox: Sandbox, tools: string[]): Promise<string> {
  const dir = join(sandbox.dir, 'bin');
  await mkdir(dir, { recursive: true });
  for (const tool of tools) await symlink(join(FAKE_BIN, tool), join(dir, tool));
  return dir;
}

async function provisionError(
  sandbox: Sandbox,
  settings: Record<string, string> = {},
): Promise<MeshdrillError> {
  const cluster = new FakeCluster();
  const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
  const error = await target
    .provision({ workDir: sandbox.workDir, ruleFiles: [], settings })
    .catch((e: unknown) => e);
  await target.teardown();
  expect(error).to.be.instanceOf(MeshdrillError);
  return error as MeshdrillError;
}

describe('kind prerequisites', function () {
  this.timeout(20_000);
  let sandbox: Sandbox;
  afterEach(() => sandbox.cleanup());

  it('names every missing tool at once, with how to get each, and runs nothing else', async () => {
    sandbox = await createSandbox();
    sandbox.env.PATH = await pathWith(sandbox, ['kubectl']);
    const error = await provisionError(sandbox, { 'plugin-ca': 'generate' });
    expect(error.kind).to.equal('environment');
    expect(error.message).to.match(/^6 prerequisites are missing:/);
    for (const expected of [
      '`docker` or `podman` (a running container engine for the kind nodes)',
      'docker: not found on PATH',
      'fix: install Docker (https://docs.docker.com/get-docker/) and start its daemon',
      'podman: not found on PATH',
      '`kind` (creates and deletes the cluster)',
      'install kind ≥ v0.30',
      '`helm` (installs Chaos Mesh)',
      '`curl` (download istioctl 1.30.3 (or use istio-installer=helm))',
      '`tar`',
      '`openssl` (generates the plug-in CA (plugin-ca=generate))',
    ]) {
      expect(error.message).to.include(expected);
    }
    expect(error.message).to.not.include('`kubectl`');
    expect(error.hint).to.include('nothing was created');
    expect(await sandbox.lines()).to.deep.equal([]);
  });

  it('tells a stopped Docker daemon apart from a missing docker', async () => {
    sandbox = await createSandbox({ env: { FAKE_FAIL: 'docker:info' } });
    sandbox.env.PATH = await pathWith(sandbox, ['docker', 'kind', 'kubectl', 'helm', 'curl', 'tar']);
    const error = await provisionError(sandbox);
    expect(error.message).to.match(/^1 prerequisite is missing:/);
    expect(error.message).to.include('docker: installed, but `');
    expect(error.message).to.include('info` exited with code 1');
    expect(error.message).to.include('Cannot connect to the Docker daemon');
    expect(error.message).to.include('podman: not found on PATH');
  });

  it('uses Podman when Docker is not running', async () => {
    sandbox = await createSandbox({ env: { FAKE_FAIL: 'docker:info' } });
    const cluster = new FakeCluster();
    cluster.seedNode('n');
    cluster.seedInstalledStack();
    const target = createKindTarget({ host: sandbox.host(cluster.kube()) });
    const env = await target.provision({
      workDir: sandbox.workDir,
      ruleFiles: [],
      settings: { 'chaos-mesh': 'false' },
    });
    await target.teardown();
    const calls = await sandbox.calls();
    expect(calls.slice(0, 2).map((c) => `${c.tool} ${c.args.join(' ')}`)).to.deep.equal([
      'docker info',
      'podman info',
    ]);
    expect(
      calls.filter((c) => c.tool === 'kind').every((c) => c.env.KIND_EXPERIMENTAL_PROVIDER === 'podman'),
    ).to.equal(true);
    expect(env.versions.target).to.equal('kind');
  });

  it('needs no helm when Istio comes from istioctl and Chaos Mesh is off', async () => {
    sandbox = await createSandbox();
    sandbox.env.PATH = await pathWith(sandbox, ['docker', 'kind', 'kubectl']);
    const error = await provisionError(sandbox, { 'chaos-mesh': 'false' });
    expect(error.message).to.match(/^2 prerequisites are missing:/);
    expect(error.message).to.include('`curl`');
    expect(error.message).to.not.include('`helm`');
  });
});
