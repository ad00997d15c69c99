// The plan of installStack (stack.ts) for `--dry-run`: the same commands and manifests, from the same pure builders,
// in the same order — nothing run, nothing applied. test/clusters/dry-run.test.ts holds the plan against what a
// provision through the fake tools really runs.

import { join } from 'node:path';
import { stringify } from 'yaml';
import type { PlanStep } from '../../harness/model/index.js';
import { buildChaosMeshCommands, buildK6OperatorCommands } from './addons.js';
import { buildAlertmanagerConfig } from './alertmanager/config.js';
import {
  ALERTMANAGER_SERVICE_ADDRESS,
  MESHDRILL_ALERTMANAGER_SERVICE,
  buildAlertmanagerManifests,
} from './alertmanager/manifests.js';
import type { Host } from './host.js';
import { ISTIO_NAMESPACE, buildIstioHelmValues, buildIstioOperator } from './istio/config.js';
import { buildIstioHelmCommands, buildIstioctlCommands } from './istio/install.js';
import { buildOpensslSteps } from './istio/plugin-ca.js';
import { findCachedIstioctl, istioArchiveUrl } from './istio/release.js';
import { buildPortForwardArgs } from './port-forward.js';
import { buildPrometheusConfig, buildPrometheusManifests } from './prometheus/manifests.js';
import { MESHDRILL_PROMETHEUS_SERVICE, readRuleFiles } from './prometheus/install.js';
import type { StackPart } from './stack.js';
import type { StackSettings } from './stack-settings.js';

export interface StackPlanContext {
  host: Host;
  kubeconfigPath: string;
  workDir: string;
  cacheDir: string;
  ruleFiles: string[];
  /** As StackContext.alertmanager; the receiver's URL as the plan can know it (its port is picked at run time). */
  alertmanager?: { webhookBaseUrl: string };
}

const command = (tool: string, args: readonly string[], purpose: string): PlanStep => ({
  step: 'command',
  command: [tool, ...args].join(' '),
  purpose,
});

async function planIstio(ctx: StackPlanContext, settings: StackSettings): Promise<PlanStep[]> {
  const { config, installer, pluginCa } = settings.istio;
  const steps: PlanStep[] = [
    {
      step: 'apply',
      object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ISTIO_NAMESPACE } },
      purpose: "Istio's namespace",
    },
  ];
  if (pluginCa?.mode === 'generate') {
    const dir = join(ctx.workDir, 'cacerts');
    for (const args of buildOpensslSteps(dir, pluginCa.intermediateDays)) {
      steps.push(command('openssl', args, 'generates the plug-in CA'));
    }
  }
  if (pluginCa) {
    steps.push({
      step: 'apply',
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: ISTIO_NAMESPACE } },
      purpose: `the plug-in CA (${pluginCa.mode === 'files' ? pluginCa.dir : 'generated above'}); keys not shown`,
    });
  }
  const dir = join(ctx.workDir, 'istio');
  if (installer === 'helm') {
    for (const [name, body] of Object.entries(buildIstioHelmValues(config))) {
      steps.push({ step: 'note', text: `${join(dir, `${name}.yaml`)} (Helm values):\n${stringify(body)}` });
    }
    for (const args of buildIstioHelmCommands(config, ctx.kubeconfigPath, dir)) {
      steps.push(command('helm', args, `installs Istio ${config.version}`));
    }
    return steps;
  }
  const istioctl = await planIstioctlFetch(ctx, config.version, steps);
  const operatorFile = join(dir, 'istio-operator.yaml');
  steps.push({ step: 'note', text: `${operatorFile}:\n${stringify(buildIstioOperator(config))}` });
  for (const args of buildIstioctlCommands(config, ctx.kubeconfigPath, operatorFile)) {
    steps.push(command(istioctl, args, `installs Istio ${config.version}`));
  }
  return steps;
}

/** The download of a version's istioctl when it is not cached (pushed on `steps`); resolves with its path. */
async function planIstioctlFetch(ctx: StackPlanContext, version: string, steps: PlanStep[]): Promise<string> {
  const cached = await findCachedIstioctl(ctx.cacheDir, version);
  if (cached) return cached;
  const archive = join(ctx.cacheDir, 'istio', version, '.partial-…', 'istio.tar.gz');
  const url = istioArchiveUrl(version, ctx.host.platform, ctx.host.arch);
  steps.push(
    command('curl', ['-fsSL', '--retry', '3', '-o', archive, url], `downloads istioctl ${version}`),
    command('tar', ['-xzf', archive, '-C', join(ctx.cacheDir, 'istio', version, '.partial-…')], 'unpacks it'),
  );
  return join(ctx.cacheDir, 'istio', version, `istio-${version}`, 'bin', 'istioctl');
}

