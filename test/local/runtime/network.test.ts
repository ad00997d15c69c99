// kube-proxy and cluster DNS emulation: ClusterIPs from 127.96.0.0/16, forwarding over Ready endpoints,
// connection refused with none, nodePorts on 127.0.0.1, and fortio call chains by cluster name.

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { RESOURCES, type Service } from '../../../clusters/local/controllers/index.js';
import { type Rig, startRig, until } from './support.js';

function deployment(
  name: string,
  replicas: number,
  args: string[] = ['server', '-redirect-port', 'disabled'],
): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'fortio',
              image: 'fortio/fortio',
              args,
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

function service(name: string, type = 'ClusterIP'): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type, selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('local network', function () {
  this.timeout(30000);
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    await rig?.stop();
  });

  it('gives services ClusterIPs on loopback, forwards to Ready pods, refuses with no endpoints', async () => {
    const svc = (await rig.store.create(RESOURCES.services, service('b'))) as Service;
    expect(svc.spec.clusterIP).to.match(/^127\.96\.\d+\.\d+$/);
    await rig.store.create(RESOURCES.deployments, deployment('b', 2));
    const ip = svc.spec.clusterIP as string;
    const res = await until(
      'service answers',
      async () => {
        const r = await fetch(`http://${ip}/hello?status=202`).catch(() => undefined);
        return r?.status === 202 ? r : undefined;
      },
      10000,
    );
    expect(res.status).to.equal(202);
    const table = JSON.parse(readFileSync(join(rig.dir, 'cluster-dns.json'), 'utf8')) as Record<
      string,
      string
    >;
    expect(table['b.default.svc.cluster.local']).to.equal(ip);
    const d = rig.store.get(RESOURCES.deployments, 'default', 'b') as { spec: { replicas: number } } & Record<
      string,
      unknown
    >;
    await rig.store.update(RESOURCES.deployments, { ...d, spec: { ...d.spec, replicas: 0 } });
    await until('connection refused at the ClusterIP', () => refused(ip, 80), 10000);
  });

  it('builds a call chain by cluster name through fortio fetch2 and -M multi-server', async () => {
    await rig.store.create(RESOURCES.services, service('tail'));
    await rig.store.create(RESOURCES.deployments, deployment('tail', 1));
    // The head forwards everything it receives on 8081 to the tail service, mirroring the origin request.
    await rig.store.create(RESOURCES.services, service('head', 'NodePort'));
    await rig.store.create(
      RESOURCES.deployments,
      deployment('head', 1, ['server', '-redirect-port', 'disabled', '-M', '8081 http://tail']),
    );
    const head = await until(
      'head ready',
      () => {
        const p = rig.store.list(RESOURCES.pods, { namespace: 'default', labelSelector: 'app=head' })
          .items[0];
        const st = p?.status as
          | { podIP?: string; conditions?: { type: string; status: string }[] }
          | undefined;
        return st?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? st.podIP : undefined;
      },
      10000,
    );
    await until('tail endpoints', () => rig.network.openListeners().length >= 2, 10000);
    const viaFetch = await until(
      'fetch2 by short name',
      async () => {
        const r = await fetch(`http://${head}:8080/fortio/fetch2/?url=tail/x%3Fstatus%3D203`).catch(
          () => undefined,
        );
        return r?.status === 203 ? r : undefined;
      },
      10000,
    );
    expect(viaFetch.status).to.equal(203);
    const viaMulti = await fetch(`http://${head}:8081/chain?status=429`);
    expect(viaMulti.status).to.equal(429);
    const url = rig.network.nodePortUrl('default', 'head');
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:3\d{4}$/);
    const viaNodePort = await until(
      'node port',
      async () => {
        const r = await fetch(`${url}/?status=200`).catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      },
      10000,
    );
    expect(viaNodePort.status).to.equal(200);
  });
});
