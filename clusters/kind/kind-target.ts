// The kind target: checks prerequisites, creates or reuses a named kind cluster from a generated config, then
// installs Istio (by version), Prometheus with meshdrill's rules, Chaos Mesh and the workload images; timed.
// Every kubeconfig lives in the work dir: the user's ~/.kube/config and current context are never touched.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeClient } from '../../harness/kube/index.js';
import { MeshdrillError } from '../../harness/model/index.js';
import type { ProvisionOptions, Target, TargetEnvironment } from '../target.js';
import { type Host, cacheDirOf, resolveHost } from '../shared/index.js';
import { preloadImages } from '../shared/index.js';
import { checkReusableCluster } from './reuse-check.js';
import { ingressGatewayServiceUrl } from '../shared/index.js';
import { findCachedIstioctl } from '../shared/index.js';
import type { PortForward } from '../shared/index.js';
import { type Requirement, checkPrerequisites } from '../shared/index.js';
import { waitForNodesReady } from '../shared/index.js';
import { type StackPart, type StackResult, installStack } from '../shared/index.js';
import { type Timings, timeStep } from '../shared/index.js';
import { type ToolRunner, createToolRunner } from '../shared/index.js';
import {
  ALERTMANAGER_ROUTING_DELAY_MS,
  type NotificationReceiver,
  startNotificationReceiver,
} from '../shared/index.js';
import { buildNetworkInspectArgs, kindNetworkOf, parseNetworkGateway } from './kind-network.js';
import { buildKindConfig, buildKindCreateArgs, parseKindClusters, parseKindVersion } from './kind-config.js';
import { type KindSettings, readKindSettings } from './kind-settings.js';

export interface KindTargetOptions {
  /** The machine: env (PATH), HOME, platform, kube client factory. Defaults to this process's. */
  host?: Partial<Host>;
}

/** What the kind target needs on the host for these settings (pure). */
export async function buildKindRequirements(
  settings: KindSettings,
  cacheDir: string,
): Promise<Requirement[]> {
  const { stack } = settings;
  const requirements: Requirement[] = [
    {
      id: 'runtime',
      anyOf: settings.runtime ? [settings.runtime] : ['docker', 'podman'],
      purpose: 'a running container engine for the kind nodes',
      probe: ['info'],
    },
    { anyOf: ['kind'], purpose: 'creates and deletes the cluster' },
    { anyOf: ['kubectl'], purpose: 'port-forward to Prometheus, and runbook steps' },
  ];
  const helmFor = [
    stack.istio.installer === 'helm' ? 'Istio' : '',
    stack.chaosMesh.enabled ? 'Chaos Mesh' : '',
    stack.k6Operator.enabled ? 'k6-operator' : '',
  ].filter(Boolean);
  if (helmFor.length > 0) requirements.push({ anyOf: ['helm'], purpose: `installs ${helmFor.join(', ')}` });
  const missing: string[] = [];
  for (const version of [
    ...(stack.istio.installer === 'istioctl' ? [stack.istio.config.version] : []),
    ...(stack.istio.istioctlVersions ?? []),
  ]) {
    if (!missing.includes(version) && !(await findCachedIstioctl(cacheDir, version))) missing.push(version);
  }
  if (missing.length > 0) {
    const purpose = `download istioctl ${missing.join(', ')}${stack.istio.installer === 'istioctl' ? ' (or use istio-installer=helm)' : ''}`;
    requirements.push({ anyOf: ['curl'], purpose }, { anyOf: ['tar'], purpose });
  }
  if (stack.istio.pluginCa?.mode === 'generate') {
    requirements.push({ anyOf: ['openssl'], purpose: 'generates the plug-in CA (plugin-ca=generate)' });
  }
  return requirements;
}

class KindClusterTarget implements Target {
  readonly name = 'kind';
  private readonly host: Host;
  private runner: ToolRunner | undefined;
  private forward: PortForward | undefined;
  private alertmanagerForward: PortForward | undefined;
  private receiver: NotificationReceiver | undefined;
  private clusterName: string | undefined;
  private created = false;
  private keep = false;
  private scratchKubeconfig = '';

