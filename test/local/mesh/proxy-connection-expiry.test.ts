// Certificates are checked at the handshake only, as in Envoy (envoyproxy/envoy#17999, istio/istio#7630): a
// pooled mTLS connection opened before the peers' certificates expired keeps serving after they expire, and only
// a new connection fails (503 UF,URX). A DestinationRule `maxConnectionDuration` replaces connections, so expiry
// then reaches traffic. Sidecars are real child processes on loopback.

import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  type CertificateAuthority,
  generateCacerts,
  loadPluggedInAuthority,
} from '../../../clusters/local/mesh/ca/index.js';
import type { MeshSnapshot } from '../../../clusters/local/mesh/config/index.js';
import type { KubeObject } from '../../../harness/model/kube-object.js';
import { istio, pod, service, snapshot } from './fixtures.js';
import { type ProxyChild, startApp, startPodSidecar, viaProxy } from './proxy-harness.js';

const NS = 'expiry';
const CLIENT_IP = '127.42.1.11';
const KEPT_IP = '127.42.1.12';
const RECYCLED_IP = '127.42.1.13';
/**
 * Both servers' certificates (and the client's) expire this long after issuance: long enough that three sidecars
 * start and open their connections first on a busy 2-core machine (6 s was not, beside a demo run).
 */
const CERT_TTL_MS = 10_000;

describe('sidecar connections across certificate expiry (child processes, real mTLS)', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: CertificateAuthority;
  const children: ProxyChild[] = [];
  const apps: http.Server[] = [];

  const clientPod = pod('client-1', NS, CLIENT_IP, { app: 'client', version: 'v1' }, { sa: 'client' });
  const keptPod = pod('kept-1', NS, KEPT_IP, { app: 'kept', version: 'v1' }, { sa: 'kept' });
  const recycledPod = pod(
    'recycled-1',
    NS,
    RECYCLED_IP,
    { app: 'recycled', version: 'v1' },
    { sa: 'recycled' },
  );
  const world: MeshSnapshot = snapshot({
    pods: [clientPod, keptPod, recycledPod],
    services: [service('kept', NS, { app: 'kept' }), service('recycled', NS, { app: 'recycled' })],
    destinationRules: [
      istio('DestinationRule', 'recycled', NS, {
        host: 'recycled',
        trafficPolicy: { connectionPool: { tcp: { maxConnectionDuration: '1s' } } },
      }),
    ],
  });

  const startSidecar = (p: KubeObject, serviceAccount: string): Promise<ProxyChild> =>
    startPodSidecar({ world, pod: p, serviceAccount, certTtlMs: CERT_TTL_MS, authority: ca, dir }).then(
      (child) => {
        children.push(child);
        return child;
      },
    );

  let expiresAt: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshdrill-expiry-'));
    ca = await loadPluggedInAuthority(await generateCacerts({ intermediateValidityMs: 3600_000 }));
    for (const ip of [KEPT_IP, RECYCLED_IP])
      apps.push(await startApp(ip, (_req, res) => res.end(`hello from ${ip}`)));
    expiresAt = Date.now() + CERT_TTL_MS;
    await Promise.all([
      startSidecar(clientPod, 'client'),
      startSidecar(keptPod, 'kept'),
      startSidecar(recycledPod, 'recycled'),
    ]);
  });

  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    for (const a of apps) a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a connection opened before expiry keeps serving after it; a replaced connection fails with 503 UF,URX', async () => {
    // Open one pooled connection to each server while every certificate is valid.
    expect((await viaProxy(CLIENT_IP, `http://kept.${NS}:8080/`)).status).to.equal(200);
    expect((await viaProxy(CLIENT_IP, `http://recycled.${NS}:8080/`)).status).to.equal(200);
    const margin = expiresAt - Date.now();
    expect(margin, 'the connections were opened before the certificates expired').to.be.greaterThan(500);

    // Keep the connection to `kept` busy (never idle) until past expiry, as traffic under load does.
    while (Date.now() < expiresAt + 1_500) {
      expect((await viaProxy(CLIENT_IP, `http://kept.${NS}:8080/`)).status).to.equal(200);
      await new Promise((r) => setTimeout(r, 200));
    }

    const kept = await viaProxy(CLIENT_IP, `http://kept.${NS}:8080/`);
    expect(kept.status, kept.body).to.equal(200);
    const recycled = await viaProxy(CLIENT_IP, `http://recycled.${NS}:8080/`);
    expect(recycled.status, recycled.body).to.equal(503);
    expect(recycled.headers['x-envoy-response-flags']).to.equal('UF,URX');
    expect(recycled.body).to.match(/transport failure reason: TLS_error:.*CERTIFICATE/);
  });
});
