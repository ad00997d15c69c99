// Detection maths: time-to-detect from injection, and the detection floor of a Prometheus alert rule — the
// delay the pipeline itself adds before the alert can fire after a fault begins, whatever the rule measures:
//
//   floor = scrape interval + evaluation interval + the rule's `for`
//
// (in the worst phase alignment, the fault is scraped one interval late and the rule evaluated one interval
// later; then the alert is pending for `for`). A budget below the floor may be missed by chance alone.
//
// The range windows in the expression are not part of the floor: `resets(x[1m]) > 0` fires on the first bad
// sample, and an averaging condition crosses its threshold after a share of its window that depends on how bad
// the fault is. They matter the other way round — bad data keeps an alert firing for as long as it stays in the
// window — so each floor also carries its look-back (range + scrape + evaluation): how long an earlier fault
// stays visible.

import { parse as parseYaml } from 'yaml';
import type { AlertRuleDefinition } from '../model/index.js';

export interface DetectionFloorParts {
  scrapeMs: number;
  evaluationMs: number;
  forMs: number;
  rangeMs: number;
}

export interface AlertFloor {
  alert: string;
  group: string;
  expr: string;
  floorMs: number;
  /** How long past data keeps the alert's expression true: the largest range plus scrape and evaluation. */
  lookbackMs: number;
  parts: DetectionFloorParts;
}

export interface RuleTiming {
  /** Prometheus `global.scrape_interval` (or the job's). */
  scrapeIntervalMs: number;
  /** Prometheus `global.evaluation_interval`; a group's own `interval` overrides it. */
  evaluationIntervalMs: number;
}

/** An alerting rule as the scenario carries it (harness/model/scenario.ts). */
export type PrometheusAlertRule = AlertRuleDefinition;

export type RuleFileParse = { ok: true; rules: PrometheusAlertRule[] } | { ok: false; errors: string[] };

const PROM_UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
const PROM_DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const PROM_PART = /(\d+)(ms|s|m|h|d|w|y)/g;

/** Parses a Prometheus duration ("5m", "1h30m", "90s", "1w"); undefined when it is not one. */
export function parsePromDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!PROM_DURATION.test(trimmed)) return undefined;
  let total = 0;
  for (const m of trimmed.matchAll(PROM_PART))
    total += Number(m[1]) * (PROM_UNIT_MS[m[2] as string] as number);
  return total;
}

/**
 * The largest range window in a PromQL expression: `[5m]` of a range vector, or the range of a subquery
 * `[30m:1m]`. String literals are skipped so a label value such as `"[1m]"` does not count. 0 when none.
 */
export function largestRangeMs(expr: string): number {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  let largest = 0;
  for (const m of withoutStrings.matchAll(/\[\s*([0-9a-z]+)\s*(?::\s*[0-9a-z]*\s*)?\]/g)) {
    const ms = parsePromDuration(m[1] as string);
    if (ms !== undefined && ms > largest) largest = ms;
  }
  return largest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the alerting rules of a Prometheus rule file (`groups[].rules[]`); recording rules are skipped. */
export function parseRuleFile(text: string, file = 'rule file'): RuleFileParse {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    return {
      ok: false,
      errors: [`${file}: not valid YAML: ${error instanceof Error ? error.message : String(error)}`],
    };
  }
  return parseRuleDocument(doc, file);
}