  constructor(options: KindTargetOptions) {
    this.host = resolveHost(options.host);
  }

  async provision(options: ProvisionOptions): Promise<TargetEnvironment> {
    const settings = readKindSettings(options.settings, options.istioVersion);
    const timings: Timings = {};
    const cacheDir = cacheDirOf(this.host);
    await mkdir(options.workDir, { recursive: true });
    const { runner, runtime } = await this.startRunner(options, settings, cacheDir, timings);
    const name = settings.cluster.name;
    this.clusterName = name;
    this.keep = settings.keep;
    // kind writes the new context into --kubeconfig; pointing it at the work dir keeps ~/.kube/config untouched.
    this.scratchKubeconfig = join(options.workDir, 'kind-scratch.kubeconfig');
    const run: KindProvisionRun = {
      options,
      settings,
      timings,
      cacheDir,
      runner,
      runtime,
      name,
      kubeconfigPath: join(options.workDir, 'kubeconfig'),
    };
    const { kindVersion, reused } = await this.createOrReuseCluster(run);
    const { kube, kubernetes } = await connectToCluster(this.host, run, reused);
    if (settings.preloadImages && settings.images.length > 0) {
      await timeStep(timings, 'image-preload', () =>
        preloadImages(runner, runtime, settings.images, name, options.workDir),
      );
    }
    this.receiver = await startKindReceiver(this.host, run);
    const stack = await installKindStack(this.host, run, kube, this.receiver).catch(
      async (error: unknown) => {
        // A listening server keeps this process alive: it must not outlive a failed provisioning.
        await this.receiver?.stop();
        this.receiver = undefined;
        throw error;
      },
    );
    this.forward = stack.prometheus;
    this.alertmanagerForward = stack.alertmanager;
    return describeKindEnvironment(run, stack, { kind: kindVersion, kubernetes }, this.receiver);
  }

  /** Checks the prerequisites, then makes the runner every later command goes through (for the chosen engine). */
  private async startRunner(
    options: ProvisionOptions,
    settings: KindSettings,
    cacheDir: string,
    timings: Timings,
  ): Promise<{ runner: ToolRunner; runtime: 'docker' | 'podman' }> {
    const probeRunner = createToolRunner(this.host, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const chosen = await timeStep(timings, 'prerequisites', async () =>
      checkPrerequisites(await buildKindRequirements(settings, cacheDir), probeRunner),
    );
    const runtime = chosen.runtime === 'podman' ? 'podman' : 'docker';
    const runner = createToolRunner(this.host, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      // kind drives Docker unless told otherwise.
      ...(runtime === 'podman' ? { env: { KIND_EXPERIMENTAL_PROVIDER: 'podman' } } : {}),
    });
    runner.commands.push(...probeRunner.commands);
    this.runner = runner;
    return { runner, runtime };
  }

  private async createOrReuseCluster(
    run: KindProvisionRun,
  ): Promise<{ kindVersion: string; reused: boolean }> {
    const { runner, runtime, name, settings, options } = run;
    const kindVersion = parseKindVersion((await runner.run('kind', ['version'])).stdout) ?? 'unknown';
    const existing = parseKindClusters(
      (await runner.runChecked('kind', ['get', 'clusters'], { hint: `check that ${runtime} is running` }))
        .stdout,
    );
    if (existing.includes(name)) {
      if (!settings.reuse) {
        throw new MeshdrillError(
          'environment',
          `a kind cluster named "${name}" already exists and reuse=false`,
          {
            hint: `delete it (\`kind delete cluster --name ${name}\`), pick another --target-opt cluster-name=, or set reuse=true`,
          },
        );
      }
      runner.progress(`reusing kind cluster "${name}"`);
      return { kindVersion, reused: true };
    }
    const configFile = join(options.workDir, 'kind-config.yaml');
    await writeFile(configFile, stringify(buildKindConfig(settings.cluster)));
    runner.progress(`creating kind cluster "${name}" (${settings.cluster.nodeImage.split('@')[0]})`);
    // Marked before the command: an interrupted or failed create may leave node containers that teardown
    // must delete (`kind delete cluster` is harmless when nothing is there).
    this.created = true;
    await timeStep(run.timings, 'cluster-create', () =>
      runner.runChecked('kind', buildKindCreateArgs(name, configFile, this.scratchKubeconfig), {
        timeoutMs: 10 * 60_000,
        hint: `look at \`kind export logs --name ${name}\`; host port ${settings.cluster.ingressHostPort} must be free (ingress-host-port=)`,
      }),
    );
    return { kindVersion, reused: false };
  }

