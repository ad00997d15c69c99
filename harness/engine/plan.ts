// The scenarios' part of a plan (`meshdrill run --dry-run`): per drill, what the deploy applies, what the fault
// does, what each variant's runbook runs, and the blast radius — every object outside the drill's own namespace it
// would create or change, with whether it exists now (read from the cluster when one is reachable; nothing is
// written).

import { describeScript, sharedPodSelection } from '../faults/index.js';
import { type KubeClient, describeObject, keyOf } from '../kube/index.js';
import type { KubeAction, KubeObject, ObjectRef, ResolvedScenario } from '../model/index.js';
import type { BlastRadiusEntry, PlanSection, PlanStep } from '../model/index.js';
import { drillTestRunOptions, type InClusterLoad, planK6ClusterRun } from '../load/index.js';
import { describeStep } from '../runbook/index.js';
import { formatDuration } from '../util/duration.js';
import { buildNamespace, buildWorkload } from './deploy.js';

/** The run id as plans show it: labels and names that carry it read `<run-id>`. */
const PLAN_RUN_ID = '<run-id>';

interface Touch {
  object: string;
  namespace: string | undefined;
  change: string;
  exists: () => Promise<boolean>;
}

function refName(ref: ObjectRef, defaultNamespace: string): { name: string; namespace: string | undefined } {
  const namespace = ref.namespace ?? defaultNamespace;
  const what = ref.name ?? `(${ref.labelSelector ?? 'all'})`;
  return { name: `${ref.kind} ${namespace}/${what}`, namespace };
}

/** Whether anything the reference names exists now (read from the cluster; throws without one). */
async function refExists(
  ref: ObjectRef,
  defaultNamespace: string,
  kube: KubeClient | undefined,
): Promise<boolean> {
  if (!kube) throw new Error('no cluster');
  const found = await kube.list(ref.apiVersion, ref.kind, {
    namespace: ref.namespace ?? defaultNamespace,
    ...(ref.name ? { fieldSelector: `metadata.name=${ref.name}` } : {}),
    ...(ref.labelSelector ? { labelSelector: ref.labelSelector } : {}),
  });
  return found.length > 0;
}

function actionStep(
  action: KubeAction,
  scenario: ResolvedScenario,
  purpose: string,
  kube: KubeClient | undefined,
): { step: PlanStep; touch: Touch } {
  if (action.action === 'apply') {
    const object = action.manifest.metadata.namespace
      ? action.manifest
      : { ...action.manifest, metadata: { ...action.manifest.metadata, namespace: scenario.namespace } };
    return {
      step: { step: 'apply', object, purpose },
      touch: touchOf(object, 'applied (created, or changed and restored after)', kube),
    };
  }
  if (action.action === 'command') {
    const undo = action.undo
      ? `; undone at cleanup by ${describeScript(action.undo)}`
      : '; nothing undoes it';
    const what = purpose.startsWith('workload setup') ? 'workload setup' : purpose;
    return {
      step: {
        step: 'action',
        action: `command ${describeScript(action.run)}`,
        object: 'the shell',
        purpose: what,
      },
      // What a script changes is its own business: the plan can only show it and its undo.
      touch: {
        object: 'shell command',
        namespace: undefined,
        change: `${describeScript(action.run)}${undo}`,
        exists: async () => false,
      },
    };
  }
  const { name, namespace } = refName(action.target, scenario.namespace);
  const detail =
    action.action === 'scale'
      ? `scale to ${action.replicas}`
      : action.action === 'patch'
        ? `${action.patchType} patch ${JSON.stringify(action.patch)}`
        : action.action;
  const exists = () => refExists(action.target, scenario.namespace, kube);
  const undo = action.action === 'scale' || action.action === 'patch' ? ' (restored after)' : '';
  return {
    step: { step: 'action', action: detail, object: name, purpose },
    touch: { object: name, namespace, change: `${detail}${undo}`, exists },
  };
}

function touchOf(object: KubeObject, change: string, kube: KubeClient | undefined): Touch {
  const key = keyOf(object);
  return {
    object: describeObject(key),
    namespace: key.namespace,
    change,
    exists: async () => {
      if (!kube) throw new Error('no cluster');
      return (await kube.get(key)) !== undefined;
    },
  };
}

