// Per-cluster counters behind proxyStatsMatcher (regexps as RE2 full matches, prefixes, suffixes on Envoy's
// stat names, label cluster_name="outbound|PORT|SUBSET|HOST") and the admin endpoint on :15000:
// /config_dump (config + certificate chain with serials and validity), /certs, /clusters, /stats?format=json.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { istio, pod, service, snapshot } from '../fixtures.js';
import { fetchText } from '../proxy-harness.js';
import { adminJson, flagsOf, Rig, type SidecarHandle, scrape, statsEnv, viaProxy } from './rig.js';

const NS = 'admin';
const PREFIX_IP = '127.48.5.11';
const SUFFIX_IP = '127.48.5.12';
const NONE_IP = '127.48.5.13';
const DEAD_IP = '127.48.5.14';
const cluster = (svc: string, subset = '') => `outbound|8080|${subset}|${svc}.${NS}.svc.cluster.local`;

describe('resilience: stats matcher and the :15000 admin endpoint (child process sidecars)', function () {
  this.timeout(60_000);
  const rig = new Rig(NS);
  let prefixed: SidecarHandle;

  before(async () => {
    const dead = { app: 'dead', version: 'v1' };
    const world = snapshot({
      pods: [
        pod('prefix-1', NS, PREFIX_IP, { app: 'prefix' }, { sa: 'prefix' }),
        pod('suffix-1', NS, SUFFIX_IP, { app: 'suffix' }, { sa: 'suffix' }),
        pod('none-1', NS, NONE_IP, { app: 'none' }, { sa: 'none' }),
        pod('dead-1', NS, DEAD_IP, dead, { sidecar: false }),
      ],
      services: [service('dead', NS, { app: 'dead' }), service('gone', NS, { app: 'dead' })],
      virtualServices: [
        istio('VirtualService', 'dead', NS, {
          hosts: ['dead'],
          http: [{ route: [{ destination: { host: 'dead', subset: 'v1' } }] }],
        }),
      ],
      destinationRules: [
        istio('DestinationRule', 'dead', NS, {
          host: 'dead',
          subsets: [{ name: 'v1', labels: { version: 'v1' } }],
          trafficPolicy: { outlierDetection: { consecutive5xxErrors: 50 } },
        }),
      ],
    });
    [prefixed] = await Promise.all([
      rig.sidecar(world.pods[0] as (typeof world.pods)[0], world, {
        env: statsEnv({ inclusionPrefixes: [`cluster.${cluster('dead', 'v1')}.`] }),
      }),
      rig.sidecar(world.pods[1] as (typeof world.pods)[1], world, {
        env: statsEnv({ inclusionSuffixes: ['upstream_rq_retry'] }),
      }),
      rig.sidecar(world.pods[2] as (typeof world.pods)[2], world),
    ]);
    for (const ip of [PREFIX_IP, SUFFIX_IP, NONE_IP]) {
      const r = await viaProxy(ip, `http://dead.${NS}:8080/`);
      expect(flagsOf(r)).to.equal('UF,URX');
      await viaProxy(ip, `http://gone.${NS}:8080/`);
    }
  });
  after(() => rig.stop());

  it('no proxyStatsMatcher: no per-cluster stats at all (Istio defaults only), on /stats/prometheus and /stats', async () => {
    const text = await scrape(NONE_IP);
    expect(text).to.not.match(/^envoy_cluster_(?!manager_)/m);
    expect(text).to.include('envoy_cluster_manager_active_clusters');
    const json = (await adminJson(NONE_IP, '/stats?format=json')) as { stats: { name: string }[] };
    expect(json.stats.some((s) => s.name.startsWith('cluster.outbound'))).to.equal(false);
    expect(json.stats.some((s) => s.name === 'server.live')).to.equal(true);
  });

  it('inclusionPrefixes "cluster.outbound|8080|v1|dead…." exports every stat of that subset cluster and none of another', async () => {
    const text = await scrape(PREFIX_IP);
    const label = `cluster_name="${cluster('dead', 'v1')}"`;
    expect(text).to.include(`envoy_cluster_upstream_rq_retry{${label}} 2`);
    expect(text).to.include(`envoy_cluster_upstream_cx_connect_fail{${label}} 3`);
    expect(text).to.include(`envoy_cluster_upstream_rq_retry_limit_exceeded{${label}} 1`);
    expect(text).to.include(`envoy_cluster_outlier_detection_ejections_active{${label}} 0`);
    expect(text).to.not.include(cluster('gone'));
    const json = (await adminJson(PREFIX_IP, '/stats?format=json')) as {
      stats: { name: string; value: number }[];
    };
    expect(
      json.stats.find((s) => s.name === `cluster.${cluster('dead', 'v1')}.upstream_rq_retry`)?.value,
    ).to.equal(2);
  });

  it('inclusionSuffixes "upstream_rq_retry" exports exactly that stat, for every cluster', async () => {
    const text = await scrape(SUFFIX_IP);
    const names = new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('envoy_cluster_') && !l.startsWith('envoy_cluster_manager'))
        .map((l) => l.slice(0, l.indexOf('{'))),
    );
    expect([...names]).to.deep.equal(['envoy_cluster_upstream_rq_retry']);
    expect(text).to.include(`envoy_cluster_upstream_rq_retry{cluster_name="${cluster('gone')}"} 2`);
  });

  it('/config_dump: the resident config and the certificate chain with serials and validity (matching the files)', async () => {
    const dump = (await adminJson(PREFIX_IP, '/config_dump')) as {
      config: { version: string; node: { podName: string } };
      certificate: { notAfter: string };
      certificates: {
        cert_chain: {
          serial_number: string;
          valid_from: string;
          expiration_time: string;
          subject_alt_names: { uri?: string }[];
          days_until_expiration: number;
        }[];
        ca_cert: unknown[];
      }[];
      clock: { offsetMs: number };
    };
    expect(dump.config.node.podName).to.equal('prefix-1');
    const leaf = new X509Certificate(readFileSync(join(prefixed.certDir, 'cert-chain.pem')));
    const shown = dump.certificates[0]?.cert_chain[0];
    expect(shown?.serial_number).to.equal(leaf.serialNumber.toLowerCase());
    expect(shown?.expiration_time).to.equal(new Date(leaf.validTo).toISOString());
    expect(shown?.valid_from).to.equal(new Date(leaf.validFrom).toISOString());
    expect(shown?.subject_alt_names).to.deep.include({ uri: `spiffe://cluster.local/ns/${NS}/sa/prefix` });
    expect(shown?.days_until_expiration).to.equal(0);
    expect(dump.certificate.notAfter).to.equal(shown?.expiration_time);
    expect(dump.certificates[0]?.ca_cert).to.have.length(1);
    expect(dump.clock.offsetMs).to.equal(0);
    const certs = (await adminJson(PREFIX_IP, '/certs')) as { certificates: unknown[] };
    expect(certs.certificates).to.deep.equal(dump.certificates);
  });

  it('/clusters: Envoy text lines with health flags and circuit-breaker thresholds; ?format=json with host statuses', async () => {
    const text = await fetchText(`http://${PREFIX_IP}:15000/clusters`);
    expect(text).to.include(`${cluster('dead', 'v1')}::${DEAD_IP}:8080::health_flags::healthy`);
    expect(text).to.include(`${cluster('dead', 'v1')}::default_priority::max_retries::4294967295`);
    const json = (await adminJson(PREFIX_IP, '/clusters?format=json')) as {
      cluster_statuses: {
        name: string;
        outlier_detection?: { consecutive_5xx: number };
        host_statuses: { outlier?: { ejected: boolean } }[];
      }[];
    };
    const dead = json.cluster_statuses.find((c) => c.name === cluster('dead', 'v1'));
    expect(dead?.outlier_detection?.consecutive_5xx).to.equal(50);
    expect(dead?.host_statuses[0]?.outlier?.ejected).to.equal(false);
  });
});
