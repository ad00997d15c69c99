// ResolvedScenario: what the engine runs. Every field filled, every duration in milliseconds with the
// time scale already applied. Users write ScenarioSpec (harness/scenario/spec.ts); one function converts.

import type { KubeObject } from './kube-object.js';
import type { LoadProfile } from './load.js';

export const PHASES = [
  'provision',
  'deploy',
  'load',
  'steady-state',
  'inject',
  'efficacy',
  'detect',
  'remediate',
  'recover',
  'cleanup',
] as const;
export type PhaseName = (typeof PHASES)[number];

/** A parsed SLO threshold such as `success_rate >= 99.5%` or `p(95) < 300ms` (grammar: docs/scenario-format.md). */
export interface SloThreshold {
  /** The string as the user wrote it, for messages and reports. */
  source: string;
  metric: 'success_rate' | 'error_rate' | 'latency';
  /** For latency: the quantile in percent, e.g. 95 for p(95). */
  percentile?: number;
  op: '<' | '<=' | '>' | '>=';
  /** Rates as a ratio in [0, 1]; latency in milliseconds. */
  value: number;
}

/** Which objects a Kubernetes condition or action addresses. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
  labelSelector?: string;
}

/** A condition that becomes true or stays false: the common ground of signals and efficacy checks. */
export type ConditionSpec =
  /** True when the instant query returns at least one sample (write the comparison in PromQL). */
  | { kind: 'promql'; query: string }
  /**
   * True when Prometheus reports the alert firing (`ALERTS{alertname, alertstate="firing"}`) with every label of
   * `labels`: an alert shared by many services (a burn rate per destination) counts only for this drill's.
   */
  | { kind: 'alert'; alert: string; labels?: Record<string, string> }
  /**
   * True when Alertmanager has delivered a firing notification of the alert (every label of `labels` matching) to
   * `receiver` (any receiver when absent), for an alert episode that began during this drill: what the on-call
   * sees, after routing, grouping (group_wait) and inhibition. Its time-to-detect is the time of delivery.
   */
  | { kind: 'notification'; alert: string; labels?: Record<string, string>; receiver?: string }
  /** True when a line of the container's log matches the regular expression. */
  | { kind: 'log'; namespace: string; labelSelector: string; container: string; pattern: string }
  /** True when the field of the matched objects satisfies the comparison (`match` says for how many). */
  | {
      kind: 'kubernetes';
      resource: ObjectRef;
      field: string;
      op: '==' | '!=' | '>' | '>=' | '<' | '<=' | 'exists' | 'absent' | 'matches';
      value?: string | number;
      match: 'any' | 'all' | 'none';
    }
  /** True when an HTTP GET answers as expected (`url` absolute on 127.0.0.0/8, or a path on the ingress). */
  | { kind: 'http'; url: string; host?: string; expectStatus: number[]; bodyPattern?: string }
  /** True when a shell command (KUBECONFIG pinned to the target) exits as expected and its output matches. */
  | { kind: 'command'; run: string; expectExitCode: number | 'nonzero'; outputPattern?: string };

export type ConditionKind = ConditionSpec['kind'];

/** A detection signal: a condition that must become true within its budget after injection. */
export type SignalSpec = ConditionSpec & {
  name: string;
  withinMs: number;
  /** Measured and reported, never judged: its assertions are informational. */
  informational?: boolean;
  /** Poll interval while waiting. */
  pollMs: number;
};

/** A fault-efficacy check: proof that the fault bit (OOMKilled seen, istiod has 0 ready pods…). */
export type EfficacyCheck = ConditionSpec & { name: string; withinMs: number; pollMs: number };

/**
 * A recovery condition: besides the SLOs, it must be true at the start and at the end of the verification window
 * that counts as recovered (polled from the runbook's start). No budget of its own: recovery.budget bounds it.
 */
export type RecoveryCondition = ConditionSpec & { name: string; pollMs: number };

export type KubeAction =
  | { action: 'scale'; target: ObjectRef; replicas: number }
  | { action: 'delete'; target: ObjectRef }
  | { action: 'rollout-restart'; target: ObjectRef }
  | { action: 'patch'; target: ObjectRef; patchType: 'merge' | 'strategic'; patch: unknown }
  | { action: 'apply'; manifest: KubeObject }
  /**
   * A shell script run through the same door as command conditions (KUBECONFIG pinned to the target): what a
   * user runs with istioctl or helm. It fails when it exits non-zero. `undo` (none: nothing to undo) runs at
   * cleanup, unconditionally, so it must be idempotent and undo only what `run` made.
   */
  | { action: 'command'; run: string; undo?: string };

/** The fault: a tagged union whose removal is unconditional at cleanup. */
export type FaultSpec =
  | { kind: 'chaos-mesh'; manifest: KubeObject }
  | { kind: 'istio'; manifest: KubeObject }
  | { kind: 'kubernetes'; steps: KubeAction[] }
  /**
   * A plug-in CA's intermediate runs out: injection waits until the `ca-cert.pem` of `secret` expires (the
   * injection time is its notAfter); the undo deletes the Secret and restarts `restart` onto the mesh's own CA.
   */
  | { kind: 'certificate-expiry'; secret: ObjectRef; restart: ObjectRef[]; maxWaitMs: number };

