// Outlier detection facts (ISTIO-FACTS.md "Routing, retries, resilience") through a real sidecar process:
// consecutive 5xx eject a host; all hosts ejected → 503 UH "no healthy upstream"; maxEjectionPercent (default
// 10) bounds every ejection, the first included; ejection time = baseEjectionTime × times ejected; no ejection without
// `outlierDetection`; envoy_cluster_outlier_detection_ejections_active and the admin /clusters view.

import { expect } from 'chai';
import type http from 'node:http';
import {
  OutlierDetector,
  OutlierDetectors,
  parseOutlierDetection,
} from '../../../../clusters/local/mesh/proxy/resilience/outlier.js';
import { istio, pod, service, snapshot } from '../fixtures.js';
import {
  ALL_CLUSTER_STATS,
  adminJson,
  clusterStat,
  flagsOf,
  Rig,
  sendMany,
  viaProxy,
  waitUntil,
} from './rig.js';

const NS = 'outlier';
const CLIENT_IP = '127.48.3.11';
const H1 = '127.48.3.21';
const H2 = '127.48.3.22';
const cluster = (svc: string) => `outbound|8080||${svc}.${NS}.svc.cluster.local`;

interface HostStatus {
  address: { socket_address: { address: string } };
  health_status: { failed_outlier_check?: boolean };
  outlier?: { times_ejected: number; ejected: boolean; ejected_until?: string };
}

