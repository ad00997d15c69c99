// runRunbook: executes bound runbook steps in order through the one exec module, as written: a failing step
// is recorded and the next one still runs (an SRE at 3 AM would carry on too; the SLOs judge the outcome).

import { mkdir } from 'node:fs/promises';
import { type ExecOptions, type ExecResult, run } from '../exec/index.js';
import { buildTargetEnv } from '../exec/index.js';
import type { RunbookStep, StepKind, StepResult } from './types.js';

export interface RunRunbookOptions {
  /** The target's kubeconfig: the only cluster a step can reach. */
  kubeconfigPath: string;
  /** Put first on PATH (the target's kubectl/istioctl). */
  binDirs: string[];
  /** Private to this run: kubectl's cache lives below it, and steps run in it. */
  workDir: string;
  stepTimeoutMs: number;
  /** Aborting kills the running step and skips the rest. */
  signal?: AbortSignal;
  onStepStart?: (index: number, step: RunbookStep) => void;
  onStepEnd?: (result: StepResult) => void;
  /** Output kept per step (head and tail); default 16 KiB. */
  maxOutputChars?: number;
}

const DEFAULT_MAX_OUTPUT = 16 * 1024;

/** The environment of a step: the user's, minus cluster pointers, plus the target's (harness/exec/target-env). */
export function buildStepEnv(
  options: Pick<RunRunbookOptions, 'kubeconfigPath' | 'binDirs' | 'workDir'>,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return buildTargetEnv(options, base);
}

type StepRunner = (step: RunbookStep, exec: ExecOptions) => Promise<ExecResult>;

/** One runner per step kind; a new kind without a runner does not compile. */
export const STEP_RUNNERS: { [K in StepKind]: StepRunner } = {
  command: (step, exec) => run('bash', ['-o', 'pipefail', '-c', step.body], exec),
  apply: (step, exec) => run('kubectl', ['apply', '-f', '-'], { ...exec, input: step.body }),
};

/** How a step reads in reports. */
export function describeStep(step: RunbookStep): string {
  return step.kind === 'apply'
    ? `kubectl apply -f - <<'EOF'\n${step.body.replace(/\n?$/, '\n')}EOF`
    : step.body;
}

export async function runRunbook(
  steps: readonly RunbookStep[],
  options: RunRunbookOptions,
): Promise<StepResult[]> {
  // Steps run in the work dir (and kubectl caches below it): it must exist before the first step.
  await mkdir(options.workDir, { recursive: true });
  const env = buildStepEnv(options);
  const maxOutput = options.maxOutputChars ?? DEFAULT_MAX_OUTPUT;
  const results: StepResult[] = [];
  for (const step of steps) {
    if (options.signal?.aborted) break;
    options.onStepStart?.(step.index, step);
    let output = '';
    const startedAt = Date.now();
    const exec = await STEP_RUNNERS[step.kind](step, {
      env,
      cleanEnv: true,
      cwd: options.workDir,
      timeoutMs: options.stepTimeoutMs,
      killGraceMs: 1000,
      ...(options.signal ? { signal: options.signal } : {}),
      // Interleaved as it arrives, which is what a person watching the terminal would have seen.
      onOutput: (chunk) => {
        if (output.length < 4 * maxOutput) output += chunk;
        else output = output.slice(0, maxOutput) + output.slice(-maxOutput) + chunk;
      },
    });
    if (exec.spawnError) output += `${output ? '\n' : ''}could not start: ${exec.spawnError}`;
    if (exec.timedOut)
      output += `${output ? '\n' : ''}[meshdrill] step timed out after ${options.stepTimeoutMs} ms`;
    const result: StepResult = {
      index: step.index,
      title: step.title,
      kind: step.kind,
      command: describeStep(step),
      startedAt,
      durationMs: exec.durationMs,
      exitCode: exec.exitCode,
      timedOut: exec.timedOut,
      output: clip(output, maxOutput),
    };
    results.push(result);
    options.onStepEnd?.(result);
  }
  return results;
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n… [${text.length - 2 * half} characters elided] …\n${text.slice(-half)}`;
}