export type FaultKind = FaultSpec['kind'];

/** One alerting rule of a Prometheus rule file: what its detection floor is computed from. */
export interface AlertRuleDefinition {
  alert: string;
  expr: string;
  forMs: number;
  group: string;
  /** The group's `interval`, when set. */
  groupIntervalMs?: number;
}

/**
 * A workload object made at deploy time rather than read from a file, because its content depends on when the
 * variant runs (a certificate's lifetime). `cacerts`: the plug-in CA Secret (root + intermediate) istiod
 * reads, and optionally a second Secret with the root certificate and key for a runbook that renews.
 */
export interface GeneratedManifest {
  generate: 'cacerts';
  namespace: string;
  name: string;
  intermediateValidityMs: number;
  rootValidityMs: number;
  /** Name of the Secret (same namespace) that keeps `root-cert.pem` and `root-key.pem`; none when absent. */
  rootSecret?: string;
}

/** Runbook step kinds (a tagged union with a runner per kind: harness/runbook/run.ts). */
export type RunbookStepKind = 'command' | 'apply';

/** A word the scenario must bind before the step can run: `<namespace>`, `$POD_NAME`, `${POD_NAME}`. */
export interface RunbookPlaceholder {
  /** The variable name to bind: `namespace`, `POD_NAME`. */
  name: string;
  /** As written in the runbook. */
  token: string;
  form: 'angle' | 'variable';
  /** Line in the Markdown file (1-based). */
  line: number;
  /** Offsets of the token in the step's body. */
  start: number;
  end: number;
}

/**
 * One step of a Markdown runbook (docs/runbook-format.md): parsed by harness/runbook/parse.ts, bound by the
 * scenario loader, run by the RunbookPort. The one step type; the journal's RunbookStepRecord is what running one
 * produced.
 */
export interface RunbookStep {
  /** 0-based position in the runbook. */
  index: number;
  /** The nearest heading above the block (`Step 3` when there is none). */
  title: string;
  kind: RunbookStepKind;
  /** The script (command) or the YAML documents (apply), as written or, once bound, with the variables in. */
  body: string;
  /** The Markdown file. */
  file: string;
  /** Line of the opening fence. */
  line: number;
  /** Placeholders still unbound in `body` (none in a resolved scenario: validation refuses them). */
  placeholders: RunbookPlaceholder[];
}

export interface RunbookRef {
  /** Absolute path of the Markdown runbook. */
  path: string;
  variables: Record<string, string>;
  /**
   * Its steps with `variables` bound, read and parsed once when the scenario was loaded (a runbook error is a
   * validation problem, exit 2): what the remediate phase runs, whatever the file holds by then.
   */
  steps: RunbookStep[];
}

/**
 * An Alertmanager routing a scenario ships (an alertmanager.yml: route, receivers, inhibit_rules …), read and
 * checked once when the scenario was loaded. The target runs it with every receiver's integrations replaced by
 * meshdrill's webhook, so a drill measures the team's own routing, grouping and inhibition without paging anyone.
 */
export interface AlertmanagerRoutingFile {
  /** Content-derived id (`r-` + 12 hex of its sha256): identical files share one Alertmanager. */
  id: string;
  /** Absolute path of the file. */
  file: string;
  /** Its text as loaded (what `amtool check-config` checked). */
  yaml: string;
  /** The receivers it defines, in order. */
  receivers: string[];
}

/**
 * The one receiver of meshdrill's own routing (local and kind targets, a variant without a routing file): what a
 * `notification` signal's `receiver` must name there. The same name as clusters/shared/alertmanager's
 * MESHDRILL_RECEIVER, kept here because the scenario layer sits below clusters/ and may not import it (a test
 * holds the two equal).
 */
export const DEFAULT_ROUTING_RECEIVER = 'meshdrill';

/** One execution of the scenario: the main drill, a negative control, or another runbook to measure. */
export interface ScenarioVariant {
  name: string;
  /** null: an empty runbook (nothing is done after detection). */
  runbook: RunbookRef | null;
  /** recovery: must recover; no-recovery: a negative control, must NOT recover; measure: verdict reported, not asserted. */
  expect: 'recovery' | 'no-recovery' | 'measure';
  /**
   * The Alertmanager routing this variant's notifications go through: the variant's own, else the scenario's;
   * absent, the target's (meshdrill's routing on local and kind, the user's on existing).
   */
  routing?: AlertmanagerRoutingFile;
  /**
   * Signals that must stay silent in this variant (a negative control of the signal itself, e.g. a page its
   * routing inhibits): their detect assertion passes when they did not fire, and says what held them back.
   */
  silent?: string[];
  /**
   * The variant's own recovery (a runbook variant's `recovery`), resolved and time-scaled, each field the
   * variant's where it gave one, else the scenario's; with the remediate and recover deadlines derived from it
   * (unless the scenario's `timeouts` sets them). Absent: the scenario's. Read through scenarioOfVariant.
   */
  ownRecovery?: {
    recovery: ScenarioRecovery;
    timeouts: Pick<Record<PhaseName, number>, 'remediate' | 'recover'>;
  };
}

