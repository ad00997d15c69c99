// Real /usr/bin/kubectl against a booted LocalTarget: rollouts, scale, wait, logs, exec, top, events,
// describe, namespace cascade — each asserting the effect on the emulated cluster.

import { expect } from 'chai';
import { isAlive } from '../../../clusters/local/kubelet/index.js';
import { type Booted, bootTarget, expectOk, until } from './fixture.js';

const deployment = (name: string, replicas: number, namespace = 'default') => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: fortio
        image: fortio/fortio:1.69.0
        args: [server, -redirect-port, disabled]
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
`;

describe('local target with real kubectl', function () {
  this.timeout(90_000);
  let b: Booted;
  before(async () => {
    b = await bootTarget();
    expectOk(await b.kubectl(['apply', '-f', '-'], deployment('web', 2)));
  });
  after(async () => {
    await b?.stop();
  });

  it('rollout status succeeds, and wait --for=condition=Ready sees every pod Ready', async () => {
    expectOk(await b.kubectl(['rollout', 'status', 'deployment/web', '--timeout=30s']));
    const waited = expectOk(
      await b.kubectl(['wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s']),
    );
    expect(waited.trim().split('\n')).to.have.length(2);
  });

  it('scale changes the pod count', async () => {
    expectOk(await b.kubectl(['scale', 'deployment/web', '--replicas=3']));
    await until('3 running pods', async () => {
      const out = expectOk(
        await b.kubectl([
          'get',
          'pods',
          '-l',
          'app=web',
          '--field-selector=status.phase=Running',
          '-o',
          'name',
        ]),
      );
      return out.trim().split('\n').filter(Boolean).length === 3;
    });
    expectOk(await b.kubectl(['rollout', 'status', 'deployment/web', '--timeout=30s']));
  });

  it('rollout restart replaces every pod with a new ReplicaSet', async () => {
    const before = expectOk(
      await b.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}']),
    ).split(' ');
    expectOk(await b.kubectl(['rollout', 'restart', 'deployment/web']));
    expectOk(await b.kubectl(['rollout', 'status', 'deployment/web', '--timeout=45s']));
    await until('old pods gone', async () => {
      const now = expectOk(
        await b.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}']),
      ).split(' ');
      return now.length === 3 && now.every((n) => !before.includes(n));
    });
    const rs = expectOk(
      await b.kubectl([
        'get',
        'rs',
        '-l',
        'app=web',
        '-o',
        'jsonpath={range .items[*]}{.spec.replicas} {end}',
      ]),
    )
      .trim()
      .split(' ');
    expect(rs.sort()).to.deep.equal(['0', '3']);
  });

  it('logs honours --tail, -c and --previous after a crash', async () => {
    expectOk(
      await b.kubectl(
        ['apply', '-f', '-'],
        `
apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  containers:
  - name: counter
    image: busybox
    command: [sh, -c, 'for i in 1 2 3 4 5; do echo line-$i; done; sleep 0.3; echo crash-now; exit 2']
  - name: quiet
    image: busybox
    command: [sh, -c, 'echo only-me; while :; do sleep 1; done']
`,
      ),
    );
    await until('a restart of counter', async () => {
      const n = expectOk(
        await b.kubectl([
          'get',
          'pod',
          'talker',
          '-o',
          'jsonpath={.status.containerStatuses[?(@.name=="counter")].restartCount}',
        ]),
      );
      return Number(n) >= 1;
    });
    const tail = expectOk(await b.kubectl(['logs', 'talker', '-c', 'counter', '--previous', '--tail', '2']));
    expect(tail).to.equal('line-5\ncrash-now\n');
    expect(expectOk(await b.kubectl(['logs', 'talker', '-c', 'quiet']))).to.equal('only-me\n');
  });

  it('exec returns the command exit code and runs with the container env', async () => {
    const code = await b.kubectl([
      'exec',
      'talker',
      '-c',
      'quiet',
      '--',
      'sh',
      '-c',
      'echo "$HOSTNAME"; exit 3',
    ]);
    expect(code.exitCode).to.equal(3);
    expect(code.stdout.trim()).to.equal('talker');
  });

  it('top pod reports the real RSS of the pod processes', async () => {
    const out = await until('metrics', async () => {
      const r = await b.kubectl(['top', 'pod', '-l', 'app=web', '--no-headers']);
      return r.exitCode === 0 && r.stdout.trim() !== '' ? r.stdout : undefined;
    });
    const memory = out
      .trim()
      .split('\n')
      .map((line) => Number(/(\d+)Mi/.exec(line)?.[1] ?? 0));
    expect(memory).to.have.length(3);
    for (const mi of memory) expect(mi).to.be.within(10, 500);
  });

  it('get events and describe pod show what the kubelet and controllers did', async () => {
    const events = expectOk(
      await b.kubectl(['get', 'events', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']),
    ).split('\n');
    for (const r of [
      'Scheduled',
      'Pulled',
      'Created',
      'Started',
      'ScalingReplicaSet',
      'SuccessfulCreate',
      'BackOff',
      'Killing',
    ]) {
      expect(events, r).to.include(r);
    }
    const describe = expectOk(await b.kubectl(['describe', 'pod', 'talker']));
    expect(describe).to.match(/Node:\s+meshdrill-local\/127\.0\.0\.1/);
    expect(describe).to.match(/IP:\s+127\.1\.\d+\.\d+/);
    expect(describe).to.match(/Last State:\s+Terminated\n\s+Reason:\s+Error\n\s+Exit Code:\s+2/);
    expect(describe).to.include('Started container quiet');
  });

  it('namespace delete cascades to everything in it, processes included', async () => {
    expectOk(await b.kubectl(['create', 'namespace', 'doomed']));
    expectOk(await b.kubectl(['apply', '-f', '-'], deployment('inner', 2, 'doomed')));
    expectOk(await b.kubectl(['-n', 'doomed', 'rollout', 'status', 'deployment/inner', '--timeout=30s']));
    const pids = b.target.pids();
    const podPids = pids.filter((p) => p !== b.target.cluster?.prometheus.pid);
    expectOk(await b.kubectl(['delete', 'namespace', 'doomed', '--timeout=30s']));
    const gone = await b.kubectl(['get', 'namespace', 'doomed']);
    expect(gone.exitCode).to.equal(1);
    expect(gone.stderr).to.include('NotFound');
    const left = expectOk(await b.kubectl(['get', 'pods', '-n', 'doomed', '-o', 'name']));
    expect(left.trim()).to.equal('');
    const stillRunning = b.target.pids();
    const innerPids = podPids.filter((p) => !stillRunning.includes(p));
    expect(innerPids.length).to.be.greaterThan(0);
    for (const p of innerPids) expect(isAlive(p), `pid ${p}`).to.equal(false);
  });
});
