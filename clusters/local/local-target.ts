// The embedded local target: store, API server, controllers, kubelet, network and a real Prometheus on
// 127.0.0.1, provisioned in about a second and torn down with proof that every process it started is gone.

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isAlive, killOnProcessExit, signalTree } from '../../harness/exec/index.js';
import { type AlertmanagerRoutingFile, MeshdrillError } from '../../harness/model/index.js';
import type { ProvisionOptions, ScenarioAlertmanager, Target, TargetEnvironment } from '../target.js';
import { type ApiServer, startApiServer, writeKubeconfig } from './apiserver/index.js';
import { KUBERNETES_VERSION } from './apiserver/server.js';
import { type ControllerManager, RESOURCES, startControllers } from './controllers/index.js';
import { KUBELET_VERSION, type Kubelet, startKubelet } from './kubelet/index.js';
import { type Network, startNetwork } from './network/index.js';
import type { PodRuntime } from './pod-runtime.js';
import {
  createBundler,
  createDefaultImageRegistry,
  type ImageRegistry,
  type ProgramBundler,
} from './programs/index.js';
import { installChaosMesh } from './chaos/index.js';
import { type IstioctlInstall, installIstioctl } from './istioctl/index.js';
import { createLocalMesh, type LocalMesh, meshImageEnv } from './mesh/index.js';
import { ALERTMANAGER_ROUTING_DELAY_MS, readAlertmanagerRouting } from '../shared/index.js';
import {
  type AlertmanagerInstance,
  type NotificationReceiver,
  startAlertmanager,
  startNotificationReceiver,
} from './alertmanager/index.js';
import { type PrometheusInstance, startPrometheus } from './prometheus/index.js';
import { upstreamCrdCatalog } from '../shared/crd/index.js';
import { type LocalSettings, readLocalSettings } from './local-settings.js';
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
  /** The scenarios' own routings' Alertmanagers. */
  routedAlertmanagers: AlertmanagerInstance[];
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
  const state: LocalTargetState = {
    cluster: undefined,
    lastTeardown: undefined,
    started: [],
    forgetExitKill: undefined,
    knownPids: new Set<number>(),
  };
  return {
    name: 'local',
    livesWithProcess: true,
    get cluster() {
      return state.cluster;
    },
    get lastTeardown() {
      return state.lastTeardown;
    },
    pids: () => recordLivePids(state),
    // A local cluster boots in seconds, so a drill that needs a whole cluster can have one beside the others.
    sibling: () => createLocalTarget({ ...options, ignoreFixedEndpoints: true }),
    provision: (provisionOptions) => provisionLocal(state, options, provisionOptions),
    teardown: () => teardownLocal(state),
  };
}

/** What one local target holds between provision and teardown. */
interface LocalTargetState {
  cluster: LocalCluster | undefined;
  lastTeardown: TeardownReport | undefined;
  /** Stop steps, in start order; teardown runs them in reverse. */
  started: (() => Promise<void>)[];
  forgetExitKill: (() => void) | undefined;
  /** Every PID seen so far: a process that exits before teardown still gets checked. */
  knownPids: Set<number>;
}

function recordLivePids(state: LocalTargetState): number[] {
  const { cluster } = state;
  if (!cluster) return [];
  const pids = [
    ...cluster.kubelet.pids(),
    cluster.prometheus.pid,
    cluster.alertmanager.pid,
    ...cluster.routedAlertmanagers.map((a) => a.pid),
  ];
  for (const p of pids) state.knownPids.add(p);
  return pids;
}

function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    work
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        resolve();
      });
  });
}

