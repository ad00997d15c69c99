// The existing target: a cluster the user names by kubeconfig context. Works on a pinned private copy of the
// kubeconfig, installs nothing unless asked, checks that Istio, Prometheus and Chaos Mesh are there, and
// refuses faults unless the context is explicitly allowed. Teardown stops port-forwards and leaves the cluster.

import { join } from 'node:path';
import type { KubeClient } from '../../harness/kube/index.js';
import { MeshdrillError } from '../../harness/model/index.js';
import { type Host, cacheDirOf, configDirOf, resolveHost } from '../shared/index.js';
import { INGRESS_GATEWAY, ISTIO_NAMESPACE, ingressGatewayServiceUrl } from '../shared/index.js';
import { imageTagOf } from '../shared/index.js';
import { type PortForward, startPortForward } from '../shared/index.js';
import { forwardPrometheus, waitForPromqlApi } from '../shared/index.js';
import { type Requirement, checkPrerequisites } from '../shared/index.js';
import { type StackResult, installStack } from '../shared/index.js';
import type { Timings } from '../shared/index.js';
import { createToolRunner } from '../shared/index.js';
import type { ProvisionOptions, Target, TargetEnvironment } from '../target.js';
import { type UserAlertmanager, readUserAlertmanager } from './alertmanager.js';
import { type ExistingSettings, readExistingSettings } from './existing-settings.js';
import { type FaultDecision, decideFaultsAllowed, readAllowList } from './fault-guard.js';
import { kubeconfigPathsOf, writePinnedKubeconfig } from './kubeconfig-copy.js';
import { type MeshPresence, checkMeshPresence, loadBalancerUrlOf } from './presence.js';

export interface ExistingTargetOptions {
  host?: Partial<Host>;
}

export type ExistingTarget = Target & { readonly commands: readonly string[] };

/** The allow-list file for fault injection. */
export function allowListPathOf(host: Host): string {
  return join(configDirOf(host), 'allowed-contexts');
}

/** Whether faults (and install=) are allowed on the settings' context: by setting, or by the allow-list file. */
export async function decideFaultsFor(host: Host, settings: ExistingSettings): Promise<FaultDecision> {
  const allowListPath = allowListPathOf(host);
  return decideFaultsAllowed({
    context: settings.context,
    allowSetting: settings.allowFaults,
    allowList: await readAllowList(allowListPath),
    allowListPath,
  });
}

/** The host tools an existing cluster needs: kubectl, and what installs the parts `install=` asks for. */
export function existingRequirements(settings: ExistingSettings): Requirement[] {
  const requirements: Requirement[] = [{ anyOf: ['kubectl'], purpose: 'port-forwards and runbook steps' }];
  const { install, stack } = settings;
  if (
    (install.has('istio') && stack.istio.installer === 'helm') ||
    install.has('chaos-mesh') ||
    install.has('k6-operator')
  ) {
    requirements.push({ anyOf: ['helm'], purpose: `installs ${[...install].join(', ')}` });
  }
  if (
    (install.has('istio') && stack.istio.installer === 'istioctl') ||
    (stack.istio.istioctlVersions ?? []).length > 0
  ) {
    requirements.push(
      { anyOf: ['curl'], purpose: 'download istioctl' },
      { anyOf: ['tar'], purpose: 'unpack istioctl' },
    );
  }
  return requirements;
}

class ExistingClusterTarget implements Target {
  readonly name = 'existing';
  private readonly host: Host;
  private readonly forwards: PortForward[] = [];
  commands: string[] = [];

  constructor(options: ExistingTargetOptions) {
    this.host = resolveHost(options.host);
  }

