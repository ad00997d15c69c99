// The embedded local target: store, API server, controllers, kubelet, network and a real Prometheus on
// 127.0.0.1, provisioned in about a second and torn down with proof that every process it started is gone.

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { killOnProcessExit } from './exit-kills.js';
import { MeshdrillError } from '../../harness/model/errors.js';
import type { ProvisionOptions, Target, TargetEnvironment } from '../target.js';
import { type ApiServer, startApiServer, writeKubeconfig } from './apiserver/index.js';
import { KUBERNETES_VERSION } from './apiserver/server.js';
import { type ControllerManager, RESOURCES, startControllers } from './controllers/index.js';
import { KUBELET_VERSION, type Kubelet, startKubelet } from './kubelet/index.js';
import { isAlive, signalTree } from './kubelet/process-group.js';
import { type Network, startNetwork } from './network/index.js';
import type { PodRuntime } from './pod-runtime.js';
import {
  createBundler,
  createDefaultImageRegistry,
  type ImageRegistry,
  type ProgramBundler,
} from './programs/index.js';
import { installChaosMesh } from './chaos/index.js';
import { installIstioctl } from './istioctl/index.js';
import { createLocalMesh } from './mesh/index.js';
import { ALERTMANAGER_ROUTING_DELAY_MS } from '../shared/alertmanager/config.js';
import {
  type AlertmanagerInstance,
  startAlertmanager,
  startNotificationReceiver,
} from './alertmanager/index.js';
import { type PrometheusInstance, startPrometheus } from './prometheus/index.js';
import { upstreamCrdCatalog } from '../shared/crd/index.js';
import { readLocalSettings } from './local-settings.js';
import { createMemoryStore, type MemoryStore, storeCustomResourceDefinitions } from './store/index.js';

export const INGRESS_NAMESPACE = 'istio-system';
export const INGRESS_SERVICE = 'istio-ingressgateway';
/** The gateway's Service as pods reach it (port 80 → 8080, `http2`): where in-cluster load goes. */
export const LOCAL_INGRESS_SERVICE_URL = `http://${INGRESS_SERVICE}.${INGRESS_NAMESPACE}.svc.cluster.local`;

/** The longest one teardown step (kubelet, network, API server, Prometheus…) may take before the next runs. */
const TEARDOWN_STEP_MS = 15_000;

/** The running pieces, for in-process extensions (the Istio emulation registers images and hooks here). */
export interface LocalCluster {
  store: MemoryStore;
  images: ImageRegistry;
  bundler: ProgramBundler;
  controllers: ControllerManager;
  kubelet: Kubelet;
  network: Network;
  apiServer: ApiServer;
  prometheus: PrometheusInstance;
  alertmanager: AlertmanagerInstance;
  workDir: string;
}

export interface LocalTargetOptions {
  /**
   * Target settings (`--target-opt key=value`), overridden by those given to provision: `backoff-scale`
   * (CrashLoopBackOff time factor), `api-port` (fixed API server port), `kubeconfig` (where to write it).
   */
  settings?: Record<string, string>;
  /** Multiplies CrashLoopBackOff/image-pull back-off (settings `backoff-scale`). Default 1. */
  backoffScale?: number;
  /** Runs after the store and image registry exist and before any pod starts (register images, hooks). */
  configure?: (
    cluster: Pick<LocalCluster, 'store' | 'images' | 'bundler' | 'workDir'>,
  ) => void | Promise<void>;
  prometheusBinary?: string;
  /**
   * Ignore the `api-port` and `kubeconfig` settings: a sibling cluster (Target.sibling) runs beside the first,
   * which already holds that port and file.
   */
  ignoreFixedEndpoints?: boolean;
}

const FIXED_ENDPOINT_SETTINGS = ['api-port', 'kubeconfig'];

export interface TeardownReport {
  /** Every PID the target had started, each checked with kill(pid, 0) after stopping. */
  pids: number[];
  survivors: number[];
}

export interface LocalTarget extends Target {
  readonly cluster: LocalCluster | undefined;
  /** PIDs of every live process the target started (containers, exec sessions, Prometheus). */
  pids(): number[];
  readonly lastTeardown: TeardownReport | undefined;
}

function freeHostPort(from: number, to: number): Promise<number> {
  const tryPort = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  return (async () => {
    for (let i = 0; i < 50; i++) {
      const port = from + Math.floor(Math.random() * (to - from));
      if (await tryPort(port)) return port;
    }
    throw new MeshdrillError(
      'environment',
      `no free host port between ${from} and ${to} for the ingress gateway`,
    );
  })();
}

