// The `istio/pilot` container program (`pilot-discovery discovery`): watches the local API server with a bearer
// token and serves xDS + CA on :15012 and metrics on :15014 at the pod IP. Connection from the environment:
// MESHDRILL_KUBECONFIG (a kubeconfig file), or KUBERNETES_SERVICE_HOST/PORT with MESHDRILL_KUBE_TOKEN.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parse } from 'yaml';
import { parseDuration } from '../../../../harness/util/duration.js';
import { asArray, asRecord, asString } from '../model/read.js';
import { startIstiod } from './server.js';
import { createApiSource, type KubeConnection } from './sources.js';

function kubeConnection(env: NodeJS.ProcessEnv): KubeConnection {
  const path = env.MESHDRILL_KUBECONFIG ?? env.KUBECONFIG;
  if (path) {
    const doc = asRecord(parse(readFileSync(path, 'utf8')));
    const currentContext = asString(doc['current-context']);
    const context = asRecord(
      asArray(doc.contexts)
        .map(asRecord)
        .find((c) => c.name === currentContext)?.context,
    );
    const cluster = asRecord(
      asArray(doc.clusters)
        .map(asRecord)
        .find((c) => c.name === context.cluster)?.cluster,
    );
    const user = asRecord(
      asArray(doc.users)
        .map(asRecord)
        .find((u) => u.name === context.user)?.user,
    );
    const server = asString(cluster.server);
    const token = asString(user.token);
    if (server && token) return { server, token };
    throw new Error(`kubeconfig ${path} has no server or token for context ${currentContext}`);
  }
  const host = env.KUBERNETES_SERVICE_HOST;
  const token = env.MESHDRILL_KUBE_TOKEN;
  if (host && token) return { server: `https://${host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`, token };
  throw new Error(
    'no API server: set MESHDRILL_KUBECONFIG, or KUBERNETES_SERVICE_HOST with MESHDRILL_KUBE_TOKEN',
  );
}

async function main(): Promise<void> {
  const env = process.env;
  const host = env.POD_IP ?? env.MESHDRILL_POD_IP ?? '127.0.0.1';
  const istiod = await startIstiod({
    source: createApiSource(kubeConnection(env)),
    host,
    port: Number(env.MESHDRILL_XDS_PORT ?? 15012),
    monitoringPort: Number(env.MESHDRILL_MONITORING_PORT ?? 15014),
    debounceMs: parseDuration(env.PILOT_DEBOUNCE_AFTER ?? '100ms') ?? 100,
    // A real pilot-discovery has its version built in; here the image it runs from says it (mesh/install.ts).
    ...(env.MESHDRILL_ISTIO_VERSION ? { version: env.MESHDRILL_ISTIO_VERSION } : {}),
    log: (line) => process.stdout.write(`${new Date().toISOString()}\t${line}`),
  });
  // The readiness probe of the real istiod: GET :8080/ready.
  const ready = http.createServer((req, res) => res.writeHead(req.url === '/ready' ? 200 : 404).end());
  ready.listen(Number(env.MESHDRILL_READY_PORT ?? 8080), host);
  process.stdout.write(
    `${new Date().toISOString()}\tinfo\tistiod ready: xDS/CA ${istiod.url}, monitoring ${istiod.monitoringUrl}\n`,
  );
  const stop = (): void => {
    setTimeout(() => process.exit(0), 2000).unref();
    void istiod.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`error: istiod failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