function faultSteps(
  scenario: ResolvedScenario,
  kube: KubeClient | undefined,
): { steps: PlanStep[]; touches: Touch[] } {
  const fault = scenario.fault;
  const purpose = `the fault (${fault.kind}); removed at cleanup`;
  if (fault.kind === 'chaos-mesh' || fault.kind === 'istio') {
    const object = fault.manifest.metadata.namespace
      ? fault.manifest
      : { ...fault.manifest, metadata: { ...fault.manifest.metadata, namespace: scenario.namespace } };
    const touches = [touchOf(object, `the fault (${fault.kind}), removed after`, kube)];
    const shared = fault.kind === 'chaos-mesh' ? sharedPodSelection(object, scenario.namespace) : undefined;
    for (const namespace of shared?.namespaces ?? []) {
      const labelSelector = shared?.labelSelector ?? '';
      const action = (object.spec as { action?: string } | undefined)?.action ?? object.kind;
      touches.push({
        object: `Pods ${namespace}/(${labelSelector})`,
        namespace,
        change: `${object.kind} ${action} while the fault lasts; cleanup waits until they are Ready again`,
        exists: async () => {
          if (!kube) throw new Error('no cluster');
          return (await kube.list('v1', 'Pod', { namespace, labelSelector })).length > 0;
        },
      });
    }
    return { steps: [{ step: 'apply', object, purpose }], touches };
  }
  if (fault.kind === 'kubernetes') {
    const planned = fault.steps.map((a) => actionStep(a, scenario, purpose, kube));
    return { steps: planned.map((p) => p.step), touches: planned.map((p) => p.touch) };
  }
  const secret = refName(fault.secret, scenario.namespace);
  const steps: PlanStep[] = [
    {
      step: 'note',
      text: `waits (up to ${Math.round(fault.maxWaitMs / 1000)} s) until ${secret.name}'s intermediate expires`,
    },
    {
      step: 'action',
      action: 'delete at cleanup',
      object: secret.name,
      purpose: 'back to the mesh’s own CA',
    },
    ...fault.restart.map(
      (r): PlanStep => ({
        step: 'action',
        action: 'rollout-restart at cleanup',
        object: refName(r, scenario.namespace).name,
        purpose: 'onto the mesh’s own CA',
      }),
    ),
  ];
  const touches = fault.restart.map((r) => ({
    ...refName(r, scenario.namespace),
    object: refName(r, scenario.namespace).name,
    change: 'restarted at cleanup',
    exists: () => refExists(r, scenario.namespace, kube),
  }));
  return { steps, touches };
}

/** Each variant's runbook as it will run: the steps bound when the scenario was loaded. */
function runbookSteps(scenario: ResolvedScenario): PlanStep[] {
  const steps: PlanStep[] = [];
  for (const variant of scenario.variants) {
    if (!variant.runbook) {
      steps.push({
        step: 'note',
        text: `variant ${variant.name} (${variant.expect}): empty runbook — nothing is run`,
      });
      continue;
    }
    const bound = variant.runbook.steps;
    steps.push({
      step: 'note',
      text: `variant ${variant.name} (${variant.expect}): runbook ${variant.runbook.path}, ${bound.length} step(s)`,
    });
    for (const step of bound) {
      steps.push({
        step: 'command',
        command: describeStep(step),
        purpose: `runbook step ${step.index + 1}: ${step.title}`,
      });
    }
  }
  steps.push(...recoverySteps(scenario.recovery.conditions, ''));
  for (const variant of scenario.variants) {
    if (variant.ownRecovery === undefined) continue;
    const { conditions, budgetMs, verifyMs } = variant.ownRecovery.recovery;
    steps.push({
      step: 'note',
      text: `variant ${variant.name} is judged against its own recovery: ${conditions.map((c) => c.name).join(', ') || 'no conditions'} (budget ${formatDuration(budgetMs)}, verify ${formatDuration(verifyMs)})`,
    });
    steps.push(...recoverySteps(conditions, ` of variant ${variant.name}`));
  }
  return steps;
}

