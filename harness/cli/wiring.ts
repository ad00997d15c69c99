// The composition root: builds the engine's ports from concrete parts once a target is up. Only the CLI knows
// which client, driver and runbook runner are real.

import { join } from 'node:path';
import type { TargetEnvironment } from '../../clusters/target.js';
import type { EngineContext, RunbookPort } from '../engine/index.js';
import { run } from '../exec/index.js';
import { buildTargetEnv } from '../exec/target-env.js';
import { createKubeClient } from '../kube/index.js';
import { createLoadDriver } from '../load/index.js';
import { describeStep, loadBoundRunbook, runRunbook } from '../runbook/index.js';
import { createNotificationPort, createPrometheusClient } from '../signals/index.js';

export function createRunbookPort(env: TargetEnvironment, workDir: string): RunbookPort {
  return {
    async load(ref) {
      const steps = await loadBoundRunbook(ref);
      return steps.map((s) => ({ title: s.title, kind: s.kind, command: describeStep(s) }));
    },
    async run(ref, options) {
      const steps = await loadBoundRunbook(ref);
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

export function connectPorts(
  env: TargetEnvironment,
  workDir: string,
  loadDriverOverride?: 'builtin' | 'k6',
): Omit<EngineContext, 'runId' | 'journal' | 'interrupt'> {
  const commandEnv = buildTargetEnv({
    kubeconfigPath: env.kubeconfigPath,
    binDirs: env.binDirs,
    workDir: join(workDir, 'commands'),
  });
  return {
    kube: createKubeClient(env.kubeconfigPath),
    prometheus: createPrometheusClient(env.prometheusUrl),
    ingressUrl: env.ingressUrl,
    loadDriver: (name) => createLoadDriver(loadDriverOverride ?? name),
    runbooks: createRunbookPort(env, join(workDir, 'runbook')),
    runCommand: (script, signal) =>
      run('bash', ['-o', 'pipefail', '-c', script], {
        env: commandEnv,
        cleanEnv: true,
        timeoutMs: 30_000,
        ...(signal ? { signal } : {}),
      }),
    ...(env.alertmanager
      ? {
          notifications: createNotificationPort({
            alertmanagerUrl: env.alertmanager.url,
            receiverUrl: env.alertmanager.receiverUrl,
            routingDelayMs: env.alertmanager.routingDelayMs,
          }),
        }
      : {}),
  };
}