  async provision(options: ProvisionOptions): Promise<TargetEnvironment> {
    const settings = readExistingSettings(options.settings, options.istioVersion);
    const timings: Timings = {};
    const progress = (m: string): void => options.onProgress?.(m);
    const runner = createToolRunner(this.host, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    this.commands = runner.commands;
    await checkPrerequisites(existingRequirements(settings), runner);
    const { kubeconfigPath, kube, kubernetes } = await connectToContext(this.host, settings, options.workDir);

    const decision = await decideFaultsFor(this.host, settings);
    progress(decision.reason);
    refuseInstallUnlessAllowed(settings, decision);
    const installed = await installStack(
      {
        host: this.host,
        runner,
        kube,
        kubeconfigPath,
        workDir: options.workDir,
        cacheDir: cacheDirOf(this.host),
        ruleFiles: options.ruleFiles,
        timings,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      settings.stack,
      settings.install,
    );
    if (installed.prometheus) this.forwards.push(installed.prometheus);

    const run: ExistingProvisionRun = {
      options,
      settings,
      kubeconfigPath,
      commands: runner.commands,
      progress,
    };
    try {
      const presence = await requirePresence(run, kube, installed);
      const prometheusUrl = await this.reachPrometheus(run, presence, installed);
      const ingressUrl = await this.reachIngress(run, presence);
      const alertmanager = settings.alertmanagerUrl
        ? await readUserAlertmanager(settings.alertmanagerUrl, Math.min(settings.stack.waitTimeoutMs, 30_000))
        : undefined;
      return describeExistingEnvironment(run, {
        presence,
        alertmanager,
        installed,
        prometheusUrl,
        ingressUrl,
        kubernetes,
        timings,
        decision,
      });
    } catch (error) {
      await this.teardown();
      throw error;
    }
  }

  /** Meshdrill's own Prometheus, the one the user named, or a port-forward to the one found in the cluster. */
  private async reachPrometheus(
    run: ExistingProvisionRun,
    presence: MeshPresence,
    installed: StackResult,
  ): Promise<string | undefined> {
    const { settings } = run;
    const { stack } = settings;
    const wait = { timeoutMs: stack.waitTimeoutMs, pollMs: this.host.pollMs };
    if (settings.prometheusUrl && !installed.prometheus) {
      await waitForPromqlApi(settings.prometheusUrl, {
        ...wait,
        timeoutMs: Math.min(wait.timeoutMs, 30_000),
      });
    }
    const prometheusUrl = installed.prometheus?.url ?? settings.prometheusUrl;
    if (prometheusUrl || !presence.prometheus) return prometheusUrl;
    const forward = await forwardPrometheus(this.host, run.kubeconfigPath, presence.prometheus, wait, {
      localPort: stack.prometheus.localPort,
      commands: run.commands,
    });
    this.forwards.push(forward);
    return forward.url;
  }

  /** The URL the user named, the gateway's load balancer, or a port-forward to the gateway's Service. */
  private async reachIngress(run: ExistingProvisionRun, presence: MeshPresence): Promise<string> {
    const ingressUrl = run.settings.ingressUrl ?? loadBalancerUrlOf(presence.ingressGateway);
    if (ingressUrl) return ingressUrl;
    const forward = await startPortForward(
      this.host,
      {
        kubeconfigPath: run.kubeconfigPath,
        namespace: ISTIO_NAMESPACE,
        resource: `svc/${INGRESS_GATEWAY}`,
        remotePort: 80,
      },
      { commands: run.commands },
    );
    this.forwards.push(forward);
    return forward.url;
  }

  async teardown(): Promise<void> {
    const forwards = this.forwards.splice(0);
    await Promise.all(forwards.map((f) => f.stop()));
  }
}

/** One provisioning in progress: what its steps share once the cluster is reached. */
interface ExistingProvisionRun {
  options: ProvisionOptions;
  settings: ExistingSettings;
  kubeconfigPath: string;
  /** The runner's command log, which port-forwards append to. */
  commands: string[];
  progress: (message: string) => void;
}

/** Pins a private copy of the user's kubeconfig to the context; resolves with a client of it. */
async function connectToContext(
  host: Host,
  settings: ExistingSettings,
  workDir: string,
): Promise<{ kubeconfigPath: string; kube: KubeClient; kubernetes: string }> {
  const kubeconfigPath = join(workDir, 'kubeconfig');
  await writePinnedKubeconfig(
    kubeconfigPathsOf(settings.kubeconfig, host.env, host.homeDir),
    settings.context,
    kubeconfigPath,
  );
  const kube = host.createKubeClient(kubeconfigPath);
  return { kubeconfigPath, kube, kubernetes: await kube.serverVersion() };
}

function refuseInstallUnlessAllowed(settings: ExistingSettings, decision: FaultDecision): void {
  const { install } = settings;
  if (install.size > 0 && !decision.allowed) {
    // Installing changes the cluster more than any fault (Chaos Mesh runs a privileged daemon on every node),
    // so it is refused where faults are, before anything is installed.
    throw new MeshdrillError(
      'environment',
      `install=${[...install].join(',')} refused: context "${settings.context}" is not allowed for drills`,
      { hint: decision.reason },
    );
  }
}

/** Checks that what the drills need is there (throwing with every gap if not); resolves with what was found. */
async function requirePresence(
  run: ExistingProvisionRun,
  kube: KubeClient,
  installed: StackResult,
): Promise<MeshPresence> {
  const { settings, options } = run;
  const presence = await checkMeshPresence(kube, {
    ...(settings.prometheusUrl ? { prometheusUrl: settings.prometheusUrl } : {}),
    need: { istio: true, prometheus: !installed.prometheus, chaosMesh: options.needs?.chaosMesh ?? true },
    ...(settings.stack.istio.config.revision ? { revision: settings.stack.istio.config.revision } : {}),
  });
  if (presence.missing.length > 0) {
    throw new MeshdrillError(
      'environment',
      `context "${settings.context}" lacks what drills need:\n${presence.missing.map((m) => `  - ${m}`).join('\n')}`,
      {
        hint: 'meshdrill installs nothing on an existing cluster unless asked (--target-opt install=…); see docs/targets.md',
      },
    );
  }
  if (options.ruleFiles.length > 0 && !installed.prometheus) {
    run.progress(
      `note: meshdrill's rule files are not loaded into this cluster's Prometheus; load them there (${options.ruleFiles.join(', ')}) or alert signals will not fire`,
    );
  }
  return presence;
}

function describeExistingEnvironment(
  run: ExistingProvisionRun,
  parts: {
    presence: MeshPresence;
    installed: StackResult;
    prometheusUrl: string | undefined;
    ingressUrl: string;
    alertmanager: UserAlertmanager | undefined;
    kubernetes: string;
    timings: Timings;
    decision: FaultDecision;
  },
): TargetEnvironment {
  const { settings } = run;
  const { stack } = settings;
  const { presence, installed } = parts;
  const istiodTag = imageTagOf(presence.istiod);
  const am = parts.alertmanager;
  return {
    kubeconfigPath: run.kubeconfigPath,
    prometheusUrl: parts.prometheusUrl ?? '',
    ingressUrl: parts.ingressUrl,
    versions: {
      target: 'existing',
      context: settings.context,
      kubernetes: parts.kubernetes,
      // The version it ran on: the running istiod's image tag (of the revision named, during an upgrade).
      ...(istiodTag ? { istio: istiodTag } : {}),
      ...(presence.istiod?.metadata.labels?.['istio.io/rev']
        ? { 'istio-revision': presence.istiod.metadata.labels['istio.io/rev'] }
        : {}),
      ...(am ? { alertmanager: am.version } : {}),
      ...installed.versions,
    },
    timings: parts.timings,
    binDirs: installed.binDirs,
    prometheus: {
      scrapeIntervalMs: stack.prometheus.scrapeIntervalMs,
      evaluationIntervalMs: stack.prometheus.evaluationIntervalMs,
    },
    // No receiverUrl: the user's Alertmanager notifies the user's receivers, which meshdrill cannot observe.
    ...(am
      ? {
          alertmanager: {
            url: am.url,
            routingDelayMs: am.routingDelayMs,
            silentReceivers: am.silentReceivers,
          },
        }
      : {}),
    ...(stack.k6.mode === 'in-cluster'
      ? {
          inClusterLoad: {
            baseUrl: ingressGatewayServiceUrl(presence.ingressGateway),
            runners: stack.k6.runners,
          },
        }
      : {}),
    faultsAllowed: parts.decision.allowed,
  };
}

export function createExistingTarget(options: ExistingTargetOptions = {}): ExistingTarget {
  return new ExistingClusterTarget(options);
}
