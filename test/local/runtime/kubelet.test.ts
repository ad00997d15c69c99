// The kubelet with real OS processes: pod IPs, fortio serving on its declared port, probes, crash-loop
// back-off, OOM kills from real RSS, graceful termination, image pull errors, sidecars, exec, env.

import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCES } from '../../../clusters/local/controllers/index.js';
import type { ContainerStatus, Pod } from '../../../clusters/local/controllers/kube-types.js';
import { isAlive } from '../../../clusters/local/kubelet/index.js';
import { pod, type Rig, startRig, until } from './support.js';

function getPod(rig: Rig, name: string): Pod | undefined {
  return rig.store.get(RESOURCES.pods, 'default', name) as Pod | undefined;
}

function status(rig: Rig, name: string, container?: string): ContainerStatus | undefined {
  const p = getPod(rig, name);
  const all = [...(p?.status?.containerStatuses ?? []), ...(p?.status?.initContainerStatuses ?? [])];
  return container ? all.find((c) => c.name === container) : all[0];
}

function eventsFor(rig: Rig, name: string): string[] {
  return rig.store
    .list(RESOURCES.events, { namespace: 'default' })
    .items.filter((e) => (e.involvedObject as { name: string }).name === name)
    .map((e) => `${e.reason}: ${e.message}`);
}