export function createLocalTarget(options: LocalTargetOptions = {}): LocalTarget {
  let cluster: LocalCluster | undefined;
  let lastTeardown: TeardownReport | undefined;
  const started: (() => Promise<void>)[] = [];
  let forgetExitKill: (() => void) | undefined;
  let knownPids = new Set<number>();

  const livePids = (): number[] => {
    if (!cluster) return [];
    const pids = [...cluster.kubelet.pids(), cluster.prometheus.pid, cluster.alertmanager.pid];
    for (const p of pids) knownPids.add(p);
    return pids;
  };

  const bounded = (work: Promise<unknown>, ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      work
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(timer);
          resolve();
        });
    });

  const teardown = async (): Promise<void> => {
    const steps = started.splice(0).reverse();
    if (steps.length === 0 && !cluster) return;
    livePids();
    // Each step is bounded: a teardown always reaches the SIGKILL of what is left below.
    for (const step of steps) await bounded(step(), TEARDOWN_STEP_MS);
    const pids = [...knownPids];
    let survivors = pids.filter(isAlive);
    for (const pid of survivors) signalTree(pid, 'SIGKILL');
    if (survivors.length > 0) {
      const deadline = Date.now() + 2000;
      while (Date.now() < deadline && survivors.some(isAlive)) await new Promise((r) => setTimeout(r, 20));
      survivors = survivors.filter(isAlive);
    }
    lastTeardown = { pids, survivors };
    forgetExitKill?.();
    forgetExitKill = undefined;
    cluster = undefined;
    knownPids = new Set();
    if (survivors.length > 0) {
      throw new MeshdrillError(
        'cleanup',
        `local target teardown left processes running: ${survivors.join(', ')}`,
        {
          hint: `kill them with: kill -9 ${survivors.join(' ')}`,
        },
      );
    }
  };

  const provision = async (provisionOptions: ProvisionOptions): Promise<TargetEnvironment> => {
    if (cluster)
      throw new MeshdrillError('internal', 'the local target is already provisioned; tear it down first');
    const progress = provisionOptions.onProgress ?? (() => undefined);
    const given = { ...(options.settings ?? {}), ...provisionOptions.settings };
    if (options.ignoreFixedEndpoints) for (const key of FIXED_ENDPOINT_SETTINGS) delete given[key];
    const settings = readLocalSettings(given, options.backoffScale);
    const timings: Record<string, number> = {};
    const t0 = performance.now();
    // An interrupt (SIGINT during `cluster up`) ends provisioning between steps, and during Istio's install,
    // the one step that waits long (for istiod); the teardown below stops whatever had started.
    const signal = provisionOptions.signal;
    const time = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
      if (signal?.aborted) throw interruptedProvisioning();
      const s = performance.now();
      const out = await fn();
      timings[name] = Math.round(performance.now() - s);
      return out;
    };
    const workDir = join(provisionOptions.workDir, 'local');
    mkdirSync(workDir, { recursive: true });
    const { backoffScale } = settings;
    try {
      // Custom resources are checked against the real CRDs' schemas, as a real API server checks them.
      const store = await time('store', () =>
        createMemoryStore({ gracefulPodDeletion: true, customResourceSchemas: upstreamCrdCatalog() }),
      );
      await storeCustomResourceDefinitions(store, upstreamCrdCatalog());
      const images = createDefaultImageRegistry();
      const bundler = createBundler(join(workDir, 'bin'));
      // Istio is installed unless `--target-opt mesh=false` asks for a bare cluster (as on a new kind cluster).
      const mesh = settings.mesh ? createLocalMesh({ readinessPeriodSeconds: 1 }) : undefined;
      mesh?.configure({ store, images });
      // Chaos Mesh's controller and webhooks (the kind target installs the real one with Helm).
      const chaos = installChaosMesh({ store, images, workDir });
      started.push(() => chaos.stop());
      await options.configure?.({ store, images, bundler, workDir });
      const ingressPort = await freeHostPort(30000, 32767);
      const network = await time('network', () =>
        startNetwork({
          store,
          dnsFile: join(workDir, 'cluster-dns.json'),
          reservedNodePorts: [
            {
              namespace: INGRESS_NAMESPACE,
              name: INGRESS_SERVICE,
              portNames: ['http2', 'http'],
              nodePort: ingressPort,
            },
          ],
        }),
      );
      started.push(() => network.stop());

      // The API server and kubelet need each other: the server answers logs/exec from the kubelet, and the
      // kubelet tells containers where the server is. A forwarding runtime breaks the cycle.
      let kubelet: Kubelet | undefined;
      const runtime: PodRuntime = {
        readLog: (...a) => (kubelet as Kubelet).readLog(...a),
        followLog: (...a) => (kubelet as Kubelet).followLog(...a),
        exec: (...a) => (kubelet as Kubelet).exec(...a),
        podMetrics: () => kubelet?.podMetrics() ?? [],
      };
      const token = randomBytes(24).toString('base64url');
      progress('starting the API server');
      const apiServer = await time('apiserver', () =>
        startApiServer({ store, runtime, token, port: settings.apiPort }),
      );
      started.push(() => apiServer.close());
      const apiUrl = new URL(apiServer.url);
      const kubeconfigPath = settings.kubeconfig ?? join(workDir, 'kubeconfig');
      await writeKubeconfig(kubeconfigPath, { url: apiServer.url, token });
      const apiReadyMs = Math.round(performance.now() - t0);

      const controllers = await time('controllers', () =>
        // The k6-operator's controller reads its initializer's output (`k6 inspect`) from the pod log.
        startControllers({ store, podLogs: (ns, pod, container) => runtime.readLog(ns, pod, { container }) }),
      );
      started.push(async () => controllers.stop());
      await time('bundle', () => Promise.all(images.bundleEntries().map((e) => bundler.ensure(e))));
      kubelet = await time('kubelet', () =>
        startKubelet({
          store,
          images,
          bundler,
          workDir,
          clusterDnsFile: join(workDir, 'cluster-dns.json'),
          backoffScale,
          apiServer: { host: apiUrl.hostname, port: Number(apiUrl.port) },
        }),
      );
      const startedKubelet = kubelet;
      started.push(() => startedKubelet.stop());
      await time('kubernetes-service', () => createKubernetesService(store, Number(apiUrl.port)));

      progress('starting Alertmanager and Prometheus');
      const receiver = await startNotificationReceiver();
      started.push(() => receiver.stop());
      const alertmanager = await time('alertmanager', () =>
        startAlertmanager({ workDir, webhookBaseUrl: receiver.url }),
      );
      started.push(() => alertmanager.stop());
      const prometheus = await time('prometheus', () =>
        startPrometheus({
          store,
          workDir,
          ruleFiles: provisionOptions.ruleFiles,
          alertmanagerAddress: alertmanager.address,
          ...(options.prometheusBinary ? { binary: options.prometheusBinary } : {}),
        }),
      );
      started.push(() => prometheus.stop());
      const meshVersions = mesh
        ? await time('istio', () => {
            progress('installing Istio (istiod, ingress gateway)');
            return mesh.install(store, kubeconfigPath, signal ? { signal } : {});
          })
        : {};
      // Runbook steps find the target's istioctl first on PATH (binDirs), like a real istioctl for that mesh.
      const istioctl = mesh ? await time('istioctl', () => installIstioctl({ bundler, workDir })) : undefined;
      cluster = {
        store,
        images,
        bundler,
        controllers,
        kubelet,
        network,
        apiServer,
        prometheus,
        alertmanager,
        workDir,
      };
      // Last line of defence: if this process exits without a teardown, no container outlives it.
      forgetExitKill = killOnProcessExit(() => {
        for (const pid of knownPids) if (isAlive(pid)) signalTree(pid, 'SIGKILL');
      });
      const tracker = setInterval(livePids, 500);
      tracker.unref();
      started.unshift(async () => clearInterval(tracker));
      timings.apiReady = apiReadyMs;
      timings.total = Math.round(performance.now() - t0);
      return {
        kubeconfigPath,
        prometheusUrl: prometheus.url,
        // The ingress gateway's http2 port is promised this host port (as kind's extraPortMappings);
        // the Istio install creates istio-system/istio-ingressgateway and it answers from then on.
        ingressUrl: `http://127.0.0.1:${ingressPort}`,
        versions: {
          kubernetes: KUBERNETES_VERSION,
          target: 'local',
          kubelet: `meshdrill-local ${KUBELET_VERSION}`,
          prometheus: prometheus.version,
          alertmanager: alertmanager.version,
          node: process.version,
          ...meshVersions,
        },
        timings,
        binDirs: istioctl ? [istioctl.binDir] : [],
        prometheus: {
          scrapeIntervalMs: prometheus.scrapeIntervalMs,
          evaluationIntervalMs: prometheus.evaluationIntervalMs,
        },
        alertmanager: {
          url: alertmanager.url,
          receiverUrl: receiver.url,
          routingDelayMs: ALERTMANAGER_ROUTING_DELAY_MS,
        },
        ...(settings.k6.mode === 'in-cluster'
          ? {
              inClusterLoad: { baseUrl: LOCAL_INGRESS_SERVICE_URL, runners: settings.k6.runners },
            }
          : {}),
        faultsAllowed: true,
      };
    } catch (error) {
      await teardown().catch(() => undefined);
      throw error;
    }
  };

  return {
    name: 'local',
    livesWithProcess: true,
    get cluster() {
      return cluster;
    },
    get lastTeardown() {
      return lastTeardown;
    },
    pids: livePids,
    // A local cluster boots in seconds, so a drill that needs a whole cluster can have one beside the others.
    sibling: () => createLocalTarget({ ...options, ignoreFixedEndpoints: true }),
    provision,
    teardown,
  };
}

/** default/kubernetes → the API server, as in every cluster (no selector: its Endpoints are set here). */
async function createKubernetesService(store: MemoryStore, apiPort: number): Promise<void> {
  await store.create(RESOURCES.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: { type: 'ClusterIP', ports: [{ name: 'https', port: 443, targetPort: apiPort, protocol: 'TCP' }] },
  });
  await store.create(RESOURCES.endpoints, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
    },
    subsets: [
      { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: apiPort, protocol: 'TCP' }] },
    ],
  });
}

function interruptedProvisioning(): MeshdrillError {
  return new MeshdrillError('interrupted', 'provisioning of the local target was interrupted');
}
