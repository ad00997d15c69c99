// `meshdrill run --dry-run --target kind`: the commands and manifests provisioning would run and apply, in order,
// from the same builders. Read-only questions are asked for real (which tools answer, which clusters exist, a
// reusable cluster's state); nothing is created, loaded, installed or deleted.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { PlanSection, PlanStep } from '../../harness/model/index.js';
import { type Host, cacheDirOf, resolveHost } from '../shared/index.js';
import { buildPreloadCommands, nodePlatform } from '../shared/index.js';
import { ingressGatewayServiceUrl } from '../shared/index.js';
import { describeMissing, findPrerequisites } from '../shared/index.js';
import type { StackPart } from '../shared/index.js';
import { planStack } from '../shared/index.js';
import { createToolRunner, type ToolRunner } from '../shared/index.js';
import type { TargetPlan } from '../target.js';
import type { KubeClient } from '../../harness/kube/index.js';
import { buildKindConfig, buildKindCreateArgs, parseKindClusters } from './kind-config.js';
import { buildNetworkInspectArgs, kindNetworkOf } from './kind-network.js';
import { type KindSettings, readKindSettings } from './kind-settings.js';
import { buildKindRequirements } from './kind-target.js';
import { judgeReuse, readReuseFacts } from './reuse-check.js';

export async function planKind(
  settingsRecord: Record<string, string>,
  options: { istioVersion?: string; ruleFiles: string[]; hostOverrides?: Partial<Host> },
): Promise<TargetPlan> {
  const host = resolveHost(options.hostOverrides);
  const settings = readKindSettings(settingsRecord, options.istioVersion);
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-plan-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const steps: PlanStep[] = [];

  const prerequisites = await findPrerequisites(
    await buildKindRequirements(settings, cacheDirOf(host)),
    createToolRunner(host),
  );
  if (prerequisites.missing.length > 0) {
    steps.push({ step: 'note', text: `the run would stop here — ${describeMissing(prerequisites.missing)}` });
    return { sections: [{ title: 'target kind', steps, blastRadius: [] }], dispose };
  }
  const plan = await startKindPlan(host, settings, prerequisites.chosen.runtime, dir, steps);
  const { name } = plan;
  let kube: KubeClient | undefined;
  if (plan.exists) {
    if (!settings.reuse) {
      steps.push({
        step: 'note',
        text: `the run would stop here: a kind cluster named "${name}" exists and reuse=false`,
      });
      return {
        sections: [{ title: `target kind (cluster "${name}")`, steps, blastRadius: plan.blastRadius }],
        dispose,
      };
    }
    kube = await planReuse(plan);
  } else {
    planCreate(plan);
  }
  await planClusterSetup(plan, options.ruleFiles);
  return finishKindPlan(plan, kube, dispose);
}

/** What the plan's steps are written from, once the container runtime and the cluster's existence are known. */
interface KindPlan {
  host: Host;
  settings: KindSettings;
  name: string;
  runtime: 'docker' | 'podman';
  /** Prefix of every `kind` command (podman needs kind's provider variable). */
  provider: string;
  /** Read-only tool calls, asked for real. */
  reads: ToolRunner;
  exists: boolean;
  /** A local directory for what the read-only questions need (the reused cluster's kubeconfig). */
  dir: string;
  work: string;
  scratch: string;
  kubeconfigPath: string;
  steps: PlanStep[];
  blastRadius: PlanSection['blastRadius'];
}

async function startKindPlan(
  host: Host,
  settings: KindSettings,
  chosenRuntime: string | undefined,
  dir: string,
  steps: PlanStep[],
): Promise<KindPlan> {
  const work = '$WORK';
  const name = settings.cluster.name;
  const runtime = chosenRuntime === 'podman' ? 'podman' : 'docker';
  const reads = createToolRunner(
    host,
    runtime === 'podman' ? { env: { KIND_EXPERIMENTAL_PROVIDER: 'podman' } } : {},
  );
  const exists = parseKindClusters((await reads.run('kind', ['get', 'clusters'])).stdout).includes(name);
  return {
    host,
    settings,
    name,
    runtime,
    provider: runtime === 'podman' ? 'KIND_EXPERIMENTAL_PROVIDER=podman ' : '',
    reads,
    exists,
    dir,
    work,
    scratch: join(work, 'kind-scratch.kubeconfig'),
    kubeconfigPath: join(work, 'kubeconfig'),
    steps,
    blastRadius: [],
  };
}