/** The recovery conditions that run a command, as the plan lists them. */
function recoverySteps(conditions: ResolvedScenario['recovery']['conditions'], of: string): PlanStep[] {
  return conditions.flatMap((condition): PlanStep[] =>
    condition.kind === 'command'
      ? [
          {
            step: 'command',
            command: condition.run,
            purpose: `recovery condition ${condition.name}${of} (polled, read-only by intent)`,
          },
        ]
      : [],
  );
}

async function blastRadiusOf(
  scenario: ResolvedScenario,
  touches: readonly Touch[],
  kube: KubeClient | undefined,
): Promise<BlastRadiusEntry[]> {
  const outside = touches.filter((t) => t.namespace !== scenario.namespace);
  const entries: BlastRadiusEntry[] = [];
  for (const touch of outside) {
    let exists: BlastRadiusEntry['exists'] = 'unknown';
    if (kube) exists = await touch.exists().catch((): 'unknown' => 'unknown');
    entries.push({ object: touch.object, change: touch.change, exists });
  }
  return entries;
}

/** One section per scenario; `kube` reads the cluster for the blast radius (undefined: existence unknown). */
/** How the drills' load runs: the CLI's `--load-driver` and where the target runs k6 (`k6-mode=in-cluster`). */
export interface LoadPlanOptions {
  driverOverride?: 'builtin' | 'k6';
  inCluster?: InClusterLoad;
}

/** The k6 TestRun a drill would apply for its load when k6 runs in the cluster; none otherwise. */
function loadSteps(scenario: ResolvedScenario, load: LoadPlanOptions): PlanStep[] {
  const driver = load.driverOverride ?? scenario.load.driver;
  if (driver !== 'k6' || load.inCluster === undefined) return [];
  const options = drillTestRunOptions(
    PLAN_RUN_ID,
    { scenario: scenario.name, namespace: scenario.namespace },
    load.inCluster,
  );
  const plan = planK6ClusterRun({ ...options, slos: scenario.slos }, scenario.load, load.inCluster.baseUrl);
  return plan.objects.map((object) => ({
    step: 'apply' as const,
    object,
    purpose: `the load: k6 as a k6-operator TestRun of ${load.inCluster?.runners} runner pod(s) aimed at ${load.inCluster?.baseUrl}; deleted when the load stops`,
  }));
}

export async function planScenarios(
  scenarios: readonly ResolvedScenario[],
  kube: KubeClient | undefined,
  load: LoadPlanOptions = {},
): Promise<PlanSection[]> {
  const sections: PlanSection[] = [];
  for (const scenario of scenarios) {
    const steps: PlanStep[] = [
      {
        step: 'apply',
        object: buildNamespace(scenario, PLAN_RUN_ID),
        purpose:
          'the drill’s namespace (refused if it exists and meshdrill did not create it); deleted at cleanup',
      },
    ];
    const touches: Touch[] = [];
    for (const generated of scenario.workload.generate ?? []) {
      const object = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: generated.name, namespace: generated.namespace },
      };
      touches.push(
        touchOf(object, `generated (${generated.generate}) at each deploy, deleted at cleanup`, kube),
      );
      steps.push({
        step: 'note',
        text: `generates Secret ${generated.namespace}/${generated.name} (${generated.generate}) at each deploy; removed at cleanup`,
      });
    }
    for (const object of buildWorkload(scenario, PLAN_RUN_ID)) {
      steps.push({ step: 'apply', object, purpose: 'the workload' });
      touches.push(touchOf(object, 'created by the drill, deleted at cleanup', kube));
    }
    for (const action of scenario.workload.setup ?? []) {
      const planned = actionStep(action, scenario, 'workload setup (run again at cleanup)', kube);
      steps.push(planned.step);
      touches.push(planned.touch);
    }
    steps.push(...loadSteps(scenario, load));
    const fault = faultSteps(scenario, kube);
    steps.push(...fault.steps, ...runbookSteps(scenario));
    touches.push(...fault.touches);
    sections.push({
      title: `drill ${scenario.name} (${scenario.file}; ${scenario.variants.length} variant(s), isolation ${scenario.isolation})`,
      steps,
      blastRadius: await blastRadiusOf(scenario, touches, kube),
    });
  }
  return sections;
}