async function httpGet(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('local kubelet', function () {
  this.timeout(30000);
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    await rig?.stop();
  });

  it('runs fortio as a process on the pod IP, Ready, with the events users look at', async () => {
    await rig.store.create(
      RESOURCES.pods,
      pod('echo', {
        containers: [
          {
            name: 'fortio',
            image: 'fortio/fortio:1.69.0',
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
          },
        ],
      }),
    );
    const ready = await until('echo Ready', () => {
      const p = getPod(rig, 'echo');
      return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    });
    expect(ready.spec.nodeName).to.equal('meshdrill-local');
    expect(ready.status?.phase).to.equal('Running');
    expect(ready.status?.podIP).to.match(/^127\.1\.\d+\.\d+$/);
    const res = await httpGet(
      `http://${ready.status?.podIP}:8080/any/path?status=418&header=X-Test:yes&size=100`,
    );
    expect(res.status).to.equal(418);
    expect(res.headers.get('x-test')).to.equal('yes');
    expect(res.body.length).to.be.greaterThan(0);
    await rig.kubelet.events.flush();
    const events = eventsFor(rig, 'echo');
    for (const reason of ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) {
      expect(
        events.some((e) => e.startsWith(`${reason}:`)),
        `${reason} in ${events.join(' | ')}`,
      ).to.equal(true);
    }
    const metrics = rig.kubelet.podMetrics().find((m) => m.name === 'echo');
    expect(metrics?.containers[0]?.memoryBytes).to.be.greaterThan(10 * 1024 * 1024);
  });

  it('readiness gates endpoints; a failing liveness probe restarts the container', async () => {
    await rig.store.create(RESOURCES.services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'gated', namespace: 'default' },
      spec: { selector: { app: 'gated' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await rig.store.create(
      RESOURCES.pods,
      pod(
        'gated',
        {
          containers: [
            {
              name: 'fortio',
              image: 'fortio/fortio',
              args: ['server', '-redirect-port', 'disabled'],
              readinessProbe: {
                httpGet: { path: '/ready?status=503', port: 8080 },
                periodSeconds: 1,
                failureThreshold: 1,
              },
              livenessProbe: {
                tcpSocket: { port: 9999 },
                initialDelaySeconds: 2,
                periodSeconds: 1,
                failureThreshold: 2,
              },
            },
          ],
          terminationGracePeriodSeconds: 1,
        },
        { labels: { app: 'gated' } },
      ),
    );
    const ep = await until('not-ready endpoint', () => {
      const e = rig.store.get(RESOURCES.endpoints, 'default', 'gated') as
        | { subsets?: { notReadyAddresses?: { ip: string }[]; addresses?: unknown[] }[] }
        | undefined;
      return e?.subsets?.[0]?.notReadyAddresses?.length ? e : undefined;
    });
    expect(ep.subsets?.[0]?.addresses).to.equal(undefined);
    const restarted = await until(
      'liveness restart',
      () => {
        const s = status(rig, 'gated');
        return s && s.restartCount >= 1 ? s : undefined;
      },
      15000,
    );
    expect(restarted.lastState.terminated?.reason).to.equal('Error');
    await rig.kubelet.events.flush();
    const events = eventsFor(rig, 'gated');
    expect(
      events.some((e) =>
        /^Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503$/.test(e),
      ),
    ).to.equal(true);
    expect(
      events.some((e) =>
        /^Unhealthy: Liveness probe failed: dial tcp 127\.1\.\d+\.\d+:9999: connect: connection refused$/.test(
          e,
        ),
      ),
    ).to.equal(true);
    expect(events).to.include('Killing: Container fortio failed liveness probe, will be restarted');
  });

  it('crash loops with CrashLoopBackOff, keeps lastState and the previous log', async () => {
    await rig.store.create(
      RESOURCES.pods,
      pod('crash', {
        containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo boom $HOSTNAME; exit 3'] }],
      }),
    );
    const s = await until(
      'restartCount >= 2 in CrashLoopBackOff',
      () => {
        const st = status(rig, 'crash');
        return st && st.restartCount >= 2 && st.state.waiting?.reason === 'CrashLoopBackOff' ? st : undefined;
      },
      15000,
    );
    expect(s.lastState.terminated?.exitCode).to.equal(3);
    expect(s.lastState.terminated?.reason).to.equal('Error');
    expect(s.state.waiting?.message).to.match(
      /^back-off \d+s restarting failed container=c pod=crash_default\(/,
    );
    expect(rig.kubelet.readLog('default', 'crash', { container: 'c', previous: true })).to.equal(
      'boom crash\n',
    );
    await rig.kubelet.events.flush();
    expect(
      eventsFor(rig, 'crash').some((e) =>
        e.startsWith('BackOff: Back-off restarting failed container c in pod crash_default'),
      ),
    ).to.equal(true);
  });

  it('OOM-kills a process whose RSS passes its memory limit: OOMKilled, exit 137, OOMKilling event', async () => {
    await rig.store.create(
      RESOURCES.pods,
      pod('hog', {
        containers: [
          {
            name: 'stress',
            image: 'polinux/stress',
            command: ['stress'],
            args: ['--vm', '1', '--vm-bytes', '150M', '--vm-hang', '1'],
            resources: { limits: { memory: '64Mi' } },
          },
        ],
      }),
    );
    const s = await until(
      'OOMKilled',
      () => {
        const st = status(rig, 'hog');
        const t = st?.lastState.terminated ?? st?.state.terminated;
        return t?.reason === 'OOMKilled' ? t : undefined;
      },
      15000,
    );
    expect(s.exitCode).to.equal(137);
    await rig.kubelet.events.flush();
    expect(
      eventsFor(rig, 'hog').some((e) =>
        /^OOMKilling: Memory cgroup out of memory: Killed process \d+/.test(e),
      ),
    ).to.equal(true);
  });

  it('terminates gracefully: SIGTERM first (trap runs), SIGKILL after the grace period when ignored', async () => {
    const mark = join(rig.dir, 'got-term');
    await rig.store.create(
      RESOURCES.pods,
      pod('polite', {
        terminationGracePeriodSeconds: 10,
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', `trap "echo term > ${mark}; exit 0" TERM; while :; do sleep 0.05; done`],
          },
        ],
      }),
    );
    await rig.store.create(
      RESOURCES.pods,
      pod('stubborn', {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done'],
          },
        ],
      }),
    );
    await until(
      'both running',
      () => status(rig, 'polite')?.state.running && status(rig, 'stubborn')?.state.running,
    );
    const pids = [
      ...(rig.kubelet.worker('default', 'polite')?.pids() ?? []),
      ...(rig.kubelet.worker('default', 'stubborn')?.pids() ?? []),
    ];
    expect(pids).to.have.length(2);
    const t0 = Date.now();
    await rig.store.delete(RESOURCES.pods, 'default', 'polite');
    await rig.store.delete(RESOURCES.pods, 'default', 'stubborn');
    expect(getPod(rig, 'polite')?.metadata.deletionTimestamp, 'graceful: still there, terminating').to.be.a(
      'string',
    );
    await until('polite gone', () => getPod(rig, 'polite') === undefined);
    const politeMs = Date.now() - t0;
    await until('stubborn gone', () => getPod(rig, 'stubborn') === undefined);
    const stubbornMs = Date.now() - t0;
    expect(existsSync(mark) && readFileSync(mark, 'utf8').trim()).to.equal('term');
    expect(politeMs).to.be.lessThan(3000);
    expect(stubbornMs).to.be.within(900, 4000);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid} gone`).to.equal(false);
    await rig.kubelet.events.flush();
    expect(eventsFor(rig, 'polite')).to.include('Killing: Stopping container c');
  });

  it('a startup probe holds started/ready back, and its failure restarts the container', async () => {
    await rig.store.create(
      RESOURCES.pods,
      pod('slowstart', {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', 'while :; do sleep 1; done'],
            startupProbe: {
              exec: { command: ['sh', '-c', 'echo not yet; exit 1'] },
              periodSeconds: 1,
              failureThreshold: 2,
            },
          },
        ],
      }),
    );
    const first = await until('running, not started', () => {
      const st = status(rig, 'slowstart');
      return st?.state.running ? st : undefined;
    });
    expect(first.started).to.equal(false);
    expect(first.ready).to.equal(false);
    await until(
      'restarted by the startup probe',
      () => (status(rig, 'slowstart')?.restartCount ?? 0) >= 1,
      10000,
    );
    await rig.kubelet.events.flush();
    const events = eventsFor(rig, 'slowstart');
    expect(events).to.include('Unhealthy: Startup probe failed: not yet');
    expect(events).to.include('Killing: Container c failed startup probe, will be restarted');
  });

  it('a Job whose pods keep failing stops at backoffLimit with BackoffLimitExceeded', async () => {
    await rig.store.create(RESOURCES.jobs, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'doomed', namespace: 'default' },
      spec: {
        backoffLimit: 1,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 1'] }],
          },
        },
      },
    });
    const job = await until(
      'job failed',
      () => {
        const j = rig.store.get(RESOURCES.jobs, 'default', 'doomed');
        const s = j?.status as
          | { failed?: number; conditions?: { type: string; reason?: string }[] }
          | undefined;
        return s?.conditions?.find((c) => c.type === 'Failed') ? s : undefined;
      },
      10000,
    );
    expect(job.failed).to.equal(2);
    expect(job.conditions?.find((c) => c.type === 'Failed')?.reason).to.equal('BackoffLimitExceeded');
    const pods = rig.store.list(RESOURCES.pods, {
      namespace: 'default',
      labelSelector: 'job-name=doomed',
    }).items;
    expect(pods.map((p) => (p.status as { phase: string }).phase)).to.deep.equal(['Failed', 'Failed']);
  });

  it('an unknown image gives ErrImagePull then ImagePullBackOff with Failed events', async () => {
    await rig.store.create(
      RESOURCES.pods,
      pod('nope', { containers: [{ name: 'c', image: 'example/does-not-exist:1.0' }] }),
    );
    await until(
      'ImagePullBackOff',
      () => status(rig, 'nope')?.state.waiting?.reason === 'ImagePullBackOff',
      8000,
    );
    await rig.kubelet.events.flush();
    const events = eventsFor(rig, 'nope');
    expect(
      events.some((e) =>
        e.startsWith('Failed: Failed to pull image "example/does-not-exist:1.0": rpc error: code = NotFound'),
      ),
    ).to.equal(true);
    expect(events).to.include('Failed: Error: ErrImagePull');
    expect(getPod(rig, 'nope')?.status?.phase).to.equal('Pending');
  });

  it('runs init containers in order, keeps a native sidecar running, and reports both status lists', async () => {
    await rig.store.create(
      RESOURCES.pods,
      pod('sidecars', {
        initContainers: [
          { name: 'setup', image: 'busybox', command: ['sh', '-c', 'echo setup done'] },
          {
            name: 'proxy',
            image: 'busybox',
            restartPolicy: 'Always',
            command: ['sh', '-c', 'while :; do sleep 1; done'],
          },
        ],
        containers: [
          { name: 'app', image: 'busybox', command: ['sh', '-c', 'echo app up; while :; do sleep 1; done'] },
        ],
      }),
    );
    const p = await until('sidecars Ready', () => {
      const x = getPod(rig, 'sidecars');
      return x?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? x : undefined;
    });
    const init = p.status?.initContainerStatuses ?? [];
    expect(init.find((c) => c.name === 'setup')?.state.terminated?.reason).to.equal('Completed');
    expect(init.find((c) => c.name === 'proxy')?.state.running).to.not.equal(undefined);
    expect(init.find((c) => c.name === 'proxy')?.started).to.equal(true);
    expect(p.status?.containerStatuses?.[0]?.ready).to.equal(true);
    expect(rig.kubelet.readLog('default', 'sidecars', { container: 'setup' })).to.equal('setup done\n');
  });

  it('exec runs in the container env and returns the exit code; env comes from ConfigMap, Secret and the downward API', async () => {
    await rig.store.create(RESOURCES.configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', namespace: 'default' },
      data: { greeting: 'hello' },
    });
    await rig.store.create(RESOURCES.secrets, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sec', namespace: 'default' },
      data: { token: Buffer.from('s3cret').toString('base64') },
    });
    await rig.store.create(
      RESOURCES.pods,
      pod('envy', {
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', 'while :; do sleep 1; done'],
            env: [
              { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'greeting' } } },
              { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'sec', key: 'token' } } },
              { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'COMBINED', value: '$(GREETING)-$(MY_POD)' },
            ],
          },
        ],
      }),
    );
    await until('envy running', () => status(rig, 'envy')?.state.running);
    let out = '';
    const code = await rig.kubelet.exec(
      'default',
      'envy',
      'c',
      ['sh', '-c', 'echo "$GREETING $TOKEN $MY_POD $MY_IP $COMBINED"; exit 7'],
      {
        stdout: (c) => {
          out += c.toString();
        },
        stderr: () => undefined,
      },
    );
    expect(code).to.equal(7);
    const ip = getPod(rig, 'envy')?.status?.podIP;
    expect(out.trim()).to.equal(`hello s3cret envy ${ip} hello-envy`);
  });
});