async function teardownLocal(state: LocalTargetState): Promise<void> {
  const steps = state.started.splice(0).reverse();
  if (steps.length === 0 && !state.cluster) return;
  recordLivePids(state);
  // Each step is bounded: a teardown always reaches the SIGKILL of what is left below.
  for (const step of steps) await bounded(step(), TEARDOWN_STEP_MS);
  const pids = [...state.knownPids];
  const survivors = await killSurvivors(pids);
  state.lastTeardown = { pids, survivors };
  state.forgetExitKill?.();
  state.forgetExitKill = undefined;
  state.cluster = undefined;
  state.knownPids = new Set();
  if (survivors.length > 0) {
    throw new MeshdrillError(
      'cleanup',
      `local target teardown left processes running: ${survivors.join(', ')}`,
      {
        hint: `kill them with: kill -9 ${survivors.join(' ')}`,
      },
    );
  }
}

/** SIGKILLs whatever of `pids` still lives and waits (bounded) for it to go; resolves with those that did not. */
async function killSurvivors(pids: number[]): Promise<number[]> {
  let survivors = pids.filter(isAlive);
  for (const pid of survivors) signalTree(pid, 'SIGKILL');
  if (survivors.length > 0) {
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && survivors.some(isAlive)) await new Promise((r) => setTimeout(r, 20));
    survivors = survivors.filter(isAlive);
  }
  return survivors;
}

/** One provisioning in progress: what every step needs, and where it registers what it started. */
interface ProvisionRun {
  options: LocalTargetOptions;
  provisionOptions: ProvisionOptions;
  settings: LocalSettings;
  workDir: string;
  progress: (message: string) => void;
  signal: AbortSignal | undefined;
  timings: Record<string, number>;
  t0: number;
  /** Registers a stop step for teardown. */
  started: (() => Promise<void>)[];
}

async function provisionLocal(
  state: LocalTargetState,
  options: LocalTargetOptions,
  provisionOptions: ProvisionOptions,
): Promise<TargetEnvironment> {
  if (state.cluster)
    throw new MeshdrillError('internal', 'the local target is already provisioned; tear it down first');
  const run = beginProvisioning(state, options, provisionOptions);
  try {
    const storage = await startStorage(run);
    const { network, ingressPort } = await startClusterNetwork(run, storage.store);
    const controlPlane = await startControlPlane(run, storage.store);
    const kubelet = await startNode(run, storage, controlPlane);
    const monitoring = await startMonitoring(run, storage.store);
    const meshInstall = await installMesh(run, storage, controlPlane.kubeconfigPath);
    state.cluster = {
      store: storage.store,
      images: storage.images,
      bundler: storage.bundler,
      controllers: controlPlane.controllers,
      kubelet,
      network,
      apiServer: controlPlane.apiServer,
      prometheus: monitoring.prometheus,
      alertmanager: monitoring.alertmanager,
      routedAlertmanagers: [...monitoring.routed.values()].map((r) => r.instance),
      workDir: run.workDir,
    };
    trackProcesses(state);
    run.timings.apiReady = controlPlane.apiReadyMs;
    run.timings.total = Math.round(performance.now() - run.t0);
    return describeEnvironment(run, {
      kubeconfigPath: controlPlane.kubeconfigPath,
      ingressPort,
      monitoring,
      meshInstall,
    });
  } catch (error) {
    await teardownLocal(state).catch(() => undefined);
    throw error;
  }
}

function beginProvisioning(
  state: LocalTargetState,
  options: LocalTargetOptions,
  provisionOptions: ProvisionOptions,
): ProvisionRun {
  const given = { ...(options.settings ?? {}), ...provisionOptions.settings };
  if (options.ignoreFixedEndpoints) for (const key of FIXED_ENDPOINT_SETTINGS) delete given[key];
  const workDir = join(provisionOptions.workDir, 'local');
  mkdirSync(workDir, { recursive: true });
  return {
    options,
    provisionOptions,
    settings: readLocalSettings(given, options.backoffScale, provisionOptions.istioVersion),
    workDir,
    progress: provisionOptions.onProgress ?? (() => undefined),
    // An interrupt (SIGINT during `cluster up`) ends provisioning between steps, and during Istio's install,
    // the one step that waits long (for istiod); the teardown stops whatever had started.
    signal: provisionOptions.signal,
    timings: {},
    t0: performance.now(),
    started: state.started,
  };
}

