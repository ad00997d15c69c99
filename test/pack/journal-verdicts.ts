// Reads a run's journal (DIR/journal.jsonl) into the verdicts the pack is judged by: per scenario variant its
// expectation, assertions and outcome, plus the run's cleanup and exit code. Shared by the pack test and bench.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JournalEvent } from '../../harness/model/journal.js';

export interface VariantVerdict {
  scenario: string;
  variant: string;
  expect: string;
  outcome?: string;
  durationMs?: number;
  assertions: { id: string; passed: boolean; informational: boolean; message: string }[];
  /** Phases that ended other than `passed`, with their error: why a variant never reached a verdict. */
  phaseErrors: string[];
  /** Every phase with how long it took, in order: where the time went when a variant ran out of it. */
  phaseTimes: string[];
  /** The runbook's steps as executed: title, exit code, duration, and the output's tail when it failed. */
  runbookSteps: string[];
}

export interface PackVerdicts {
  variants: VariantVerdict[];
  runEnd?: { outcome: string; exitCode: number };
  cleanup?: { ok: boolean; leftover: string[] };
  startedAt?: number;
  endedAt?: number;
}

export async function readPackVerdicts(dir: string): Promise<PackVerdicts> {
  const text = await readFile(join(dir, 'journal.jsonl'), 'utf8');
  const out: PackVerdicts = { variants: [] };
  const byKey = new Map<string, VariantVerdict>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as JournalEvent;
    if (event.type === 'load-sample') continue;
    out.startedAt ??= event.t;
    out.endedAt = event.t;
    if (event.type === 'scenario-start') {
      const v: VariantVerdict = {
        scenario: event.scenario,
        variant: event.variant,
        expect: event.expect,
        assertions: [],
        phaseErrors: [],
        phaseTimes: [],
        runbookSteps: [],
      };
      byKey.set(`${event.scenario}/${event.variant}`, v);
      out.variants.push(v);
    } else if (event.type === 'assertion') {
      byKey.get(`${event.scenario}/${event.variant}`)?.assertions.push({
        id: event.id,
        passed: event.passed,
        informational: event.informational === true,
        message: event.message,
      });
    } else if (event.type === 'phase-end') {
      const v = byKey.get(`${event.scenario}/${event.variant}`);
      v?.phaseTimes.push(`${event.phase} ${(event.durationMs / 1000).toFixed(1)}s`);
      if (event.outcome !== 'passed')
        v?.phaseErrors.push(`${event.phase} ${event.outcome}${event.error ? `: ${event.error}` : ''}`);
    } else if (event.type === 'runbook-step') {
      const ok = event.exitCode === 0 && !event.timedOut;
      const tail = ok ? '' : ` — ${event.output.trim().split('\n').slice(-3).join(' | ')}`;
      byKey
        .get(`${event.scenario}/${event.variant}`)
        ?.runbookSteps.push(
          `${event.index} ${event.title}: exit ${event.exitCode}${event.timedOut ? ' (timed out)' : ''} in ${(event.durationMs / 1000).toFixed(1)}s${tail}`,
        );
    } else if (event.type === 'scenario-end') {
      const v = byKey.get(`${event.scenario}/${event.variant}`);
      if (v) {
        v.outcome = event.outcome;
        v.durationMs = event.durationMs;
      }
    } else if (event.type === 'run-end') {
      out.runEnd = { outcome: event.outcome, exitCode: event.exitCode };
    } else if (event.type === 'cleanup') {
      out.cleanup = { ok: event.ok, leftover: event.leftover };
    }
  }
  return out;
}

/** A variant's story in a few lines, for a failure message: outcome, failed assertions, failed phases. */
export function explainVariant(v: VariantVerdict): string {
  const failed = v.assertions.filter((a) => !a.passed).map((a) => `  ✗ ${a.id}: ${a.message}`);
  const phases = v.phaseErrors.map((e) => `  phase ${e}`);
  const times = v.phaseTimes.length > 0 ? [`  phases: ${v.phaseTimes.join(', ')}`] : [];
  const steps = v.runbookSteps.map((s) => `  runbook ${s}`);
  return [
    `${v.scenario}/${v.variant} → ${v.outcome ?? 'no outcome'}`,
    ...failed,
    ...phases,
    ...times,
    ...steps,
  ].join('\n');
}