  async teardown(): Promise<void> {
    const forwards = [this.forward, this.alertmanagerForward];
    const receiver = this.receiver;
    this.forward = undefined;
    this.alertmanagerForward = undefined;
    this.receiver = undefined;
    await Promise.all(forwards.map((f) => f?.stop()));
    await receiver?.stop();
    if (this.created && !this.keep && this.runner && this.clusterName) {
      this.created = false;
      this.runner.progress(`deleting kind cluster "${this.clusterName}"`);
      await this.runner.runChecked(
        'kind',
        ['delete', 'cluster', '--name', this.clusterName, '--kubeconfig', this.scratchKubeconfig],
        {
          timeoutMs: 5 * 60_000,
          hint: `delete it by hand: \`kind delete cluster --name ${this.clusterName}\``,
        },
      );
    }
  }

  /** Command lines run so far (tests and the journal). */
  get commands(): readonly string[] {
    return this.runner?.commands ?? [];
  }
}

/** One provisioning in progress: what its steps share once the runner exists. */
interface KindProvisionRun {
  options: ProvisionOptions;
  settings: KindSettings;
  timings: Timings;
  cacheDir: string;
  runner: ToolRunner;
  runtime: 'docker' | 'podman';
  name: string;
  kubeconfigPath: string;
}

