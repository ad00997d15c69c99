// JUnit XML from the results model: a testsuite per scenario execution, a testcase per assertion, failure
// messages with measured values, versions as properties and runbook output in system-out.

import { formatDuration } from '../harness/util/duration.js';
import type { AssertionResult, Results, ScenarioResult } from './results-types.js';
import { element, renderXml, type XmlElement, type XmlNode } from './xml.js';

/** Which phase an assertion id belongs to, so its testcase can carry that phase's duration. */
const PHASE_OF_PREFIX: [string, string][] = [
  ['steady-state', 'steady-state'],
  ['efficacy', 'efficacy'],
  ['detect', 'detect'],
  ['recover', 'recover'],
  ['remediate', 'remediate'],
  ['cleanup', 'cleanup'],
];

/** Output kept per runbook step in system-out; the HTML report has the full excerpt. */
const OUTPUT_EXCERPT_CHARS = 2000;

function formatSeconds(ms: number | null | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

/** Timing-like assertions (detect, recover, efficacy) measure milliseconds; others are plain numbers. */
export function formatAssertionValue(id: string, value: number): string {
  return /^(detect|recover|efficacy)/.test(id) ? formatDuration(value) : String(value);
}

export function describeAssertionFailure(a: AssertionResult): string {
  const parts: string[] = [];
  if (a.measured !== null) parts.push(`measured ${formatAssertionValue(a.id, a.measured)}`);
  if (a.limit !== null) parts.push(`limit ${formatAssertionValue(a.id, a.limit)}`);
  return parts.length === 0 ? a.message : `${a.message} (${parts.join(', ')})`;
}

function phaseTimeMs(r: ScenarioResult, id: string): number | null {
  const phase = PHASE_OF_PREFIX.find(([prefix]) => id.startsWith(prefix))?.[1];
  if (phase === undefined) return null;
  return r.phases.findLast((p) => p.phase === phase)?.durationMs ?? null;
}

export function formatSuiteName(r: ScenarioResult, repeated: boolean): string {
  return repeated ? `${r.scenario}/${r.variant}#${r.iteration}` : `${r.scenario}/${r.variant}`;
}

function buildTestcase(r: ScenarioResult, a: AssertionResult, classname: string): XmlElement {
  const children: XmlNode[] = [];
  if (!a.passed && a.informational) {
    children.push(
      element('skipped', { message: `informational, not counted: ${describeAssertionFailure(a)}` }),
    );
  } else if (a.inconclusive) {
    // Neither a pass nor a failure: CI shows it as skipped, with the instrument's evidence as the reason.
    children.push(element('skipped', { message: `inconclusive: ${describeAssertionFailure(a)}` }));
  } else if (!a.passed) {
    const detail = [
      describeAssertionFailure(a),
      `assertion: ${a.id}`,
      `scenario: ${r.key} (${r.file})`,
      ...(r.negativeControl ? ['this is a negative control: it must NOT recover'] : []),
    ].join('\n');
    children.push(
      element('failure', { message: describeAssertionFailure(a), type: 'assertion' }, [{ text: detail }]),
    );
  }
  return element(
    'testcase',
    { classname, name: `${a.name} [${a.id}]`, time: formatSeconds(phaseTimeMs(r, a.id)) },
    children,
  );
}

function buildOutcomeCase(r: ScenarioResult, classname: string): XmlElement | null {
  const explained = r.assertions.some((a) => !a.passed && !a.informational);
  if (r.outcome === 'passed' || explained) return null;
  const phaseErrors = r.phases
    .filter((p) => p.error !== null)
    .map((p) => `phase ${p.phase} ${p.outcome}: ${p.error}`);
  const message = `scenario ${r.outcome}${phaseErrors.length > 0 ? `: ${phaseErrors.join('; ')}` : ''}`;
  return element(
    'testcase',
    { classname, name: `scenario outcome [${r.key}]`, time: formatSeconds(r.durationMs) },
    [element('error', { message, type: r.outcome }, [{ text: message }])],
  );
}

function buildSystemOut(r: ScenarioResult): XmlNode[] {
  if (r.runbook.length === 0 && r.fault === null) return [];
  const lines: string[] = [];
  if (r.fault) lines.push(`fault (${r.fault.kind}): ${r.fault.description}`);
  for (const step of r.runbook) {
    const status = step.timedOut ? 'timed out' : `exit ${step.exitCode ?? 'none'}`;
    lines.push(`--- step ${step.index + 1}: ${step.title} (${formatDuration(step.durationMs)}, ${status})`);
    lines.push(`$ ${step.command}`);
    lines.push(
      step.output.length > OUTPUT_EXCERPT_CHARS
        ? `${step.output.slice(0, OUTPUT_EXCERPT_CHARS)}\n[…]`
        : step.output,
    );
  }
  return [element('system-out', {}, [{ cdata: lines.join('\n') }])];
}

function buildSuite(results: Results, r: ScenarioResult, repeated: boolean): XmlElement {
  const classname = `meshdrill.${r.scenario}.${r.variant}`;
  const cases = r.assertions.map((a) => buildTestcase(r, a, classname));
  const outcomeCase = buildOutcomeCase(r, classname);
  if (outcomeCase) cases.push(outcomeCase);
  const count = (tag: string) =>
    cases.filter((c) => c.children?.some((x) => 'name' in x && x.name === tag)).length;
  const properties: [string, string][] = [
    ['meshdrill.runId', results.run.runId],
    ['meshdrill.version', results.run.meshdrillVersion],
    ['target', results.run.target],
    ...Object.entries(results.run.versions).map(([k, v]): [string, string] => [`version.${k}`, v]),
    ['scenario.title', r.title],
    ['scenario.file', r.file],
    ['scenario.expect', r.expect],
    ['scenario.faultKind', r.faultKind],
    ['scenario.iteration', String(r.iteration)],
    ['scenario.outcome', r.outcome],
  ];
  return element(
    'testsuite',
    {
      name: formatSuiteName(r, repeated),
      tests: cases.length,
      failures: count('failure'),
      errors: count('error'),
      skipped: count('skipped'),
      time: formatSeconds(r.durationMs),
      timestamp: new Date(r.startedAt).toISOString(),
      file: r.file,
    },
    [
      element(
        'properties',
        {},
        properties.map(([name, value]) => element('property', { name, value })),
      ),
      ...cases,
      ...buildSystemOut(r),
    ],
  );
}

function buildCleanupSuite(results: Results): XmlElement | null {
  const c = results.cleanup;
  if (!c) return null;
  const children: XmlNode[] = [];
  if (!c.ok) {
    const message = `cleanup failed: ${c.leftover.length} object(s) left behind${c.error ? ` — ${c.error}` : ''}`;
    children.push(
      element('failure', { message, type: 'cleanup' }, [
        { text: `${message}\nleft behind:\n${c.leftover.join('\n')}\nrun: meshdrill cleanup to remove them` },
      ]),
    );
  }
  const testcase = element(
    'testcase',
    { classname: 'meshdrill.cleanup', name: 'everything the run created is removed', time: '0.000' },
    children,
  );
  return element(
    'testsuite',
    { name: 'cleanup', tests: 1, failures: c.ok ? 0 : 1, errors: 0, skipped: 0, time: '0.000' },
    [testcase],
  );
}

/** The JUnit XML document for a run. */
export function renderJunit(results: Results): string {
  const repeated = results.run.repeat > 1 || results.scenarios.some((r) => r.iteration > 1);
  const suites = results.scenarios.map((r) => buildSuite(results, r, repeated));
  const cleanup = buildCleanupSuite(results);
  if (cleanup) suites.push(cleanup);
  const sum = (attr: string) => suites.reduce((n, s) => n + Number(s.attributes?.[attr] ?? 0), 0);
  return renderXml(
    element(
      'testsuites',
      {
        name: `meshdrill run ${results.run.runId}`,
        tests: sum('tests'),
        failures: sum('failures'),
        errors: sum('errors'),
        skipped: sum('skipped'),
        time: formatSeconds(results.run.durationMs),
        timestamp: results.run.startedAt === null ? undefined : new Date(results.run.startedAt).toISOString(),
      },
      suites,
    ),
  );
}
