// Installs Istio of a given version with drill settings, by istioctl (fetched and cached per version) or by
// the Helm charts, then waits until istiod and the ingress gateway are Available and reads back the version.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeClient } from '../../../harness/kube/index.js';
import type { KubeObject } from '../../../harness/model/index.js';
import { type WaitOptions, waitForDeploymentsAvailable } from '../readiness.js';
import { type Timings, timeStep } from '../timings.js';
import type { ToolRunner } from '../tool-runner.js';
import {
  INGRESS_GATEWAY,
  ISTIO_NAMESPACE,
  type IstioInstallConfig,
  buildIstioHelmValues,
  buildIstioOperator,
  istiodDeploymentName,
} from './config.js';
import { type PluginCaConfig, buildCacertsSecret, prepareCacerts } from './plugin-ca.js';
import { fetchIstioRelease } from './release.js';

export const ISTIO_HELM_REPO = 'https://istio-release.storage.googleapis.com/charts';

export interface IstioInstallRequest {
  config: IstioInstallConfig;
  installer: 'istioctl' | 'helm';
  pluginCa?: PluginCaConfig;
  /** More istioctl releases to provide as `istioctl-<version>` (`--target-opt istioctl-versions=`). */
  istioctlVersions?: string[];
}

export interface InstallContext {
  runner: ToolRunner;
  kube: KubeClient;
  kubeconfigPath: string;
  workDir: string;
  cacheDir: string;
  timings: Timings;
  wait: WaitOptions;
}

export interface IstioInstallResult {
  versions: Record<string, string>;
  /** The istioctl of this version, for runbook steps (`binDirs`), when fetched. */
  istioctlDir?: string;
}

/** Environment that keeps Helm's repository list in meshdrill's cache instead of the user's own. */
export function helmEnv(cacheDir: string): Record<string, string> {
  return {
    HELM_REPOSITORY_CONFIG: join(cacheDir, 'helm', 'repositories.yaml'),
    HELM_REPOSITORY_CACHE: join(cacheDir, 'helm', 'repository'),
  };
}

/** The helm invocations for Istio (pure; run in order after `helm repo add`). */
export function buildIstioHelmCommands(
  config: IstioInstallConfig,
  kubeconfigPath: string,
  valuesDir: string,
): string[][] {
  const common = [
    '--namespace',
    ISTIO_NAMESPACE,
    '--version',
    config.version,
    '--kubeconfig',
    kubeconfigPath,
  ];
  const waitFlags = ['--wait', '--timeout', '10m'];
  return [
    ['repo', 'add', 'istio', ISTIO_HELM_REPO, '--force-update'],
    [
      'upgrade',
      '--install',
      'istio-base',
      'istio/base',
      ...common,
      '--create-namespace',
      '-f',
      join(valuesDir, 'base.yaml'),
      ...waitFlags,
    ],
    [
      'upgrade',
      '--install',
      istiodDeploymentName(config.revision),
      'istio/istiod',
      ...common,
      '-f',
      join(valuesDir, 'istiod.yaml'),
      ...waitFlags,
    ],
    [
      'upgrade',
      '--install',
      INGRESS_GATEWAY,
      'istio/gateway',
      ...common,
      '-f',
      join(valuesDir, 'gateway.yaml'),
      ...waitFlags,
    ],
  ];
}

/** The istioctl invocations (pure). */
export function buildIstioctlCommands(
  config: IstioInstallConfig,
  kubeconfigPath: string,
  operatorFile: string,
): string[][] {
  const commands = [
    [
      'install',
      '--kubeconfig',
      kubeconfigPath,
      '-f',
      operatorFile,
      ...(config.revision ? ['--set', `revision=${config.revision}`] : []),
      '-y',
    ],
  ];
  if (config.revision && config.revisionIsDefault) {
    commands.push([
      'tag',
      'set',
      'default',
      '--revision',
      config.revision,
      '--overwrite',
      '--kubeconfig',
      kubeconfigPath,
    ]);
  }
  return commands;
}

/** The image tag of istiod as running, the evidence of which version is installed. */
export function imageTagOf(deployment: KubeObject | undefined): string | undefined {
  const spec = deployment?.spec as
    | { template?: { spec?: { containers?: { image?: string }[] } } }
    | undefined;
  const image = spec?.template?.spec?.containers?.[0]?.image;
  const tag = image?.split('@')[0]?.split(':').at(-1);
  return image?.includes(':') ? tag : undefined;
}

export async function installIstio(
  ctx: InstallContext,
  request: IstioInstallRequest,
): Promise<IstioInstallResult> {
  const { runner, kube, config } = { ...ctx, config: request.config };
  const result: IstioInstallResult = { versions: { istio: config.version } };

  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ISTIO_NAMESPACE } });
  if (request.pluginCa) {
    const pluginCa = request.pluginCa;
    await timeStep(ctx.timings, 'istio-plugin-ca', async () => {
      runner.progress('preparing the plug-in CA (cacerts)');
      await kube.apply(buildCacertsSecret(await prepareCacerts(runner, pluginCa, ctx.workDir)));
    });
  }

  await timeStep(ctx.timings, 'istio-install', async () => {
    const dir = join(ctx.workDir, 'istio');
    await mkdir(dir, { recursive: true });
    if (request.installer === 'istioctl') {
      const release = await timeStep(ctx.timings, 'istio-fetch', () =>
        fetchIstioRelease(runner, config.version, ctx.cacheDir),
      );
      result.istioctlDir = join(release.dir, 'bin');
      const operatorFile = join(dir, 'istio-operator.yaml');
      await writeFile(operatorFile, stringify(buildIstioOperator(config)));
      runner.progress(
        `installing Istio ${config.version} with istioctl${config.revision ? ` (revision ${config.revision})` : ''}`,
      );
      for (const args of buildIstioctlCommands(config, ctx.kubeconfigPath, operatorFile)) {
        await runner.runChecked(release.istioctl, args, {
          timeoutMs: 15 * 60_000,
          hint: 'look at `kubectl -n istio-system get pods` and `istioctl analyze` with the work dir kubeconfig',
        });
      }
    } else {
      const values = buildIstioHelmValues(config);
      for (const [name, body] of Object.entries(values))
        await writeFile(join(dir, `${name}.yaml`), stringify(body));
      runner.progress(
        `installing Istio ${config.version} with Helm${config.revision ? ` (revision ${config.revision})` : ''}`,
      );
      for (const args of buildIstioHelmCommands(config, ctx.kubeconfigPath, dir)) {
        await runner.runChecked('helm', args, {
          timeoutMs: 15 * 60_000,
          env: helmEnv(ctx.cacheDir),
          hint: `check that chart version ${config.version} exists (\`helm search repo istio/istiod --versions\`)`,
        });
      }
    }
    await waitForDeploymentsAvailable(
      kube,
      ISTIO_NAMESPACE,
      [istiodDeploymentName(config.revision), INGRESS_GATEWAY],
      ctx.wait,
    );
  });

  const istiod = await kube.get({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: ISTIO_NAMESPACE,
    name: istiodDeploymentName(config.revision),
  });
  const running = imageTagOf(istiod);
  if (running) result.versions.istiod = running;
  if (config.revision) result.versions['istio-revision'] = config.revision;
  result.versions['istio-installer'] = request.installer;
  return result;
}