/** Writes the cluster's kubeconfig, waits for its nodes and checks a reused cluster; resolves with a client. */
async function connectToCluster(
  host: Host,
  run: KindProvisionRun,
  reused: boolean,
): Promise<{ kube: KubeClient; kubernetes: string }> {
  const { runner, settings, options, timings, kubeconfigPath, name } = run;
  const kubeconfig = await runner.runChecked('kind', ['get', 'kubeconfig', '--name', name]);
  await writeFile(kubeconfigPath, kubeconfig.stdout, { mode: 0o600 });
  await chmod(kubeconfigPath, 0o600);
  const kube = host.createKubeClient(kubeconfigPath);
  const wait = {
    timeoutMs: settings.stack.waitTimeoutMs,
    pollMs: host.pollMs,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  await timeStep(timings, 'nodes-ready', () => waitForNodesReady(kube, 1 + settings.cluster.workers, wait));
  if (reused) {
    await timeStep(timings, 'reuse-check', () =>
      checkReusableCluster(runner, run.runtime, kube, {
        name,
        nodeImage: settings.cluster.nodeImage,
        ingressNodePort: settings.cluster.ingressNodePort,
        ingressHostPort: settings.cluster.ingressHostPort,
      }),
    );
  }
  return { kube, kubernetes: await kube.serverVersion() };
}

/**
 * Meshdrill's notification receiver, on the kind network's gateway so the Alertmanager pod can post to it. Where
 * that address is not this machine's (Docker Desktop runs the network inside a VM) or cannot be read, there is
 * no receiver: Alertmanager is not installed, and the run leaves notification signals out, saying why.
 */
async function startKindReceiver(
  host: Host,
  run: KindProvisionRun,
): Promise<NotificationReceiver | undefined> {
  const { runner, runtime } = run;
  const network = kindNetworkOf(host.env);
  const inspect = await runner.run(runtime, buildNetworkInspectArgs(network));
  const gateway = inspect.exitCode === 0 ? parseNetworkGateway(inspect.stdout) : undefined;
  const leftOut = 'Alertmanager not installed; notification signals will be left out';
  if (!gateway) {
    runner.progress(`${leftOut}: \`${runtime} network inspect ${network}\` names no IPv4 gateway`);
    return undefined;
  }
  try {
    return await startNotificationReceiver(gateway);
  } catch (error) {
    runner.progress(
      `${leftOut}: cannot listen on the ${network} network's gateway ${gateway} (${error instanceof Error ? error.message : String(error)}); it is this machine's only where ${runtime} runs here (not in a VM)`,
    );
    return undefined;
  }
}

function installKindStack(
  host: Host,
  run: KindProvisionRun,
  kube: KubeClient,
  receiver: NotificationReceiver | undefined,
): Promise<StackResult> {
  const { settings, options } = run;
  const parts = new Set<StackPart>(['istio', 'prometheus']);
  if (settings.stack.chaosMesh.enabled) parts.add('chaos-mesh');
  if (settings.stack.k6Operator.enabled) parts.add('k6-operator');
  return installStack(
    {
      host,
      runner: run.runner,
      kube,
      kubeconfigPath: run.kubeconfigPath,
      workDir: options.workDir,
      cacheDir: run.cacheDir,
      ruleFiles: options.ruleFiles,
      timings: run.timings,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(receiver ? { alertmanager: { webhookBaseUrl: receiver.url } } : {}),
    },
    settings.stack,
    parts,
  );
}

function describeKindEnvironment(
  run: KindProvisionRun,
  stack: StackResult,
  versions: { kind: string; kubernetes: string },
  receiver: NotificationReceiver | undefined,
): TargetEnvironment {
  const { settings } = run;
  return {
    kubeconfigPath: run.kubeconfigPath,
    prometheusUrl: stack.prometheus?.url ?? '',
    ingressUrl: `http://127.0.0.1:${settings.cluster.ingressHostPort}`,
    versions: {
      target: 'kind',
      kind: versions.kind,
      kubernetes: versions.kubernetes,
      'node-image': settings.cluster.nodeImage,
      ...stack.versions,
    },
    timings: run.timings,
    binDirs: stack.binDirs,
    prometheus: {
      scrapeIntervalMs: settings.stack.prometheus.scrapeIntervalMs,
      evaluationIntervalMs: settings.stack.prometheus.evaluationIntervalMs,
    },
    ...(stack.alertmanager && receiver
      ? {
          alertmanager: {
            url: stack.alertmanager.url,
            receiverUrl: receiver.url,
            routingDelayMs: ALERTMANAGER_ROUTING_DELAY_MS,
          },
        }
      : {}),
    ...(settings.stack.k6.mode === 'in-cluster'
      ? { inClusterLoad: { baseUrl: ingressGatewayServiceUrl(), runners: settings.stack.k6.runners } }
      : {}),
    faultsAllowed: true,
  };
}

export type KindTarget = Target & { readonly commands: readonly string[] };

export function createKindTarget(options: KindTargetOptions = {}): KindTarget {
  return new KindClusterTarget(options);
}

/**
 * `meshdrill cluster down --target kind`: deletes the named cluster outright — it outlived the command that
 * created it, so no Target instance knows it. A scratch --kubeconfig keeps ~/.kube/config untouched.
 */
export async function deleteKindCluster(
  settings: Record<string, string>,
  options: KindTargetOptions & { workDir: string },
): Promise<{ name: string; deleted: boolean }> {
  const host = resolveHost(options.host);
  const name = readKindSettings(settings, undefined).cluster.name;
  const runner = createToolRunner(host);
  const existing = parseKindClusters(
    (await runner.runChecked('kind', ['get', 'clusters'], { hint: 'check that docker or podman is running' }))
      .stdout,
  );
  if (!existing.includes(name)) return { name, deleted: false };
  await runner.runChecked(
    'kind',
    ['delete', 'cluster', '--name', name, '--kubeconfig', join(options.workDir, 'kind-scratch.kubeconfig')],
    { timeoutMs: 5 * 60_000, hint: `delete it by hand: \`kind delete cluster --name ${name}\`` },
  );
  return { name, deleted: true };
}