/** Runs one provisioning step, recording how long it took, unless provisioning was interrupted. */
async function timeStep<T>(run: ProvisionRun, name: string, fn: () => Promise<T> | T): Promise<T> {
  if (run.signal?.aborted) throw interruptedProvisioning();
  const s = performance.now();
  const out = await fn();
  run.timings[name] = Math.round(performance.now() - s);
  return out;
}

interface Storage {
  store: MemoryStore;
  images: ImageRegistry;
  bundler: ProgramBundler;
  mesh: LocalMesh | undefined;
}

/** The store with its CRDs, the image registry and the in-process extensions that register with them. */
async function startStorage(run: ProvisionRun): Promise<Storage> {
  const { workDir } = run;
  // Custom resources are checked against the real CRDs' schemas, as a real API server checks them.
  const store = await timeStep(run, 'store', () =>
    createMemoryStore({ gracefulPodDeletion: true, customResourceSchemas: upstreamCrdCatalog() }),
  );
  await storeCustomResourceDefinitions(store, upstreamCrdCatalog());
  const images = createDefaultImageRegistry();
  const bundler = createBundler(join(workDir, 'bin'));
  // Istio is installed unless `--target-opt mesh=false` asks for a bare cluster (as on a new kind cluster).
  const mesh = run.settings.mesh
    ? createLocalMesh({
        readinessPeriodSeconds: 1,
        version: run.settings.istioVersion,
        ...(run.settings.revision ? { revision: run.settings.revision } : {}),
      })
    : undefined;
  mesh?.configure({ store, images });
  // Chaos Mesh's controller and webhooks (the kind target installs the real one with Helm).
  const chaos = installChaosMesh({ store, images, workDir });
  run.started.push(() => chaos.stop());
  await run.options.configure?.({ store, images, bundler, workDir });
  return { store, images, bundler, mesh };
}