/** The alerting rules of a rule file already read as data (the scenario loader parses each file once). */
export function parseRuleDocument(doc: unknown, file = 'rule file'): RuleFileParse {
  if (!isRecord(doc) || !Array.isArray(doc.groups)) {
    return { ok: false, errors: [`${file}: expected a Prometheus rule file with a top-level "groups" list`] };
  }
  const errors: string[] = [];
  const rules: PrometheusAlertRule[] = [];
  doc.groups.forEach((group: unknown, g) => {
    if (!isRecord(group) || typeof group.name !== 'string' || !Array.isArray(group.rules)) {
      errors.push(`${file}: groups[${g}]: expected { name: string, rules: [...] }`);
      return;
    }
    let groupIntervalMs: number | undefined;
    if (group.interval !== undefined) {
      groupIntervalMs = typeof group.interval === 'string' ? parsePromDuration(group.interval) : undefined;
      if (groupIntervalMs === undefined) {
        errors.push(
          `${file}: groups[${g}].interval: expected a duration like "30s", got ${JSON.stringify(group.interval)}`,
        );
      }
    }
    const groupName = group.name;
    group.rules.forEach((rule: unknown, r) => {
      const at = `${file}: groups[${g}].rules[${r}]`;
      if (!isRecord(rule)) {
        errors.push(`${at}: expected a mapping with "alert" or "record"`);
        return;
      }
      if (rule.alert === undefined) return;
      if (typeof rule.alert !== 'string' || typeof rule.expr !== 'string') {
        errors.push(`${at}: expected "alert" and "expr" as strings, got alert=${JSON.stringify(rule.alert)}`);
        return;
      }
      let forMs = 0;
      if (rule.for !== undefined) {
        const parsed = typeof rule.for === 'string' ? parsePromDuration(rule.for) : undefined;
        if (parsed === undefined) {
          errors.push(`${at}.for: expected a duration like "1m", got ${JSON.stringify(rule.for)}`);
          return;
        }
        forMs = parsed;
      }
      rules.push({
        alert: rule.alert,
        expr: rule.expr,
        forMs,
        group: groupName,
        ...(groupIntervalMs === undefined ? {} : { groupIntervalMs }),
      });
    });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rules };
}

/** The detection floor of one alerting rule. */
export function computeDetectionFloor(rule: PrometheusAlertRule, timing: RuleTiming): AlertFloor {
  const parts: DetectionFloorParts = {
    scrapeMs: timing.scrapeIntervalMs,
    evaluationMs: rule.groupIntervalMs ?? timing.evaluationIntervalMs,
    forMs: rule.forMs,
    rangeMs: largestRangeMs(rule.expr),
  };
  return {
    alert: rule.alert,
    group: rule.group,
    expr: rule.expr,
    floorMs: parts.scrapeMs + parts.evaluationMs + parts.forMs,
    lookbackMs: parts.rangeMs + parts.scrapeMs + parts.evaluationMs,
    parts,
  };
}

/**
 * The floor per alert name across the rules. An alert defined in several rules fires as soon as any of them
 * does, so the smallest floor is kept.
 */
export function computeDetectionFloors(
  rules: readonly PrometheusAlertRule[],
  timing: RuleTiming,
): Map<string, AlertFloor> {
  const floors = new Map<string, AlertFloor>();
  for (const rule of rules) {
    const floor = computeDetectionFloor(rule, timing);
    const known = floors.get(rule.alert);
    if (known === undefined || floor.floorMs < known.floorMs) floors.set(rule.alert, floor);
  }
  return floors;
}

export interface DetectionResult {
  fired: boolean;
  /** ms from injection to the first observation that fired, when it fired. */
  ttdMs?: number;
  /** fired within the budget. */
  withinBudget: boolean;
  /** The floor exceeds the budget: the budget cannot be met whatever the mesh does. */
  budgetBelowFloor?: boolean;
}

/**
 * Time-to-detect: from injection to the first observation at or after injection that fired. Observations
 * before injection are ignored here (they are false positives, judged in the steady state).
 */
export function measureTimeToDetect(
  injectedAt: number,
  observations: readonly { t: number; fired: boolean }[],
  budgetMs: number,
  floorMs?: number,
): DetectionResult {
  let first: number | undefined;
  for (const o of observations) {
    if (o.fired && o.t >= injectedAt && (first === undefined || o.t < first)) first = o.t;
  }
  const belowFloor = floorMs === undefined ? {} : { budgetBelowFloor: floorMs > budgetMs };
  if (first === undefined) return { fired: false, withinBudget: false, ...belowFloor };
  const ttdMs = first - injectedAt;
  return { fired: true, ttdMs, withinBudget: ttdMs <= budgetMs, ...belowFloor };
}