/** `istioctl-<version>` for the installed release and each of `istioctl-versions=` (as installStack links them). */
async function planIstioctlVersions(
  ctx: StackPlanContext,
  settings: StackSettings,
  parts: ReadonlySet<StackPart>,
): Promise<PlanStep[]> {
  const { istio } = settings;
  const installed = parts.has('istio') && istio.installer === 'istioctl' ? [istio.config.version] : [];
  const versions = [...new Set([...installed, ...(istio.istioctlVersions ?? [])])];
  const steps: PlanStep[] = [];
  const links: string[] = [];
  for (const version of versions) {
    // The installed release was fetched for the install above: only the others download here.
    const path = installed.includes(version)
      ? join(ctx.cacheDir, 'istio', version, `istio-${version}`, 'bin', 'istioctl')
      : await planIstioctlFetch(ctx, version, steps);
    links.push(`istioctl-${version} -> ${path}`);
  }
  if (links.length > 0) {
    steps.push({
      step: 'note',
      text: `${join(ctx.workDir, 'istioctl-versions')} (first on PATH for runbook and command steps):\n${links.join('\n')}\n`,
    });
  }
  return steps;
}

async function planPrometheus(ctx: StackPlanContext, settings: StackSettings): Promise<PlanStep[]> {
  const options = {
    scrapeIntervalMs: settings.prometheus.scrapeIntervalMs,
    evaluationIntervalMs: settings.prometheus.evaluationIntervalMs,
    ruleFiles: await readRuleFiles(ctx.ruleFiles),
    ...(ctx.alertmanager ? { alertmanagers: [ALERTMANAGER_SERVICE_ADDRESS] } : {}),
  };
  const configYaml = stringify(buildPrometheusConfig(options));
  const steps: PlanStep[] = buildPrometheusManifests(options, configYaml).map((object) => ({
    step: 'apply',
    object,
    purpose: 'Prometheus with meshdrill rules',
  }));
  const forward = buildPortForwardArgs(
    {
      kubeconfigPath: ctx.kubeconfigPath,
      namespace: MESHDRILL_PROMETHEUS_SERVICE.namespace,
      resource: `svc/${MESHDRILL_PROMETHEUS_SERVICE.name}`,
      remotePort: MESHDRILL_PROMETHEUS_SERVICE.port,
    },
    settings.prometheus.localPort ?? 0,
  );
  steps.push(command('kubectl', forward, 'reaches Prometheus from this host (a free local port when 0)'));
  if (ctx.alertmanager) steps.push(...planAlertmanager(ctx.kubeconfigPath, ctx.alertmanager.webhookBaseUrl));
  return steps;
}

function planAlertmanager(kubeconfigPath: string, webhookBaseUrl: string): PlanStep[] {
  const service = MESHDRILL_ALERTMANAGER_SERVICE;
  const steps: PlanStep[] = buildAlertmanagerManifests(buildAlertmanagerConfig(webhookBaseUrl)).map(
    (object) => ({
      step: 'apply',
      object,
      purpose: "Alertmanager: every notification to meshdrill's receiver",
    }),
  );
  const forward = buildPortForwardArgs(
    {
      kubeconfigPath,
      namespace: service.namespace,
      resource: `svc/${service.name}`,
      remotePort: service.port,
    },
    0,
  );
  steps.push(command('kubectl', forward, "reaches Alertmanager's API from this host (a free local port)"));
  return steps;
}

/** What installStack would do for these parts, in its order. */
export async function planStack(
  ctx: StackPlanContext,
  settings: StackSettings,
  parts: ReadonlySet<StackPart>,
): Promise<PlanStep[]> {
  const steps: PlanStep[] = [];
  if (parts.has('istio')) steps.push(...(await planIstio(ctx, settings)));
  steps.push(...(await planIstioctlVersions(ctx, settings, parts)));
  if (parts.has('prometheus')) steps.push(...(await planPrometheus(ctx, settings)));
  if (parts.has('chaos-mesh')) {
    for (const args of buildChaosMeshCommands(settings.chaosMesh, ctx.kubeconfigPath)) {
      steps.push(command('helm', args, `installs Chaos Mesh ${settings.chaosMesh.version}`));
    }
  }
  if (parts.has('k6-operator')) {
    for (const args of buildK6OperatorCommands(settings.k6Operator, ctx.kubeconfigPath)) {
      steps.push(command('helm', args, 'installs k6-operator'));
    }
  }
  return steps;
}
