// Real kubectl reaching the pod runtime through the local API server: logs, exec (WebSocket, exit codes) and top.

import { expect } from 'chai';
import { KEYS } from '../../../clusters/local/store/index.js';
import { expectSuccess, type Fixture, startFixture } from './fixture.js';

describe('kubectl logs, exec and top against the local API server', function () {
  this.timeout(60_000);
  let f: Fixture;

  before(async () => {
    f = await startFixture();
    await f.store.create(KEYS.pods, {
      metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } },
      spec: {
        nodeName: 'node-1',
        containers: [
          { name: 'app', image: 'fortio/fortio' },
          { name: 'istio-proxy', image: 'istio/proxyv2' },
        ],
      },
    });
    await f.store.create(KEYS.pods, {
      metadata: { name: 'solo', namespace: 'default', labels: { app: 'solo' } },
      spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'busybox' }] },
    });
    f.runtime.setLog('default', 'web-1', 'app', ['line 1', 'line 2', 'line 3'], ['crashed before']);
    f.runtime.setLog('default', 'web-1', 'istio-proxy', ['proxy ready']);
    f.runtime.setLog('default', 'solo', 'main', ['only container']);
    f.runtime.metrics = [
      {
        namespace: 'default',
        name: 'web-1',
        timestamp: new Date().toISOString(),
        containers: [
          { name: 'app', cpuNanoCores: 250_000_000, memoryBytes: 64 * 1024 * 1024 },
          { name: 'istio-proxy', cpuNanoCores: 5_000_000, memoryBytes: 40 * 1024 * 1024 },
        ],
      },
      {
        namespace: 'default',
        name: 'solo',
        timestamp: new Date().toISOString(),
        containers: [{ name: 'main', cpuNanoCores: 1_000_000, memoryBytes: 8 * 1024 * 1024 }],
      },
    ];
  });
  after(async () => {
    await f.stop();
  });

  it('logs -c with --tail returns the last lines of that container', async () => {
    const out = expectSuccess(await f.kubectl(['logs', 'web-1', '-c', 'app', '--tail=2']));
    expect(out).to.equal('line 2\nline 3\n');
    expect(f.runtime.logCalls.at(-1)?.options).to.deep.include({ container: 'app', tailLines: 2 });
  });

  it('logs --previous reads the previous instance, and fails when there is none', async () => {
    expect(expectSuccess(await f.kubectl(['logs', 'web-1', '-c', 'app', '--previous']))).to.equal(
      'crashed before\n',
    );
    const none = await f.kubectl(['logs', 'web-1', '-c', 'istio-proxy', '--previous']);
    expect(none.exitCode).to.equal(1);
    expect(none.stderr).to.include('previous terminated container "istio-proxy"');
  });

  it('logs of a single-container pod needs no -c', async () => {
    expect(expectSuccess(await f.kubectl(['logs', 'solo']))).to.equal('only container\n');
  });

  it('logs -f streams until the container stops', async () => {
    const out = expectSuccess(await f.kubectl(['logs', '-f', 'solo']));
    expect(out).to.equal('only container\nfollowed line\n');
  });

  it('exec prints the output and propagates the exit code', async () => {
    const ok = await f.kubectl(['exec', 'web-1', '-c', 'app', '--', 'echo', 'hello', 'mesh']);
    expect(ok.exitCode, ok.stderr).to.equal(0);
    expect(ok.stdout).to.equal('hello mesh\n');
    expect(f.runtime.execCalls.at(-1)).to.deep.equal({
      namespace: 'default',
      pod: 'web-1',
      container: 'app',
      command: ['echo', 'hello', 'mesh'],
    });
    const failed = await f.kubectl(['exec', 'solo', '--', 'fail', '3']);
    expect(failed.exitCode).to.equal(3);
    expect(failed.stderr).to.include('failing on purpose');
  });

  it('exec into a missing pod fails with NotFound', async () => {
    const result = await f.kubectl(['exec', 'ghost', '--', 'echo', 'x']);
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.include('pods "ghost" not found');
  });

  it('top pod shows CPU and memory from the runtime, with --containers and -l', async () => {
    const out = expectSuccess(await f.kubectl(['top', 'pod']));
    expect(out.split('\n')[0]?.trimEnd()).to.match(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)$/);
    expect(out).to.match(/^web-1\s+255m\s+104Mi\s*$/m);
    expect(out).to.match(/^solo\s+1m\s+8Mi\s*$/m);
    const containers = expectSuccess(await f.kubectl(['top', 'pod', 'web-1', '--containers']));
    expect(containers).to.match(/web-1\s+app\s+250m\s+64Mi/);
    const selected = expectSuccess(await f.kubectl(['top', 'pod', '-l', 'app=solo']));
    expect(selected).to.not.include('web-1');
    expect(selected).to.include('solo');
  });
});
