// The composition root: builds the engine's ports from concrete parts once a target is up. Only the CLI knows
// which client, driver and runbook runner are real.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { TargetEnvironment } from '../../clusters/target.js';
import type { EngineContext, RunbookPort } from '../engine/index.js';
import { recordPendingUndo, run } from '../exec/index.js';
import { buildTargetEnv } from '../exec/target-env.js';
import { createKubeClient, type KubeClient } from '../kube/index.js';
import { createLoadDriver, drillTestRunOptions, type LoadDriverName } from '../load/index.js';
import type { LoadDriver } from '../model/load.js';
import { describeStep, runRunbook } from '../runbook/index.js';
import { stateDir } from '../util/state-dir.js';
import { createNotificationPort, createPrometheusClient } from '../signals/index.js';

/** Runs the steps it is handed (bound when the scenario was loaded): no runbook file is read during a drill. */
export function createRunbookPort(env: TargetEnvironment, workDir: string): RunbookPort {
  return {
    run(steps, options) {
      return runRunbook(steps, {
        kubeconfigPath: env.kubeconfigPath,
        binDirs: env.binDirs,
        workDir,
        stepTimeoutMs: options.stepTimeoutMs,
        signal: options.signal,
        onStepStart: (index, step) =>
          options.onStepStart(index, { title: step.title, kind: step.kind, command: describeStep(step) }),
        onStepEnd: options.onStepEnd,
      });
    },
  };
}

/** Where a drill's load runs: the scenario and the namespace its workload lives in. */
export interface LoadScope {
  scenario: string;
  namespace: string;
}

/**
 * The load driver for a drill: the one it names (or the CLI's override), and for k6 on a target that runs load
 * in the cluster (`k6-mode=in-cluster`) a k6-operator TestRun in the drill's namespace, labelled with the run so
 * cleanup finds it after a crash, aimed at the gateway's in-cluster address.
 */
export function chooseLoadDriver(
  env: TargetEnvironment,
  kube: KubeClient,
  runId: string,
  name: LoadDriverName,
  scope: LoadScope,
): LoadDriver {
  const inCluster = env.inClusterLoad;
  if (name !== 'k6' || inCluster === undefined) return createLoadDriver(name);
  return createLoadDriver('k6', { k6InCluster: { kube, ...drillTestRunOptions(runId, scope, inCluster) } });
}

export function connectPorts(
  env: TargetEnvironment,
  workDir: string,
  runId: string,
  loadDriverOverride?: LoadDriverName,
): Omit<EngineContext, 'runId' | 'journal' | 'interrupt'> {
  const commandEnv = buildTargetEnv({
    kubeconfigPath: env.kubeconfigPath,
    binDirs: env.binDirs,
    workDir: join(workDir, 'commands'),
  });
  const kube = createKubeClient(env.kubeconfigPath);
  return {
    kube,
    prometheus: createPrometheusClient(env.prometheusUrl),
    ingressUrl: env.ingressUrl,
    loadDriver: (name, scope) => chooseLoadDriver(env, kube, runId, loadDriverOverride ?? name, scope),
    runbooks: createRunbookPort(env, join(workDir, 'runbook')),
    recordPendingUndo: pendingUndoRecorder(env, runId),
    runCommand: (script, signal, timeoutMs) =>
      run('bash', ['-o', 'pipefail', '-c', script], {
        env: commandEnv,
        cleanEnv: true,
        timeoutMs: timeoutMs ?? 30_000,
        ...(signal ? { signal } : {}),
      }),
    ...notificationPorts(env),
  };
}

/**
 * Records a setup step's undo in the state directory with what it needs to run again after a SIGKILL: the
 * context (cleanup refuses another), the PATH entries the run gave it, the kubeconfig and the working directory.
 */
export function pendingUndoRecorder(
  env: TargetEnvironment,
  runId: string,
  dir: string = stateDir(),
): NonNullable<EngineContext['recordPendingUndo']> {
  return (step) =>
    recordPendingUndo(dir, {
      ...step,
      runId,
      env: {
        context: env.versions.context ?? currentContextOf(env.kubeconfigPath),
        kubeconfig: env.kubeconfigPath,
        path: [...env.binDirs],
        cwd: process.cwd(),
      },
    });
}

/** The kubeconfig's current context (the local and kind targets write one-context files). */
function currentContextOf(kubeconfigPath: string): string {
  const config = parse(readFileSync(kubeconfigPath, 'utf8')) as { 'current-context'?: string } | null;
  return config?.['current-context'] ?? '';
}

/** The target's Alertmanager's port, and one per scenario routing it runs (all read the one receiver). */
function notificationPorts(
  env: TargetEnvironment,
): Pick<EngineContext, 'notifications' | 'routedNotifications'> {
  const am = env.alertmanager;
  if (!am) return {};
  const receiver = am.receiverUrl ? { receiverUrl: am.receiverUrl } : {};
  const routed = Object.entries(am.routings ?? {}).map(
    ([id, r]) =>
      [
        id,
        createNotificationPort({
          alertmanagerUrl: r.url,
          routing: id,
          routingDelayMs: r.routingDelayMs,
          silentReceivers: r.silentReceivers,
          ...receiver,
        }),
      ] as const,
  );
  return {
    notifications: createNotificationPort({
      alertmanagerUrl: am.url,
      routingDelayMs: am.routingDelayMs,
      ...receiver,
      ...(am.silentReceivers ? { silentReceivers: am.silentReceivers } : {}),
    }),
    ...(routed.length > 0 ? { routedNotifications: new Map(routed) } : {}),
  };
}