/** Checks (for real, read-only) whether the existing cluster can be reused; resolves with a client of it. */
async function planReuse(plan: KindPlan): Promise<KubeClient> {
  const { name, settings, reads } = plan;
  const localKubeconfig = join(plan.dir, 'kubeconfig');
  await writeFile(
    localKubeconfig,
    (await reads.runChecked('kind', ['get', 'kubeconfig', '--name', name])).stdout,
    { mode: 0o600 },
  );
  const kube = plan.host.createKubeClient(localKubeconfig);
  const expected = {
    name,
    nodeImage: settings.cluster.nodeImage,
    ingressNodePort: settings.cluster.ingressNodePort,
    ingressHostPort: settings.cluster.ingressHostPort,
  };
  const problems = judgeReuse(await readReuseFacts(reads, plan.runtime, kube, expected), expected);
  plan.steps.push({
    step: 'note',
    text:
      problems.length === 0
        ? `cluster "${name}" exists and would be reused (node image, ingress mapping and leftovers checked); it is never deleted`
        : `the run would stop here: cluster "${name}" cannot be reused — ${problems.map((p) => `${p.problem} (fix: ${p.fix})`).join('; ')}`,
  });
  plan.blastRadius.push({
    object: `kind cluster "${name}"`,
    change:
      'Istio, Prometheus and the add-ons installed or upgraded over it (istioctl install / helm upgrade --install)',
    exists: true,
  });
  return kube;
}

function planCreate(plan: KindPlan): void {
  const configFile = join(plan.work, 'kind-config.yaml');
  plan.steps.push(
    { step: 'note', text: `${configFile}:\n${stringify(buildKindConfig(plan.settings.cluster))}` },
    {
      step: 'command',
      command: `${plan.provider}kind ${buildKindCreateArgs(plan.name, configFile, plan.scratch).join(' ')}`,
      purpose: 'creates the cluster (deleted at teardown unless keep=true)',
    },
  );
}

/** The kubeconfig, image preloads, the stack, and the cluster's deletion where the run created it. */
async function planClusterSetup(plan: KindPlan, ruleFiles: string[]): Promise<void> {
  const { host, settings, provider, name, steps, kubeconfigPath } = plan;
  steps.push({
    step: 'command',
    command: `${provider}kind get kubeconfig --name ${name}`,
    purpose: `written to ${kubeconfigPath}`,
  });
  if (settings.preloadImages) planPreloads(plan);
  const parts = new Set<StackPart>(['istio', 'prometheus']);
  if (settings.stack.chaosMesh.enabled) parts.add('chaos-mesh');
  if (settings.stack.k6Operator.enabled) parts.add('k6-operator');
  const network = kindNetworkOf(host.env);
  steps.push({
    step: 'command',
    command: `${plan.runtime} ${buildNetworkInspectArgs(network).join(' ')}`,
    purpose: `finds the ${network} network's gateway: meshdrill's notification receiver listens there (a free port), where the Alertmanager pod reaches it; where this machine cannot listen there, the Alertmanager below is not installed and notification signals are left out`,
  });
  steps.push(
    ...(await planStack(
      {
        host,
        kubeconfigPath,
        workDir: plan.work,
        cacheDir: cacheDirOf(host),
        ruleFiles,
        // The receiver's address is known only once it listens: the plan names where.
        alertmanager: { webhookBaseUrl: 'http://$NETWORK_GATEWAY:$RECEIVER_PORT' },
      },
      settings.stack,
      parts,
    )),
  );
  if (!plan.exists && !settings.keep) {
    steps.push({
      step: 'command',
      command: `${provider}kind delete cluster --name ${name} --kubeconfig ${plan.scratch}`,
      purpose: 'teardown',
    });
  }
}

function planPreloads(plan: KindPlan): void {
  const { provider, steps } = plan;
  for (const image of plan.settings.images) {
    const preload = buildPreloadCommands(
      plan.runtime,
      image,
      plan.name,
      plan.work,
      nodePlatform(plan.host.arch),
    );
    for (const c of [preload.pull, ...preload.load]) {
      steps.push({
        step: 'command',
        command: `${c.tool === 'kind' ? provider : ''}${c.tool} ${c.args.join(' ')}`,
        purpose: `preloads ${image}`,
      });
    }
    if (preload.fallbackLoad.length > 0) {
      steps.push({
        step: 'note',
        text: `if that load fails (containerd image store): ${preload.fallbackLoad.map((c) => `${c.tool} ${c.args.join(' ')}`).join(' && ')}`,
      });
    }
  }
}

function finishKindPlan(
  plan: KindPlan,
  kube: KubeClient | undefined,
  dispose: () => Promise<void>,
): TargetPlan {
  const { k6 } = plan.settings.stack;
  return {
    sections: [
      {
        title: `target kind (cluster "${plan.name}", ${plan.exists ? 'reused' : 'created'}; $WORK is the run's temp directory)`,
        steps: plan.steps,
        blastRadius: plan.blastRadius,
      },
    ],
    ...(kube ? { kube } : {}),
    ...(k6.mode === 'in-cluster'
      ? { inClusterLoad: { baseUrl: ingressGatewayServiceUrl(), runners: k6.runners } }
      : {}),
    dispose,
  };
}
