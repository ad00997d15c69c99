// What a CI job page shows of a run, for people who read that page first: a Markdown summary (verdict, what
// failed or was inconclusive, time to detect and to recover per drill, where the full report is) for GitHub's
// $GITHUB_STEP_SUMMARY, and workflow-command annotations (`::error file=…,line=…::…`) that put each failed
// assertion on the line of its scenario file. Rendering is pure; the reporter at the end does the I/O.

import { appendFile, readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { formatDuration } from '../harness/util/duration.js';
import type { Reporter } from './reporter.js';
import type { Results, ScenarioResult } from './results-types.js';

const ms = (value: number | null | undefined): string => (value == null ? '—' : formatDuration(value));

/** A Markdown table cell: no pipe or newline may break the row. */
const cell = (text: string): string => text.replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ');

/** The summary as Markdown. `reportUrl` is where the job's artifacts (index.html) are, when known. */
export function renderCiSummary(results: Results, reportUrl?: string): string {
  const { verdict, run } = results;
  const c = verdict.counts;
  const lines = [
    `## meshdrill: ${verdict.outcome.toUpperCase()} — run ${run.runId} (target ${run.target})`,
    '',
    `${c.scenarios} drill run(s): ${c.passed} passed, ${c.failed} failed, ${c.inconclusive} inconclusive · ` +
      `${c.assertions} assertions: ${c.assertionsFailed} failed, ${c.assertionsInconclusive} inconclusive`,
  ];
  if (verdict.failures.length > 0) {
    lines.push(
      '',
      '### Failed',
      ...verdict.failures.map((f) => `- ${f.key ? `\`${f.key}\`: ` : ''}${f.what}`),
    );
  }
  if (verdict.inconclusive.length > 0) {
    lines.push(
      '',
      '### Inconclusive (the instrument was degraded)',
      ...verdict.inconclusive.map((f) => `- \`${f.key}\`: ${f.what}`),
    );
  }
  if (results.scenarios.length > 0) {
    lines.push(
      '',
      '### Detection and recovery',
      '',
      '| drill | outcome | signals fired in budget | slowest time to detect | time to recover (from injection / runbook start) |',
      '|---|---|---|---|---|',
      ...results.scenarios.map(drillRow),
    );
  }
  if (reportUrl) lines.push('', `Full report: index.html in the artifacts of [this run](${reportUrl}).`);
  return `${lines.join('\n')}\n`;
}

function drillRow(r: ScenarioResult): string {
  // A signal the variant requires silent is judged by its assertion, not counted as a detection.
  const judged = r.detection.filter((d) => !d.informational && !d.silent);
  const inBudget = judged.filter((d) => d.fired && d.withinBudget).length;
  const fired = judged.map((d) => d.ttdMs).filter((t): t is number => t !== null);
  const slowest = fired.length > 0 ? Math.max(...fired) : null;
  const ttr = r.recovery?.recovered
    ? `${ms(r.recovery.ttrFromInjectionMs)} / ${ms(r.recovery.ttrFromRunbookStartMs)}`
    : r.recovery
      ? 'not recovered'
      : '—';
  const outcome = r.negativeControl ? `${r.outcome} (negative control)` : r.outcome;
  return `| ${cell(r.key)} | ${cell(outcome)} | ${inBudget}/${judged.length} | ${ms(slowest)} | ${ttr} |`;
}

/** Where an annotation points: a path relative to the repository, and a line. */
export type LocateAssertion = (
  scenario: ScenarioResult,
  assertionName: string,
) => { file: string; line: number };

/** GitHub workflow commands: one `::error` per failed judged assertion, one `::warning` per inconclusive one. */
export function renderAnnotations(results: Results, locate: LocateAssertion): string[] {
  const out: string[] = [];
  for (const r of results.scenarios) {
    for (const a of r.assertions) {
      if (a.informational || a.passed) continue;
      const level = a.inconclusive ? 'warning' : 'error';
      const at = locate(r, a.name);
      out.push(workflowCommand(level, at, `meshdrill ${r.key}`, `${a.name}: ${a.message}`));
    }
    const phaseError = r.phases.find((p) => p.outcome !== null && p.outcome !== 'passed' && p.error);
    if (phaseError?.error) {
      const at = locate(r, '');
      out.push(
        workflowCommand('error', at, `meshdrill ${r.key}`, `phase ${phaseError.phase}: ${phaseError.error}`),
      );
    }
  }
  return out;
}

// GitHub's escaping of workflow commands: the message escapes %, CR and LF; property values also , and :.
const escapeData = (s: string): string =>
  s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
const escapeProperty = (s: string): string => escapeData(s).replaceAll(':', '%3A').replaceAll(',', '%2C');

function workflowCommand(
  level: 'error' | 'warning',
  at: { file: string; line: number },
  title: string,
  message: string,
): string {
  const props = `file=${escapeProperty(at.file)},line=${at.line},title=${escapeProperty(title)}`;
  return `::${level} ${props}::${escapeData(message)}`;
}

/**
 * The line that names an assertion in the scenario file: `name: <assertion>` (a signal, an efficacy check or a
 * recovery condition), else the first line. Assertion names such as "signal X fires within 1m" contain the
 * scenario's own name for the signal, so the longest such name found in the text wins.
 */
export function lineOfAssertion(scenarioText: string, assertionName: string): number {
  const lines = scenarioText.split('\n');
  let best = { line: 1, length: 0 };
  for (const [i, text] of lines.entries()) {
    const name = /^\s*-?\s*name:\s*["']?([^"'#]+?)["']?\s*(#.*)?$/.exec(text)?.[1];
    if (name && assertionName.includes(name) && name.length > best.length)
      best = { line: i + 1, length: name.length };
  }
  return best.line;
}

/**
 * The reporter for GitHub Actions (when GITHUB_ACTIONS is "true"): appends the summary to $GITHUB_STEP_SUMMARY
 * and writes the annotations to stdout, where the runner reads workflow commands.
 */
export function createGithubReporter(
  env: NodeJS.ProcessEnv = process.env,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Reporter | undefined {
  if (env.GITHUB_ACTIONS !== 'true') return undefined;
  const root = env.GITHUB_WORKSPACE ?? process.cwd();
  const reportUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  return {
    name: 'github',
    async onEnd({ results }) {
      const texts = new Map<string, string>();
      for (const file of new Set(results.scenarios.map((r) => r.file))) {
        texts.set(file, await readFile(file, 'utf8').catch(() => ''));
      }
      const locate: LocateAssertion = (r, name) => ({
        file: relative(root, r.file),
        line: name === '' ? 1 : lineOfAssertion(texts.get(r.file) ?? '', name),
      });
      for (const line of renderAnnotations(results, locate)) write(line);
      if (!env.GITHUB_STEP_SUMMARY) return [];
      await appendFile(env.GITHUB_STEP_SUMMARY, renderCiSummary(results, reportUrl));
      return [env.GITHUB_STEP_SUMMARY];
    },
  };
}
