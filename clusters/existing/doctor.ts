// `meshdrill doctor --target existing`: the context, the API server, what drills need on the cluster (istiod, the
// ingress gateway, Prometheus, Chaos Mesh), whether faults are allowed there, the tools `install=` needs, and the
// Alertmanager `alertmanager=` names — each checked as provisioning would meet it; nothing is installed, applied,
// changed or sent.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshdrillError } from '../../harness/model/index.js';
import type { DoctorCheck } from '../shared/index.js';
import { type Host, resolveHost } from '../shared/index.js';
import { findPrerequisites, installHintOf } from '../shared/index.js';
import { createToolRunner } from '../shared/index.js';
import { readUserAlertmanager } from './alertmanager.js';
import { type ExistingSettings, readExistingSettings } from './existing-settings.js';
import { allowListPathOf, decideFaultsFor, existingRequirements } from './existing-target.js';
import { kubeconfigPathsOf, writePinnedKubeconfig } from './kubeconfig-copy.js';
import { checkMeshPresence } from './presence.js';

const failOf = (check: string, error: unknown): DoctorCheck => ({
  status: 'fail',
  check,
  detail: error instanceof Error ? error.message : String(error),
  ...(error instanceof MeshdrillError && error.hint ? { fix: error.hint } : {}),
});

async function checkTools(settings: ExistingSettings, host: Host): Promise<DoctorCheck[]> {
  const runner = createToolRunner(host);
  const requirements = existingRequirements(settings);
  const report = await findPrerequisites(requirements, runner);
  return requirements.map((requirement): DoctorCheck => {
    const tool = report.chosen[requirement.anyOf[0] as string];
    return tool
      ? { status: 'ok', check: tool, detail: requirement.purpose }
      : {
          status: 'fail',
          check: requirement.anyOf.join(' or '),
          detail: `not found on PATH (${requirement.purpose})`,
          fix: requirement.anyOf.map(installHintOf).join('; or '),
        };
  });
}

async function checkCluster(settings: ExistingSettings, host: Host): Promise<DoctorCheck[]> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-doctor-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    try {
      await writePinnedKubeconfig(
        kubeconfigPathsOf(settings.kubeconfig, host.env, host.homeDir),
        settings.context,
        kubeconfig,
      );
    } catch (error) {
      return [failOf(`context "${settings.context}"`, error)];
    }
    const kube = host.createKubeClient(kubeconfig);
    const checks: DoctorCheck[] = [];
    try {
      checks.push({ status: 'ok', check: 'API server', detail: `Kubernetes ${await kube.serverVersion()}` });
    } catch (error) {
      return [failOf('API server', error)];
    }
    const presence = await checkMeshPresence(kube, {
      ...(settings.prometheusUrl ? { prometheusUrl: settings.prometheusUrl } : {}),
      need: {
        istio: !settings.install.has('istio'),
        prometheus: !settings.install.has('prometheus'),
        chaosMesh: !settings.install.has('chaos-mesh'),
      },
    });
    for (const missing of presence.missing) {
      const [what, fix] = missing.split(' — ');
      checks.push({
        status: 'fail',
        check: 'on the cluster',
        detail: what ?? missing,
        ...(fix ? { fix } : {}),
      });
    }
    if (presence.missing.length === 0) {
      checks.push({
        status: 'ok',
        check: 'on the cluster',
        detail: 'istiod, the ingress gateway, Prometheus and Chaos Mesh (or install= for them)',
      });
    }
    return checks;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function checkFaults(settings: ExistingSettings, host: Host): Promise<DoctorCheck> {
  const decision = await decideFaultsFor(host, settings);
  if (decision.allowed) return { status: 'ok', check: 'faults', detail: decision.reason };
  return {
    status: settings.install.size > 0 ? 'fail' : 'warn',
    check: 'faults',
    detail: `not allowed: drills that inject faults and install= are refused on context "${settings.context}"`,
    fix: `--target-opt allow-faults=${settings.context}, or add "${settings.context}" to ${allowListPathOf(host)}`,
  };
}

/** How notification signals would be judged: from the named Alertmanager's routing (read now), or not at all. */
async function checkAlertmanager(settings: ExistingSettings): Promise<DoctorCheck> {
  if (!settings.alertmanagerUrl) {
    return {
      status: 'warn',
      check: 'Alertmanager',
      detail: "none named: drills' notification signals will be left out",
      fix: '--target-opt alertmanager=URL (your Alertmanager, read only) judges them from its routing',
    };
  }
  try {
    const am = await readUserAlertmanager(settings.alertmanagerUrl, 10_000);
    const silent =
      am.silentReceivers.length > 0
        ? `; receivers without integration: ${am.silentReceivers.join(', ')}`
        : '';
    return {
      status: 'ok',
      check: 'Alertmanager',
      detail: `${am.version} at ${am.url}: routing delay up to ${am.routingDelayMs / 1000}s${silent} (delivery not observed)`,
    };
  } catch (error) {
    return failOf('Alertmanager', error);
  }
}

export async function diagnoseExisting(
  settingsRecord: Record<string, string>,
  hostOverrides: Partial<Host> = {},
): Promise<DoctorCheck[]> {
  const host = resolveHost(hostOverrides);
  let settings: ExistingSettings;
  try {
    settings = readExistingSettings(settingsRecord, undefined);
  } catch (error) {
    return [failOf('settings', error)];
  }
  return [
    ...(await checkTools(settings, host)),
    ...(await checkCluster(settings, host)),
    await checkFaults(settings, host),
    await checkAlertmanager(settings),
  ];
}
