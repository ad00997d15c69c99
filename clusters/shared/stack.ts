// Installs the drill stack on a cluster meshdrill may change: Istio, Prometheus with meshdrill's rules (reached
// by port-forward), Chaos Mesh and optionally k6-operator, each timed; returns what the TargetEnvironment needs.

import { join } from 'node:path';
import type { KubeClient } from '../../harness/kube/index.js';
import { installChaosMesh, installK6Operator } from './addons.js';
import { forwardAlertmanager, installAlertmanager } from './alertmanager/install.js';
import { ALERTMANAGER_IMAGE, ALERTMANAGER_SERVICE_ADDRESS } from './alertmanager/manifests.js';
import type { Host } from './host.js';
import { installIstio } from './istio/install.js';
import { provideIstioctlVersions } from './istio/release.js';
import type { PortForward } from './port-forward.js';
import { PROMETHEUS_IMAGE } from './prometheus/manifests.js';
import { MESHDRILL_PROMETHEUS_SERVICE, forwardPrometheus, installPrometheus } from './prometheus/install.js';
import type { WaitOptions } from './readiness.js';
import type { StackSettings } from './stack-settings.js';
import { type Timings, timeStep } from './timings.js';
import type { ToolRunner } from './tool-runner.js';

export type StackPart = 'istio' | 'prometheus' | 'chaos-mesh' | 'k6-operator';

export interface StackContext {
  host: Host;
  runner: ToolRunner;
  kube: KubeClient;
  kubeconfigPath: string;
  workDir: string;
  cacheDir: string;
  ruleFiles: string[];
  timings: Timings;
  signal?: AbortSignal;
  /**
   * Install meshdrill's Alertmanager beside Prometheus, every notification to the webhook receiver at this base
   * URL (reachable from the cluster's pods). Only where meshdrill runs that receiver: kind.
   */
  alertmanager?: { webhookBaseUrl: string };
}

export interface StackResult {
  versions: Record<string, string>;
  binDirs: string[];
  /** The Prometheus port-forward, when Prometheus was installed (the caller stops it at teardown). */
  prometheus?: PortForward;
  /** The Alertmanager port-forward, when it was installed (stopped at teardown like Prometheus's). */
  alertmanager?: PortForward;
}

/** Installs the parts asked for, in dependency order (Istio before anything that may be injected). */
export async function installStack(
  ctx: StackContext,
  settings: StackSettings,
  parts: ReadonlySet<StackPart>,
): Promise<StackResult> {
  const wait: WaitOptions = {
    timeoutMs: settings.waitTimeoutMs,
    pollMs: ctx.host.pollMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  const result: StackResult = { versions: {}, binDirs: [] };
  const common = { kubeconfigPath: ctx.kubeconfigPath, cacheDir: ctx.cacheDir, wait };

  if (parts.has('istio')) {
    const istio = await installIstio(
      {
        runner: ctx.runner,
        kube: ctx.kube,
        kubeconfigPath: ctx.kubeconfigPath,
        workDir: ctx.workDir,
        cacheDir: ctx.cacheDir,
        timings: ctx.timings,
        wait,
      },
      settings.istio,
    );
    Object.assign(result.versions, istio.versions);
    if (istio.istioctlDir) result.binDirs.push(istio.istioctlDir);
  }
  // `istioctl-<version>` beside the target's istioctl: the one installed here and each one asked for.
  const installedIstioctl =
    parts.has('istio') && settings.istio.installer === 'istioctl' ? [settings.istio.config.version] : [];
  const versions = [...new Set([...installedIstioctl, ...(settings.istio.istioctlVersions ?? [])])];
  if (versions.length > 0) {
    const dir = await timeStep(ctx.timings, 'istioctl-versions', () =>
      provideIstioctlVersions(ctx.runner, versions, ctx.cacheDir, join(ctx.workDir, 'istioctl-versions')),
    );
    result.binDirs.push(dir);
  }
  const am = parts.has('prometheus') ? ctx.alertmanager : undefined;
  if (parts.has('prometheus')) {
    result.prometheus = await timeStep(ctx.timings, 'prometheus', async () => {
      ctx.runner.progress('installing Prometheus with meshdrill rules');
      await installPrometheus(
        ctx.kube,
        {
          ...settings.prometheus,
          ruleFiles: ctx.ruleFiles,
          ...(am ? { alertmanagers: [ALERTMANAGER_SERVICE_ADDRESS] } : {}),
        },
        wait,
      );
      return forwardPrometheus(ctx.host, ctx.kubeconfigPath, MESHDRILL_PROMETHEUS_SERVICE, wait, {
        localPort: settings.prometheus.localPort,
        commands: ctx.runner.commands,
      });
    });
    result.versions.prometheus = PROMETHEUS_IMAGE.split(':').at(-1) ?? PROMETHEUS_IMAGE;
  }
  try {
    if (am) {
      result.alertmanager = await timeStep(ctx.timings, 'alertmanager', async () => {
        ctx.runner.progress(`installing Alertmanager (notifications to ${am.webhookBaseUrl})`);
        await installAlertmanager(ctx.kube, am.webhookBaseUrl, wait);
        return forwardAlertmanager(ctx.host, ctx.kubeconfigPath, wait, { commands: ctx.runner.commands });
      });
      result.versions.alertmanager = ALERTMANAGER_IMAGE.split(':').at(-1) ?? ALERTMANAGER_IMAGE;
    }
    if (parts.has('chaos-mesh')) {
      await timeStep(ctx.timings, 'chaos-mesh', () =>
        installChaosMesh(ctx.runner, ctx.kube, common, settings.chaosMesh),
      );
      result.versions['chaos-mesh'] = settings.chaosMesh.version;
    }
    if (parts.has('k6-operator')) {
      await timeStep(ctx.timings, 'k6-operator', () =>
        installK6Operator(ctx.runner, ctx.kube, common, settings.k6Operator),
      );
      result.versions['k6-operator'] = settings.k6Operator.version ?? 'latest';
    }
  } catch (error) {
    // The port-forwards are live children: a failure after they started must not leave them behind.
    await result.alertmanager?.stop();
    await result.prometheus?.stop();
    throw error;
  }
  return result;
}
