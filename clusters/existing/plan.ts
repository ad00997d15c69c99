// `meshdrill run --dry-run --target existing`: what provisioning would run and apply on a cluster meshdrill did
// not create — nothing unless `install=` asks, and then only on a context allowed for drills — plus the
// port-forwards. The cluster is read (API, istiod, gateway, Prometheus), never written.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '../../harness/kube/index.js';
import type { PlanSection, PlanStep } from '../../harness/model/index.js';
import { type Host, cacheDirOf, resolveHost } from '../shared/index.js';
import { INGRESS_GATEWAY, ISTIO_NAMESPACE, ingressGatewayServiceUrl } from '../shared/index.js';
import { buildPortForwardArgs } from '../shared/index.js';
import { planStack } from '../shared/index.js';
import type { TargetPlan } from '../target.js';
import { type ExistingSettings, readExistingSettings } from './existing-settings.js';
import { decideFaultsFor } from './existing-target.js';
import { kubeconfigPathsOf, writePinnedKubeconfig } from './kubeconfig-copy.js';
import { type MeshPresence, checkMeshPresence, loadBalancerUrlOf } from './presence.js';

const INSTALL_EFFECT: Record<string, string> = {
  istio: 'Istio installed or upgraded in istio-system (istioctl install / helm upgrade --install)',
  prometheus: 'Prometheus with meshdrill rules in meshdrill-system (stays after the run)',
  'chaos-mesh':
    'Chaos Mesh installed or upgraded (helm release chaos-mesh: a privileged daemon on every node)',
  'k6-operator': 'k6-operator installed or upgraded (helm release k6-operator)',
};

export async function planExisting(
  settingsRecord: Record<string, string>,
  options: {
    istioVersion?: string;
    ruleFiles: string[];
    needs?: { chaosMesh: boolean };
    hostOverrides?: Partial<Host>;
  },
): Promise<TargetPlan> {
  const host = resolveHost(options.hostOverrides);
  const settings = readExistingSettings(settingsRecord, options.istioVersion);
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-plan-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const title = `target existing (context "${settings.context}"; $WORK is the run's temp directory)`;
  const steps: PlanStep[] = [];
  const blastRadius: PlanSection['blastRadius'] = [];
  const done = (): TargetPlan => ({ sections: [{ title, steps, blastRadius }], dispose });

  const kube = await readOnlyClient(host, settings, dir);
  steps.push({
    step: 'note',
    text: `a one-context copy of "${settings.context}" in $WORK/kubeconfig; your kubeconfig is only read`,
  });
  const decision = await decideFaultsFor(host, settings);
  steps.push({ step: 'note', text: decision.reason });
  const { install } = settings;
  if (install.size > 0 && !decision.allowed) {
    steps.push({
      step: 'note',
      text: `the run would stop here: install=${[...install].join(',')} is refused on a context not allowed for drills`,
    });
    return done();
  }
  steps.push(...(await planInstalls(host, settings, options.ruleFiles, blastRadius)));
  const presence = await checkMeshPresence(kube, {
    ...(settings.prometheusUrl ? { prometheusUrl: settings.prometheusUrl } : {}),
    need: {
      istio: !install.has('istio'),
      prometheus: !install.has('prometheus'),
      chaosMesh: !install.has('chaos-mesh') && (options.needs?.chaosMesh ?? true),
    },
  });
  if (presence.missing.length > 0) {
    steps.push({
      step: 'note',
      text: `the run would stop here — the cluster lacks: ${presence.missing.join('; ')}`,
    });
    return { ...done(), kube };
  }
  steps.push(...planPortForwards(settings, presence));
  steps.push({ step: 'note', text: notificationNote(settings) });
  const { k6 } = settings.stack;
  return {
    ...done(),
    kube,
    ...(k6.mode === 'in-cluster'
      ? { inClusterLoad: { baseUrl: ingressGatewayServiceUrl(presence.ingressGateway), runners: k6.runners } }
      : {}),
  };
}

/** How `notification` signals would be judged: the plan reads no Alertmanager, the run only reads one. */
function notificationNote(settings: ExistingSettings): string {
  return settings.alertmanagerUrl
    ? `notification signals judged from the routing of your Alertmanager at ${settings.alertmanagerUrl} (read: GET /api/v2/status, /api/v2/alerts; nothing sent, delivery not observed)`
    : 'notification signals left out: no alertmanager= names an Alertmanager to read';
}

/** Where the plan's commands find the kubeconfig the run would write. */
const PLANNED_KUBECONFIG = '$WORK/kubeconfig';

/** A client of the context through a pinned copy of the kubeconfig in `dir`: the plan only reads the cluster. */
async function readOnlyClient(host: Host, settings: ExistingSettings, dir: string): Promise<KubeClient> {
  const localKubeconfig = join(dir, 'kubeconfig');
  await writePinnedKubeconfig(
    kubeconfigPathsOf(settings.kubeconfig, host.env, host.homeDir),
    settings.context,
    localKubeconfig,
  );
  return host.createKubeClient(localKubeconfig);
}

/** The steps of what `install=` asks for, each part also named in the blast radius. */
async function planInstalls(
  host: Host,
  settings: ExistingSettings,
  ruleFiles: string[],
  blastRadius: PlanSection['blastRadius'],
): Promise<PlanStep[]> {
  const { install } = settings;
  const steps = await planStack(
    { host, kubeconfigPath: PLANNED_KUBECONFIG, workDir: '$WORK', cacheDir: cacheDirOf(host), ruleFiles },
    settings.stack,
    install,
  );
  for (const part of install) {
    blastRadius.push({
      object: part,
      change: INSTALL_EFFECT[part] ?? `${part} installed`,
      exists: 'unknown',
    });
  }
  return steps;
}

/** The port-forwards to Prometheus and the gateway where no URL reaches them (pure). */
function planPortForwards(settings: ExistingSettings, presence: MeshPresence): PlanStep[] {
  const steps: PlanStep[] = [];
  const kubeconfigPath = PLANNED_KUBECONFIG;
  if (!settings.prometheusUrl && !settings.install.has('prometheus') && presence.prometheus) {
    const p = presence.prometheus;
    const args = buildPortForwardArgs(
      { kubeconfigPath, namespace: p.namespace, resource: `svc/${p.name}`, remotePort: p.port },
      0,
    );
    steps.push({
      step: 'command',
      command: `kubectl ${args.join(' ')}`,
      purpose: 'reaches your Prometheus (a free local port)',
    });
  }
  if (!settings.ingressUrl && !loadBalancerUrlOf(presence.ingressGateway)) {
    const args = buildPortForwardArgs(
      { kubeconfigPath, namespace: ISTIO_NAMESPACE, resource: `svc/${INGRESS_GATEWAY}`, remotePort: 80 },
      0,
    );
    steps.push({
      step: 'command',
      command: `kubectl ${args.join(' ')}`,
      purpose: 'reaches the ingress gateway (a free local port)',
    });
  }
  return steps;
}
