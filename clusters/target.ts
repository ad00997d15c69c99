// The Target seam (DESIGN.md "Architecture"): a target only provisions and tears down, and hands back where
// the standard protocols are reached. Nothing above this interface knows which target it is.

import type { KubeClient } from '../harness/kube/index.js';
import type { AlertmanagerRoutingFile } from '../harness/model/index.js';
import type { PlanSection } from '../harness/model/plan.js';

export interface ProvisionOptions {
  /** Directory the target may use for its state (kubeconfig, logs, caches). Removed by the caller. */
  workDir: string;
  /** Prometheus rule files to load (absolute paths). */
  ruleFiles: string[];
  /** Istio version to install, where the target installs Istio. */
  istioVersion?: string;
  /**
   * What the drills need of a cluster besides Istio and Prometheus; absent, everything. An existing cluster
   * without Chaos Mesh still serves drills whose faults are Istio objects or Kubernetes actions.
   */
  needs?: { chaosMesh: boolean };
  /**
   * The Alertmanager routings the drills ship (scenario or variant `alertmanager.routing`), distinct by id. A
   * target that can runs one Alertmanager per routing beside its own and says so in `alertmanager.routings`.
   */
  routings?: AlertmanagerRoutingFile[];
  /** Free-form, target-specific settings from the CLI (`--target-opt key=value`). */
  settings: Record<string, string>;
  /** Progress lines for the user (provisioning can take minutes on kind). */
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
}

export interface TargetEnvironment {
  /** A kubeconfig file whose current context is the target. Runbook steps get it as KUBECONFIG. */
  kubeconfigPath: string;
  prometheusUrl: string;
  /** Base URL of the ingress gateway as reachable from this host. */
  ingressUrl: string;
  /** kubernetes, istio, target, prometheus … */
  versions: Record<string, string>;
  /** How long each provisioning step took, in ms. */
  timings: Record<string, number>;
  /** Directories put first on PATH for runbook steps (e.g. the local target's istioctl). */
  binDirs: string[];
  /**
   * The scrape and rule-evaluation intervals the target configured. Alert floors are computed from the running
   * Prometheus's own configuration instead (harness/engine/detection-floors.ts), which also covers a Prometheus
   * the target did not install.
   */
  prometheus: { scrapeIntervalMs: number; evaluationIntervalMs: number };
  /**
   * The Alertmanager Prometheus sends alerts to, and the webhook receiver that records what it delivered (absent
   * where the target runs none: then `notification` signals cannot be judged there).
   */
  alertmanager?: {
    url: string;
    /**
     * Meshdrill's webhook receiver, where every notification is delivered. Absent for an Alertmanager meshdrill
     * did not configure (the user's own, on existing): deliveries go to the user's receivers and cannot be
     * observed, so a signal is judged from Alertmanager's routing only, and its evidence says so.
     */
    receiverUrl?: string;
    /** Receivers with no integration (a `null` route): an alert routed only there pages nobody. */
    silentReceivers?: string[];
    /** The longest Alertmanager holds a notification: group_wait in a new group, group_interval in a live one. */
    routingDelayMs: number;
    /**
     * One Alertmanager per scenario routing the target runs (by routing id), each delivering to `receiverUrl`
     * under its id. A routing missing here is not applied on this target.
     */
    routings?: Record<string, ScenarioAlertmanager>;
  };
  /**
   * Present when the k6 driver runs in the cluster (`--target-opt k6-mode=in-cluster`): where its runner pods
   * send the load (the ingress gateway's in-cluster Service; the Host header still selects the route), and how
   * many runners share it.
   */
  inClusterLoad?: { baseUrl: string; runners: number };
  /** Whether faults may be injected here (false on an existing cluster not explicitly allowed). */
  faultsAllowed: boolean;
}

/** An Alertmanager running a scenario's routing, its integrations replaced by meshdrill's receiver. */
export interface ScenarioAlertmanager {
  url: string;
  routingDelayMs: number;
  silentReceivers: string[];
}

export interface Target {
  readonly name: string;
  /**
   * The cluster runs inside this process (the local target): it cannot outlive the command, so keeping it
   * means staying in the foreground until the user stops it.
   */
  readonly livesWithProcess?: boolean;
  /**
   * Another, independent cluster of this kind, where one is provisioned in seconds (the local target). With it,
   * `run --parallel` gives each run of an `isolation: cluster` drill a cluster of its own, so such drills run side
   * by side instead of alone. Absent where a cluster costs minutes (kind) or is not ours to make (existing).
   */
  sibling?(): Target;
  provision(options: ProvisionOptions): Promise<TargetEnvironment>;
  /** Undo provision: stop what it started, delete what it created (idempotent). */
  teardown(): Promise<void>;
}

export type TargetName = 'local' | 'kind' | 'existing';

/** A target's part of a plan (`meshdrill run --dry-run`). */
export interface TargetPlan {
  sections: PlanSection[];
  /** A client of the cluster, when it exists already (for the drills' blast radius). */
  kube?: KubeClient;
  /** Where the drills' k6 load would run in the cluster (`k6-mode=in-cluster`), as the environment will say. */
  inClusterLoad?: TargetEnvironment['inClusterLoad'];
  /** Removes what the plan needed locally (a kubeconfig in a temp dir). */
  dispose(): Promise<void>;
}