describe('resilience: outlier detection (child process sidecar)', function () {
  this.timeout(60_000);
  const rig = new Rig(NS);
  /** Status each host answers with; hits per host. */
  const answer: Record<string, number> = { [H1]: 200, [H2]: 200 };
  const hits: Record<string, number> = { [H1]: 0, [H2]: 0 };

  const dr = (host: string, outlierDetection: Record<string, unknown>) =>
    istio('DestinationRule', host, NS, { host, trafficPolicy: { outlierDetection } });
  const fast = { consecutive5xxErrors: 3, interval: '100ms', baseEjectionTime: '600ms' };

  before(async () => {
    for (const ip of [H1, H2]) {
      await rig.app(ip, (_req: http.IncomingMessage, res: http.ServerResponse) => {
        hits[ip] = (hits[ip] ?? 0) + 1;
        res.writeHead(answer[ip] ?? 200).end(ip);
      });
    }
    const hosts = { app: 'hosts' };
    const world = snapshot({
      pods: [
        pod('client-1', NS, CLIENT_IP, { app: 'client' }, { sa: 'client' }),
        pod('h-1', NS, H1, hosts, { sidecar: false }),
        pod('h-2', NS, H2, hosts, { sidecar: false }),
      ],
      services: ['all', 'capped', 'none', 'backoff'].map((n) => service(n, NS, hosts)),
      destinationRules: [
        dr('all', { ...fast, maxEjectionPercent: 100 }),
        dr('capped', fast),
        dr('backoff', {
          consecutive5xxErrors: 2,
          interval: '50ms',
          baseEjectionTime: '400ms',
          maxEjectionPercent: 100,
        }),
      ],
    });
    await rig.sidecar(world.pods[0] as (typeof world.pods)[0], world, { env: ALL_CLUSTER_STATS });
  });
  after(() => rig.stop());
  beforeEach(() => {
    answer[H1] = 200;
    answer[H2] = 200;
  });
  const get = (svc: string) => viaProxy(CLIENT_IP, `http://${svc}.${NS}:8080/`);
  const hostsOf = async (svc: string): Promise<HostStatus[]> => {
    const body = (await adminJson(CLIENT_IP, '/clusters?format=json')) as {
      cluster_statuses: { name: string; host_statuses: HostStatus[] }[];
    };
    return body.cluster_statuses.find((c) => c.name === cluster(svc))?.host_statuses ?? [];
  };

  it('Istio defaults when outlierDetection is set: 5 consecutive 5xx, 10 s interval, 30 s base ejection, 10 %', () => {
    expect(parseOutlierDetection({})).to.equal(undefined);
    const c = parseOutlierDetection({ outlierDetection: {} });
    expect(c).to.include({
      consecutive5xx: 5,
      intervalMs: 10_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionPercent: 10,
      consecutiveGatewayErrors: 0,
    });
  });

  it('consecutive 5xx eject each host; all ejected → 503 UH "no healthy upstream"; gauge and /clusters show it; hosts return after the base time', async () => {
    answer[H1] = 503;
    answer[H2] = 503;
    const replies = await sendMany(6, 1, () => get('all'));
    expect(replies.map((r) => r.status)).to.deep.equal([503, 503, 503, 503, 503, 503]);
    const uh = await get('all');
    expect([uh.status, flagsOf(uh), uh.body]).to.deep.equal([503, 'UH', 'no healthy upstream']);
    expect(
      await clusterStat(CLIENT_IP, 'envoy_cluster_outlier_detection_ejections_active', cluster('all')),
    ).to.equal(2);
    const hosts = await hostsOf('all');
    expect(hosts.map((h) => h.health_status.failed_outlier_check)).to.deep.equal([true, true]);
    expect(hosts.map((h) => h.outlier?.times_ejected)).to.deep.equal([1, 1]);
    // Un-ejected on an interval sweep once 1 × baseEjectionTime has passed.
    answer[H1] = 200;
    answer[H2] = 200;
    await waitUntil(
      'both hosts are back',
      async () =>
        (await clusterStat(CLIENT_IP, 'envoy_cluster_outlier_detection_ejections_active', cluster('all'))) ===
        0,
      3000,
    );
    expect((await get('all')).status).to.equal(200);
  });

  it('maxEjectionPercent 10 % (the default) of 2 hosts: one ejection would be 50 %, so none happens (overflow, no UH)', async () => {
    answer[H1] = 503;
    hits[H1] = 0;
    const replies = await sendMany(8, 1, () => get('capped'));
    // Envoy ejects only while 100 × (active + 1) / hosts <= max_ejection_percent; Istio never sets
    // always_eject_one_host, so the failing host keeps its share and its 503s reach the caller.
    expect(
      await clusterStat(CLIENT_IP, 'envoy_cluster_outlier_detection_ejections_active', cluster('capped')),
    ).to.equal(0);
    expect(
      await clusterStat(CLIENT_IP, 'envoy_cluster_outlier_detection_ejections_overflow', cluster('capped')),
    ).to.be.at.least(1);
    expect(hits[H1]).to.equal(4);
    expect(replies.filter((r) => r.status === 503 && flagsOf(r) === '-')).to.have.length(4);
    expect((await hostsOf('capped')).every((h) => !h.outlier?.ejected)).to.equal(true);
  });

  it('without outlierDetection a host answering 503 is never ejected (20 consecutive 503s all reach it)', async () => {
    answer[H1] = 503;
    answer[H2] = 503;
    const start = (hits[H1] ?? 0) + (hits[H2] ?? 0);
    const replies = await sendMany(20, 1, () => get('none'));
    expect(replies.every((r) => r.status === 503 && flagsOf(r) === '-')).to.equal(true);
    expect((hits[H1] ?? 0) + (hits[H2] ?? 0) - start).to.equal(20);
    expect((await hostsOf('none')).every((h) => h.outlier === undefined)).to.equal(true);
  });

  it('ejection time is baseEjectionTime × times ejected: the second ejection lasts twice as long', async () => {
    answer[H1] = 503;
    answer[H2] = 503;
    await sendMany(4, 1, () => get('backoff'));
    const first = await hostsOf('backoff');
    expect(first.every((h) => h.outlier?.ejected)).to.equal(true);
    await waitUntil(
      'hosts return',
      async () => (await hostsOf('backoff')).every((h) => !h.outlier?.ejected),
      3000,
    );
    await sendMany(4, 1, () => get('backoff'));
    const second = await hostsOf('backoff');
    expect(second.map((h) => h.outlier?.times_ejected)).to.deep.equal([2, 2]);
    const ejectedFor = Date.parse(second[0]?.outlier?.ejected_until ?? '') - Date.now();
    expect(ejectedFor).to.be.within(500, 800);
  });

  it('a detector counts local failures as 5xx unless split, and resets the count on success (pure)', () => {
    let t = 0;
    const config = parseOutlierDetection({
      outlierDetection: { consecutive5xxErrors: 2, interval: '1h', maxEjectionPercent: 100 },
    });
    if (!config) throw new Error('expected a config');
    const d = new OutlierDetector(config, () => t);
    try {
      d.syncHosts(['a:1', 'b:1']);
      d.report('a:1', { kind: 'local-failure' });
      d.report('a:1', { kind: 'status', status: 200 });
      d.report('a:1', { kind: 'status', status: 500 });
      expect(d.isEjected('a:1')).to.equal(false);
      d.report('a:1', { kind: 'local-failure' });
      expect(d.isEjected('a:1')).to.equal(true);
      t += 29_999;
      d.sweep();
      expect(d.isEjected('a:1')).to.equal(true);
      t += 1;
      d.sweep();
      expect(d.isEjected('a:1')).to.equal(false);
    } finally {
      d.stop();
    }
  });
  it('a changed traffic policy is a new Envoy cluster: its ejections end at that push; EDS changes keep them (pure)', () => {
    const events: string[] = [];
    const detectors = new OutlierDetectors((_cluster, event, active) => events.push(`${event}:${active}`));
    const eager = {
      consecutive5xxErrors: 1,
      interval: '1h',
      baseEjectionTime: '3m',
      maxEjectionPercent: 100,
    };
    const at = (trafficPolicy: Record<string, unknown>, ports: number[]) => [
      { name: 'c', trafficPolicy, endpoints: ports.map((port) => ({ address: '10.0.0.1', port })) },
    ];
    try {
      detectors.sync(at({ outlierDetection: eager }, [1, 2]));
      const first = detectors.get('c');
      first?.report('10.0.0.1:1', { kind: 'status', status: 503 });
      first?.report('10.0.0.1:2', { kind: 'status', status: 503 });
      expect(first?.ejectionsActive()).to.equal(2);
      // The same cluster pushed again, then an endpoint added (EDS): same detector, both still ejected.
      detectors.sync(at({ outlierDetection: eager }, [1, 2]));
      detectors.sync(at({ outlierDetection: { ...eager } }, [1, 2, 3]));
      expect(detectors.get('c')).to.equal(first);
      expect([first?.isEjected('10.0.0.1:1'), first?.isEjected('10.0.0.1:3')]).to.deep.equal([true, false]);
      // Another field of the policy (connection pool) changes the cluster: Envoy builds a new one, no ejection.
      detectors.sync(
        at({ outlierDetection: eager, connectionPool: { tcp: { maxConnections: 10 } } }, [1, 2, 3]),
      );
      const second = detectors.get('c');
      expect(second).to.not.equal(first);
      expect(second?.ejectionsActive()).to.equal(0);
      second?.report('10.0.0.1:1', { kind: 'status', status: 503 });
      // The seed's relaxed policy: a new cluster again, and one 5xx no longer ejects.
      const relaxed = { consecutive5xxErrors: 50, interval: '30s', baseEjectionTime: '30s' };
      detectors.sync(at({ outlierDetection: relaxed }, [1, 2, 3]));
      const third = detectors.get('c');
      third?.report('10.0.0.1:2', { kind: 'status', status: 503 });
      expect([third === second, third?.ejectionsActive()]).to.deep.equal([false, 0]);
      expect(events.filter((e) => e.startsWith('reset'))).to.have.length(3);
    } finally {
      detectors.stop();
    }
  });
});