export interface ScenarioRecovery {
  budgetMs: number;
  verifyMs: number;
  /** Must each be true at the start and the end of the verification window, besides the SLOs holding. */
  conditions: RecoveryCondition[];
}

export interface ResolvedScenario {
  /** DNS-safe identifier, also used in object names and labels. */
  name: string;
  title: string;
  description: string;
  /** Absolute path of the scenario file. */
  file: string;
  /** The factor applied to every duration below (and to `${scaled:…}` in queries). */
  timeScale: number;
  /**
   * `cluster`: the drill changes what every workload shares and runs alone. `namespace`: it stays in its own
   * namespace and may run beside other such drills (`--parallel`).
   */
  isolation: 'cluster' | 'namespace';
  namespace: string;
  workload: {
    manifests: KubeObject[];
    /** Label the namespace `istio-injection=enabled`. */
    injection: boolean;
    readyTimeoutMs: number;
    /** Objects generated at each deploy (after `manifests`); removed at cleanup, then `setup` runs again. */
    generate?: GeneratedManifest[];
    /**
     * Actions run after the manifests are applied and ready (e.g. restart istiod onto a plugged-in CA), each
     * waited on until its Deployments have rolled out; run again at cleanup once generated objects are gone.
     */
    setup?: KubeAction[];
  };
  load: LoadProfile;
  slos: SloThreshold[];
  /**
   * Whether the SLOs are asserted over the during-fault window (injection → runbook start). `ignore`: not
   * asserted, the fault is expected to break them; `hold`: each SLO must hold throughout the fault.
   * `holdForMs`: the runbook starts no earlier than this long after the injection, however soon the fault was
   * detected (a long outage, a gradual failure that must run its course before anyone acts).
   */
  duringFault: { slos: 'hold' | 'ignore'; holdForMs?: number };
  steadyState: { durationMs: number };
  fault: FaultSpec;
  efficacy: EfficacyCheck[];
  signals: SignalSpec[];
  /** The first variant is the main drill; the others are negative controls or measured alternatives. */
  variants: ScenarioVariant[];
  /** The drill's recovery; a variant with one of its own runs with it instead (scenarioOfVariant). */
  recovery: ScenarioRecovery;
  /** Prometheus rule files (absolute paths) the target must load. */
  alertRules: string[];
  /**
   * Their alerting rules, parsed once when the scenario was loaded (detection floors are computed from them), and
   * what could not be read of them (reported with the floors, never fatal).
   */
  alertRuleSet: { rules: AlertRuleDefinition[]; problems: string[] };
  timeouts: Record<PhaseName, number>;
}

/**
 * The scenario as this variant runs and is judged: its own recovery (conditions, budget, verify) and the deadlines
 * derived from it where it has one, else the scenario unchanged. Every phase reads the variant's scenario.
 */
export function scenarioOfVariant(scenario: ResolvedScenario, variant: ScenarioVariant): ResolvedScenario {
  const own = variant.ownRecovery;
  if (own === undefined) return scenario;
  return { ...scenario, recovery: own.recovery, timeouts: { ...scenario.timeouts, ...own.timeouts } };
}

/** The recovery conditions of the drill and of every variant with its own (what any of its runs may poll). */
export function allRecoveryConditions(scenario: ResolvedScenario): RecoveryCondition[] {
  return [
    ...scenario.recovery.conditions,
    ...scenario.variants.flatMap((v) => v.ownRecovery?.recovery.conditions ?? []),
  ];
}

/**
 * What these drills need of a cluster besides Istio and Prometheus: Chaos Mesh only when a fault is a Chaos Mesh
 * object (its own kind, or applied by a Kubernetes step).
 */
export function clusterNeedsOf(scenarios: readonly ResolvedScenario[]): { chaosMesh: boolean } {
  const isChaos = (manifest: KubeObject): boolean => manifest.apiVersion.startsWith('chaos-mesh.org/');
  const needsChaos = ({ fault }: ResolvedScenario): boolean =>
    fault.kind === 'chaos-mesh' ||
    (fault.kind === 'kubernetes' &&
      fault.steps.some((step) => step.action === 'apply' && isChaos(step.manifest)));
  return { chaosMesh: scenarios.some(needsChaos) };
}

/** The Alertmanager routings these variants ship, each once (by id): what a target runs besides its own. */
export function routingsOf(variants: readonly ScenarioVariant[]): AlertmanagerRoutingFile[] {
  const byId = new Map<string, AlertmanagerRoutingFile>();
  for (const { routing } of variants) if (routing && !byId.has(routing.id)) byId.set(routing.id, routing);
  return [...byId.values()];
}