async function startClusterNetwork(
  run: ProvisionRun,
  store: MemoryStore,
): Promise<{ network: Network; ingressPort: number }> {
  const ingressPort = await freeHostPort(30000, 32767);
  const network = await timeStep(run, 'network', () =>
    startNetwork({
      store,
      dnsFile: join(run.workDir, 'cluster-dns.json'),
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
  run.started.push(() => network.stop());
  return { network, ingressPort };
}

interface ControlPlane {
  apiServer: ApiServer;
  apiUrl: URL;
  kubeconfigPath: string;
  apiReadyMs: number;
  controllers: ControllerManager;
  /** Hands the API server the kubelet it forwards logs/exec to, once that has started. */
  attachKubelet: (kubelet: Kubelet) => void;
}

/** The API server (and its kubeconfig) and the controllers. */
async function startControlPlane(run: ProvisionRun, store: MemoryStore): Promise<ControlPlane> {
  const { runtime, attachKubelet } = createForwardingRuntime();
  const token = randomBytes(24).toString('base64url');
  run.progress('starting the API server');
  const apiServer = await timeStep(run, 'apiserver', () =>
    startApiServer({ store, runtime, token, port: run.settings.apiPort }),
  );
  run.started.push(() => apiServer.close());
  const apiUrl = new URL(apiServer.url);
  const kubeconfigPath = run.settings.kubeconfig ?? join(run.workDir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, { url: apiServer.url, token });
  const apiReadyMs = Math.round(performance.now() - run.t0);

  const controllers = await timeStep(run, 'controllers', () =>
    // The k6-operator's controller reads its initializer's output (`k6 inspect`) from the pod log.
    startControllers({ store, podLogs: (ns, pod, container) => runtime.readLog(ns, pod, { container }) }),
  );
  run.started.push(async () => controllers.stop());
  return { apiServer, apiUrl, kubeconfigPath, apiReadyMs, controllers, attachKubelet };
}

/**
 * The API server and kubelet need each other: the server answers logs/exec from the kubelet, and the kubelet
 * tells containers where the server is. A forwarding runtime breaks the cycle.
 */
function createForwardingRuntime(): { runtime: PodRuntime; attachKubelet: (kubelet: Kubelet) => void } {
  let kubelet: Kubelet | undefined;
  const runtime: PodRuntime = {
    readLog: (...a) => (kubelet as Kubelet).readLog(...a),
    followLog: (...a) => (kubelet as Kubelet).followLog(...a),
    exec: (...a) => (kubelet as Kubelet).exec(...a),
    podMetrics: () => kubelet?.podMetrics() ?? [],
  };
  return {
    runtime,
    attachKubelet: (started) => {
      kubelet = started;
    },
  };
}

/** The programs' bundles, the kubelet, and default/kubernetes pointing at the API server. */
async function startNode(run: ProvisionRun, storage: Storage, controlPlane: ControlPlane): Promise<Kubelet> {
  const { store, images, bundler } = storage;
  const { workDir } = run;
  await timeStep(run, 'bundle', () => Promise.all(images.bundleEntries().map((e) => bundler.ensure(e))));
  const kubelet = await timeStep(run, 'kubelet', () =>
    startKubelet({
      store,
      images,
      bundler,
      workDir,
      clusterDnsFile: join(workDir, 'cluster-dns.json'),
      backoffScale: run.settings.backoffScale,
      apiServer: { host: controlPlane.apiUrl.hostname, port: Number(controlPlane.apiUrl.port) },
      // Istio's programs learn their version from the image they run (mesh/install.ts).
      ...(storage.mesh ? { extraEnv: meshImageEnv } : {}),
    }),
  );
  controlPlane.attachKubelet(kubelet);
  run.started.push(() => kubelet.stop());
  await timeStep(run, 'kubernetes-service', () =>
    createKubernetesService(store, Number(controlPlane.apiUrl.port)),
  );
  return kubelet;
}

interface Monitoring {
  receiver: NotificationReceiver;
  alertmanager: AlertmanagerInstance;
  /** One Alertmanager per scenario routing the drills ship, by routing id. */
  routed: Map<string, { instance: AlertmanagerInstance; routing: AlertmanagerRoutingFile }>;
  prometheus: PrometheusInstance;
}

async function startMonitoring(run: ProvisionRun, store: MemoryStore): Promise<Monitoring> {
  const { workDir, options } = run;
  run.progress('starting Alertmanager and Prometheus');
  const receiver = await startNotificationReceiver();
  run.started.push(() => receiver.stop());
  const alertmanager = await timeStep(run, 'alertmanager', () =>
    startAlertmanager({ workDir, webhookBaseUrl: receiver.url }),
  );
  run.started.push(() => alertmanager.stop());
  const routed = await startRoutedAlertmanagers(run, receiver.url);
  const prometheus = await timeStep(run, 'prometheus', () =>
    startPrometheus({
      store,
      workDir,
      ruleFiles: run.provisionOptions.ruleFiles,
      alertmanagerAddresses: [alertmanager.address, ...[...routed.values()].map((r) => r.instance.address)],
      ...(options.prometheusBinary ? { binary: options.prometheusBinary } : {}),
    }),
  );
  run.started.push(() => prometheus.stop());
  return { receiver, alertmanager, routed, prometheus };
}

/** The scenarios' own routings, one Alertmanager each beside the target's, all delivering to the one receiver. */
async function startRoutedAlertmanagers(
  run: ProvisionRun,
  webhookBaseUrl: string,
): Promise<Monitoring['routed']> {
  const routed: Monitoring['routed'] = new Map();
  for (const routing of run.provisionOptions.routings ?? []) {
    if (routed.has(routing.id)) continue;
    const instance = await timeStep(run, `alertmanager-${routing.id}`, () =>
      startAlertmanager({ workDir: run.workDir, webhookBaseUrl, routing }),
    );
    run.started.push(() => instance.stop());
    routed.set(routing.id, { instance, routing });
  }
  return routed;
}

interface MeshInstall {
  versions: Record<string, string>;
  istioctl: IstioctlInstall | undefined;
}

async function installMesh(
  run: ProvisionRun,
  storage: Storage,
  kubeconfigPath: string,
): Promise<MeshInstall> {
  const { mesh, store, bundler } = storage;
  if (!mesh) return { versions: {}, istioctl: undefined };
  const { signal } = run;
  const versions = await timeStep(run, 'istio', () => {
    const rev = run.settings.revision;
    run.progress(
      `installing Istio (${rev ? `istiod-${rev}, the default tag on it` : 'istiod'}, ingress gateway)`,
    );
    return mesh.install(store, kubeconfigPath, signal ? { signal } : {});
  });
  // Runbook steps find the target's istioctl first on PATH (binDirs), like a real istioctl for that mesh.
  const istioctl = await timeStep(run, 'istioctl', () =>
    installIstioctl({ bundler, workDir: run.workDir, version: run.settings.istioVersion }),
  );
  return { versions, istioctl };
}

/** Keeps `knownPids` current while the cluster runs, and kills those processes if this one exits first. */
function trackProcesses(state: LocalTargetState): void {
  // Last line of defence: if this process exits without a teardown, no container outlives it.
  state.forgetExitKill = killOnProcessExit(() => {
    for (const pid of state.knownPids) if (isAlive(pid)) signalTree(pid, 'SIGKILL');
  });
  const tracker = setInterval(() => recordLivePids(state), 500);
  tracker.unref();
  state.started.unshift(async () => clearInterval(tracker));
}

/** Each scenario routing's Alertmanager, with the delays and silent receivers its configuration gives. */
function describeRouted(routed: Monitoring['routed']): Record<string, ScenarioAlertmanager> {
  return Object.fromEntries(
    [...routed].map(([id, { instance, routing }]) => {
      const { routingDelayMs, silentReceivers } = readAlertmanagerRouting(routing.yaml);
      return [id, { url: instance.url, routingDelayMs, silentReceivers }];
    }),
  );
}

function describeEnvironment(
  run: ProvisionRun,
  parts: { kubeconfigPath: string; ingressPort: number; monitoring: Monitoring; meshInstall: MeshInstall },
): TargetEnvironment {
  const { settings } = run;
  const { prometheus, alertmanager, receiver } = parts.monitoring;
  const { istioctl } = parts.meshInstall;
  return {
    kubeconfigPath: parts.kubeconfigPath,
    prometheusUrl: prometheus.url,
    // The ingress gateway's http2 port is promised this host port (as kind's extraPortMappings);
    // the Istio install creates istio-system/istio-ingressgateway and it answers from then on.
    ingressUrl: `http://127.0.0.1:${parts.ingressPort}`,
    versions: {
      kubernetes: KUBERNETES_VERSION,
      target: 'local',
      kubelet: `meshdrill-local ${KUBELET_VERSION}`,
      prometheus: prometheus.version,
      alertmanager: alertmanager.version,
      node: process.version,
      ...parts.meshInstall.versions,
    },
    timings: run.timings,
    binDirs: istioctl ? [istioctl.binDir] : [],
    prometheus: {
      scrapeIntervalMs: prometheus.scrapeIntervalMs,
      evaluationIntervalMs: prometheus.evaluationIntervalMs,
    },
    alertmanager: {
      url: alertmanager.url,
      receiverUrl: receiver.url,
      routingDelayMs: ALERTMANAGER_ROUTING_DELAY_MS,
      routings: describeRouted(parts.monitoring.routed),
    },
    ...(settings.k6.mode === 'in-cluster'
      ? {
          inClusterLoad: { baseUrl: LOCAL_INGRESS_SERVICE_URL, runners: settings.k6.runners },
        }
      : {}),
    faultsAllowed: true,
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
