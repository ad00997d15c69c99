// `meshdrill run --dry-run --target kind`: the commands and manifests provisioning would run and apply, in order,
// from the same builders. Read-only questions are asked for real (which tools answer, which clusters exist, a
// reusable cluster's state); nothing is created, loaded, installed or deleted.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { PlanSection, PlanStep } from '../../harness/model/plan.js';
import { type Host, cacheDirOf, resolveHost } from '../shared/host.js';
import { buildPreloadCommands, nodePlatform } from '../shared/images.js';
import { ingressGatewayServiceUrl } from '../shared/istio/config.js';
import { describeMissing, findPrerequisites } from '../shared/prerequisites.js';
import type { StackPart } from '../shared/stack.js';
import { planStack } from '../shared/stack-plan.js';
import { createToolRunner } from '../shared/tool-runner.js';
import type { TargetPlan } from '../target.js';
import type { KubeClient } from '../../harness/kube/index.js';
import { buildKindConfig, buildKindCreateArgs, parseKindClusters } from './kind-config.js';
import { readKindSettings } from './kind-settings.js';
import { buildKindRequirements } from './kind-target.js';
import { judgeReuse, readReuseFacts } from './reuse-check.js';

export async function planKind(
  settingsRecord: Record<string, string>,
  options: { istioVersion?: string; ruleFiles: string[]; hostOverrides?: Partial<Host> },
): Promise<TargetPlan> {
  const host = resolveHost(options.hostOverrides);
  const settings = readKindSettings(settingsRecord, options.istioVersion);
  const runner = createToolRunner(host);
  const work = '$WORK';
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-plan-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const steps: PlanStep[] = [];
  const name = settings.cluster.name;

  const prerequisites = await findPrerequisites(
    await buildKindRequirements(settings, cacheDirOf(host)),
    runner,
  );
  if (prerequisites.missing.length > 0) {
    steps.push({ step: 'note', text: `the run would stop here — ${describeMissing(prerequisites.missing)}` });
    return { sections: [{ title: 'target kind', steps, blastRadius: [] }], dispose };
  }
  const runtime = prerequisites.chosen.runtime === 'podman' ? 'podman' : 'docker';
  const provider = runtime === 'podman' ? 'KIND_EXPERIMENTAL_PROVIDER=podman ' : '';
  const reads = createToolRunner(
    host,
    runtime === 'podman' ? { env: { KIND_EXPERIMENTAL_PROVIDER: 'podman' } } : {},
  );
  const exists = parseKindClusters((await reads.run('kind', ['get', 'clusters'])).stdout).includes(name);
  const scratch = join(work, 'kind-scratch.kubeconfig');
  const kubeconfigPath = join(work, 'kubeconfig');
  let kube: KubeClient | undefined;
  const blastRadius: PlanSection['blastRadius'] = [];

  if (exists) {
    if (!settings.reuse) {
      steps.push({
        step: 'note',
        text: `the run would stop here: a kind cluster named "${name}" exists and reuse=false`,
      });
      return { sections: [{ title: `target kind (cluster "${name}")`, steps, blastRadius }], dispose };
    }
    const localKubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      localKubeconfig,
      (await reads.runChecked('kind', ['get', 'kubeconfig', '--name', name])).stdout,
      { mode: 0o600 },
    );
    kube = host.createKubeClient(localKubeconfig);
    const expected = {
      name,
      nodeImage: settings.cluster.nodeImage,
      ingressNodePort: settings.cluster.ingressNodePort,
      ingressHostPort: settings.cluster.ingressHostPort,
    };
    const problems = judgeReuse(await readReuseFacts(reads, runtime, kube, expected), expected);
    steps.push({
      step: 'note',
      text:
        problems.length === 0
          ? `cluster "${name}" exists and would be reused (node image, ingress mapping and leftovers checked); it is never deleted`
          : `the run would stop here: cluster "${name}" cannot be reused — ${problems.map((p) => `${p.problem} (fix: ${p.fix})`).join('; ')}`,
    });
    blastRadius.push({
      object: `kind cluster "${name}"`,
      change:
        'Istio, Prometheus and the add-ons installed or upgraded over it (istioctl install / helm upgrade --install)',
      exists: true,
    });
  } else {
    const configFile = join(work, 'kind-config.yaml');
    steps.push(
      { step: 'note', text: `${configFile}:\n${stringify(buildKindConfig(settings.cluster))}` },
      {
        step: 'command',
        command: `${provider}kind ${buildKindCreateArgs(name, configFile, scratch).join(' ')}`,
        purpose: 'creates the cluster (deleted at teardown unless keep=true)',
      },
    );
  }
  steps.push({
    step: 'command',
    command: `${provider}kind get kubeconfig --name ${name}`,
    purpose: `written to ${kubeconfigPath}`,
  });
  if (settings.preloadImages) {
    for (const image of settings.images) {
      const plan = buildPreloadCommands(runtime, image, name, work, nodePlatform(host.arch));
      for (const c of [plan.pull, ...plan.load]) {
        steps.push({
          step: 'command',
          command: `${c.tool === 'kind' ? provider : ''}${c.tool} ${c.args.join(' ')}`,
          purpose: `preloads ${image}`,
        });
      }
      if (plan.fallbackLoad.length > 0) {
        steps.push({
          step: 'note',
          text: `if that load fails (containerd image store): ${plan.fallbackLoad.map((c) => `${c.tool} ${c.args.join(' ')}`).join(' && ')}`,
        });
      }
    }
  }
  const parts = new Set<StackPart>(['istio', 'prometheus']);
  if (settings.stack.chaosMesh.enabled) parts.add('chaos-mesh');
  if (settings.stack.k6Operator.enabled) parts.add('k6-operator');
  steps.push(
    ...(await planStack(
      { host, kubeconfigPath, workDir: work, cacheDir: cacheDirOf(host), ruleFiles: options.ruleFiles },
      settings.stack,
      parts,
    )),
  );
  if (!exists && !settings.keep) {
    steps.push({
      step: 'command',
      command: `${provider}kind delete cluster --name ${name} --kubeconfig ${scratch}`,
      purpose: 'teardown',
    });
  }
  const { k6 } = settings.stack;
  return {
    sections: [
      {
        title: `target kind (cluster "${name}", ${exists ? 'reused' : 'created'}; $WORK is the run's temp directory)`,
        steps,
        blastRadius,
      },
    ],
    ...(kube ? { kube } : {}),
    ...(k6.mode === 'in-cluster'
      ? { inClusterLoad: { baseUrl: ingressGatewayServiceUrl(), runners: k6.runners } }
      : {}),
    dispose,
  };
}
