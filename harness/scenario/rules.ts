// Stage 3 of validation: named semantic rules (docs/scenario-format.md#rules). Each is a small pure function
// over the parsed spec and the files it names; it returns findings, never throws, and never stops the others.

import { DEFAULT_ROUTING_RECEIVER, isKubeObject } from '../model/index.js';
import { findUnboundPlaceholders } from '../runbook/index.js';
import { parseThreshold } from '../slo/index.js';
import { parseDuration } from '../util/duration.js';
import type { ExternalFiles } from './external-files.js';
import { CERTIFICATE_EXPIRY_DEFAULTS } from './kinds.js';
import { KNOWN_API_VERSIONS, apiGroupOf } from './object-refs.js';
import { describeValue, formatPath, type Problem } from './problem.js';
import { listManifestRefs, listObjectRefs, listRunbookRefs, listVariants, type VariantUse } from './refs.js';
import { DEFAULTS, namespaceFor, resolveRelative } from './resolve.js';
import { promqlProblem } from './promql-syntax.js';
import { collectStrings, expandScaled, findInvalidScaled } from './scaled.js';
import type { DataPath, Finding } from './shape-issues.js';
import type { ConditionSpecInput, RecoveryConditionInput, ScenarioSpec } from './spec.js';
import { parseYamlSource, type YamlDocument } from './yaml-source.js';

export interface RuleContext {
  spec: ScenarioSpec;
  /** The target the scenario is validated for, when known (some rules hold only where meshdrill loads rules). */
  target?: string;
  /** Absolute path of the scenario file. */
  file: string;
  files: ExternalFiles;
}

/** A finding located in the scenario (by data path) or a problem in another file (runbook, manifest). */
export type RuleFinding = Finding | Problem;

export interface Rule {
  name: string;
  /** One line for the docs and `--help`. */
  summary: string;
  check(ctx: RuleContext): RuleFinding[];
}

export const FAULT_GROUPS: Record<'chaos-mesh' | 'istio', string[]> = {
  'chaos-mesh': ['chaos-mesh.org'],
  istio: ['networking.istio.io', 'security.istio.io'],
};

interface ConditionUse {
  c: ConditionSpecInput | RecoveryConditionInput;
  path: DataPath;
  /** The runbook variant whose own recovery.conditions list holds it (index); absent: the drill's. */
  variant?: number;
}

/**
 * Every condition of the scenario with its data path: efficacy, detect, recovery.conditions, then each runbook
 * variant's own recovery.conditions.
 */
const conditions = (spec: ScenarioSpec): ConditionUse[] => [
  ...(['efficacy', 'detect'] as const).flatMap((field) =>
    (spec.spec[field] ?? []).map((c, i) => ({ c, path: ['spec', field, i] as DataPath })),
  ),
  ...(spec.spec.recovery.conditions ?? []).map((c, i) => ({
    c,
    path: ['spec', 'recovery', 'conditions', i] as DataPath,
  })),
  ...(spec.spec.runbookVariants ?? []).flatMap((v, j) =>
    (v.recovery?.conditions ?? []).map((c, i) => ({
      c,
      path: ['spec', 'runbookVariants', j, 'recovery', 'conditions', i] as DataPath,
      variant: j,
    })),
  ),
];

/**
 * The condition lists one run judges by: the drill's (efficacy, detect, recovery), and for each runbook variant
 * with conditions of its own, efficacy, detect and those (they replace the drill's recovery conditions).
 */
const judgedSets = (spec: ScenarioSpec): ConditionUse[][] => {
  const all = conditions(spec);
  const variants = [...new Set(all.flatMap((u) => (u.variant === undefined ? [] : [u.variant])))];
  const shared = all.filter((u) => u.variant === undefined && u.path[1] !== 'recovery');
  return [
    all.filter((u) => u.variant === undefined),
    ...variants.map((j) => [...shared, ...all.filter((u) => u.variant === j)]),
  ];
};

const sloThresholdParses: Rule = {
  name: 'slo-threshold-parses',
  summary: 'every SLO is a threshold in the grammar (success_rate, error_rate, p(N))',
  check: ({ spec }) =>
    spec.spec.slos.flatMap((source, i) => {
      const parsed = parseThreshold(source);
      return parsed.ok
        ? []
        : [
            {
              path: ['spec', 'slos', i],
              message: `expected ${parsed.expected}, got ${describeValue(source)}`,
            },
          ];
    }),
};

const signalNamesUnique: Rule = {
  name: 'signal-names-unique',
  summary:
    "efficacy, detect and recovery condition names are unique across the three lists, a runbook variant's own recovery conditions among themselves and with efficacy and detect (reports key on them)",
  check: ({ spec }) => {
    const out = new Map<string, Finding>();
    for (const set of judgedSets(spec)) {
      const seen = new Map<string, string>();
      for (const { c, path } of set) {
        const first = seen.get(c.name);
        if (first) {
          out.set(formatPath(path), {
            path: [...path, 'name'],
            message: `"${c.name}" is already used by ${first}; give each efficacy check, signal and recovery condition its own name`,
          });
        } else seen.set(c.name, formatPath(path));
      }
    }
    return [...out.values()];
  },
};

const variantNamesUnique: Rule = {
  name: 'variant-names-unique',
  summary: 'negative controls and runbook variants have unique names, none called "main"',
  check: ({ spec }) => {
    const seen = new Map<string, string>([['main', 'the main drill']]);
    const out: Finding[] = [];
    for (const field of ['negativeControls', 'runbookVariants'] as const) {
      (spec.spec[field] ?? []).forEach((v, i) => {
        const first = seen.get(v.name);
        if (first)
          out.push({
            path: ['spec', field, i, 'name'],
            message: `"${v.name}" is already used by ${first}; rename it`,
          });
        else seen.set(v.name, formatPath(['spec', field, i]));
      });
    }
    return out;
  },
};

const detectHasBudget: Rule = {
  name: 'detect-has-budget',
  summary: 'every detection signal says within how long it must fire',
  check: ({ spec }) =>
    (spec.spec.detect ?? []).flatMap((c, i) =>
      c.within === undefined
        ? [
            {
              path: ['spec', 'detect', i, 'within'],
              message: 'expected a duration like "60s", got nothing (a detection signal needs a budget)',
            },
          ]
        : [],
    ),
};

const manifestRefOneSource: Rule = {
  name: 'manifest-ref-one-source',
  summary: 'a manifest reference has exactly one of `file` or `inline` (or, in the workload, `generate`)',
  check: ({ spec }) =>
    listManifestRefs(spec).flatMap(({ path, ref }) => {
      const generated = 'generate' in ref && ref.generate !== undefined;
      const n = Number(ref.file !== undefined) + Number(ref.inline !== undefined) + Number(generated);
      if (n === 1) return [];
      const workload = path[1] === 'workload' && path[2] === 'manifests';
      const got = n === 0 ? 'neither' : generated ? 'several' : 'both';
      const message = workload
        ? `expected exactly one of file or inline (or generate), got ${got}`
        : `expected exactly one of file or inline, got ${got}`;
      return [{ path, message }];
    }),
};

const GENERATOR_FIELDS = ['namespace', 'name', 'intermediateValidity', 'rootValidity', 'rootSecret'] as const;

const generatedManifestFields: Rule = {
  name: 'generated-manifest-fields',
  summary: 'generate: cacerts has an intermediateValidity; generator fields appear only with generate',
  check: ({ spec }) =>
    spec.spec.workload.manifests.flatMap((ref, i): RuleFinding[] => {
      const path = ['spec', 'workload', 'manifests', i];
      if (ref.generate === undefined) {
        return GENERATOR_FIELDS.filter((f) => ref[f] !== undefined).map((f) => ({
          path: [...path, f],
          message: `expected ${f} only beside generate (e.g. generate: cacerts), got it on a ${ref.file !== undefined ? 'file' : 'inline'} manifest; remove it`,
        }));
      }
      if (ref.intermediateValidity === undefined) {
        return [
          {
            path: [...path, 'intermediateValidity'],
            message:
              'expected a duration like "3m" (how long the generated intermediate lives), got nothing (generate: cacerts needs it)',
          },
        ];
      }
      return [];
    }),
};

const manifestFileExists: Rule = {
  name: 'manifest-file-exists',
  summary: 'a manifest `file` exists (relative to the scenario file) and is valid YAML',
  check: ({ spec, file, files }) =>
    listManifestRefs(spec).flatMap(({ path, ref }): RuleFinding[] => {
      if (ref.file === undefined) return [];
      const abs = resolveRelative(file, ref.file);
      const m = files.manifests.get(abs);
      if (m?.error)
        return [
          {
            path: [...path, 'file'],
            message: `cannot read ${JSON.stringify(ref.file)} (${abs}): ${m.error}`,
          },
        ];
      return m?.problems ?? [];
    }),
};

/** The objects a manifest reference stands for, each with where to report a problem about it. */
function objectsOf(ctx: RuleContext, use: ReturnType<typeof listManifestRefs>[number]) {
  if (use.ref.inline !== undefined)
    return [{ value: use.ref.inline as unknown, at: { path: [...use.path, 'inline'] } }];
  if (use.ref.file === undefined) return [];
  const m = ctx.files.manifests.get(resolveRelative(ctx.file, use.ref.file));
  return (m?.documents ?? []).map((d, i) => ({
    value: d.value,
    at: { file: m?.path ?? '', line: d.line, column: d.column, path: `document ${i + 1}` },
  }));
}

function findingAt(
  at: { path: (string | number)[] } | { file: string; line: number; column: number; path: string },
  message: string,
  rule: string,
): RuleFinding {
  return 'file' in at ? { ...at, message, rule } : { path: at.path, message };
}

const manifestIsKubernetesObject: Rule = {
  name: 'manifest-is-kubernetes-object',
  summary: 'every manifest is a Kubernetes object with apiVersion, kind and metadata.name',
  check: (ctx) =>
    listManifestRefs(ctx.spec).flatMap((use) =>
      objectsOf(ctx, use).flatMap(({ value, at }) => {
        const missing = missingFields(value);
        return missing.length === 0
          ? []
          : [
              findingAt(
                at,
                `expected a Kubernetes object with apiVersion, kind and metadata.name, got one without ${missing.join(', ')}`,
                'manifest-is-kubernetes-object',
              ),
            ];
      }),
    ),
};

function missingFields(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return ['apiVersion', 'kind', 'metadata'];
  const v = value as Record<string, unknown>;
  const meta = v.metadata as Record<string, unknown> | undefined;
  const missing: string[] = [];
  if (typeof v.apiVersion !== 'string') missing.push('apiVersion');
  if (typeof v.kind !== 'string') missing.push('kind');
  if (meta === null || typeof meta !== 'object') missing.push('metadata');
  else if (typeof meta.name !== 'string' && typeof meta.generateName !== 'string')
    missing.push('metadata.name');
  return missing;
}

const faultManifestSingleObject: Rule = {
  name: 'fault-manifest-single-object',
  summary: 'a fault manifest (and an `apply` action) is exactly one object, so its removal is exact',
  check: (ctx) =>
    listManifestRefs(ctx.spec).flatMap((use) => {
      if (!use.single || use.ref.file === undefined) return [];
      const m = ctx.files.manifests.get(resolveRelative(ctx.file, use.ref.file));
      if (!m || m.error || m.problems.length > 0 || m.documents.length === 1) return [];
      return [
        {
          path: [...use.path, 'file'],
          message: `expected a file with exactly one object, got ${m.documents.length}; split it into one fault per scenario`,
        },
      ];
    }),
};

const faultGroupMatchesKind: Rule = {
  name: 'fault-group-matches-kind',
  summary: 'a chaos-mesh fault is a chaos-mesh.org object; an istio fault a networking/security.istio.io one',
  check: (ctx) =>
    listManifestRefs(ctx.spec).flatMap((use) => {
      const kind = use.faultKind;
      if (!kind) return [];
      const groups = FAULT_GROUPS[kind];
      return objectsOf(ctx, use).flatMap(({ value, at }) => {
        const apiVersion = (value as { apiVersion?: unknown } | null)?.apiVersion;
        if (typeof apiVersion !== 'string' || groups.includes(apiGroupOf(apiVersion))) return [];
        return [
          findingAt(
            at,
            `expected an object of API group ${groups.join(' or ')} for a ${kind} fault, got apiVersion ${JSON.stringify(apiVersion)}; change fault.kind or the manifest`,
            'fault-group-matches-kind',
          ),
        ];
      });
    }),
};

const chaosPodFailureNeedsDuration: Rule = {
  name: 'chaos-pod-failure-needs-duration',
  summary:
    "a PodChaos with action pod-failure sets spec.duration (Chaos Mesh's webhook rejects it otherwise)",
  check: (ctx) =>
    listManifestRefs(ctx.spec).flatMap((use) =>
      use.faultKind !== 'chaos-mesh'
        ? []
        : objectsOf(ctx, use).flatMap(({ value, at }) => {
            const v = value as { kind?: unknown; spec?: { action?: unknown; duration?: unknown } } | null;
            if (
              v?.kind !== 'PodChaos' ||
              v.spec?.action !== 'pod-failure' ||
              typeof v.spec.duration === 'string'
            )
              return [];
            const where = 'file' in at ? at : { path: [...at.path, 'spec'] };
            return [
              findingAt(
                where,
                'expected spec.duration (e.g. "30s") on a PodChaos with action pod-failure, got none; Chaos Mesh rejects it without one',
                'chaos-pod-failure-needs-duration',
              ),
            ];
          }),
    ),
};

const objectRefResolvable: Rule = {
  name: 'object-ref-resolvable',
  summary:
    'an object reference names its apiVersion (unless the kind is well known) and, for fault actions, a name or labelSelector',
  check: ({ spec }) =>
    listObjectRefs(spec).flatMap(({ path, ref, mustSelect }) => {
      const out: Finding[] = [];
      if (ref.apiVersion === undefined && KNOWN_API_VERSIONS[ref.kind] === undefined) {
        out.push({
          path: [...path, 'kind'],
          message: `expected a well-known kind or an explicit apiVersion, got kind ${JSON.stringify(ref.kind)} without apiVersion; add apiVersion (e.g. "apps/v1")`,
        });
      }
      if (mustSelect && ref.name === undefined && ref.labelSelector === undefined) {
        out.push({
          path,
          message:
            'expected name or labelSelector, got neither; a fault action must say which objects it hits',
        });
      }
      return out;
    }),
};

const runbookExists: Rule = {
  name: 'runbook-exists',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal syntax users write.
  summary: 'every runbook path exists (relative to the scenario file) and names known ${mesh.…} variables',
  check: ({ spec, file, files }) => {
    const reported = new Set<string>();
    return listRunbookRefs(spec).flatMap(({ path, ref }): RuleFinding[] => {
      const abs = resolveRelative(file, ref.path);
      const rb = files.runbooks.get(abs);
      if (rb?.error)
        return [
          {
            path: [...path, 'path'],
            message: `cannot read runbook ${JSON.stringify(ref.path)} (${abs}): ${rb.error}`,
          },
        ];
      // Unknown `${mesh.…}` in the runbook, at their own lines: once per file however many variants name it.
      if (!rb?.problems || reported.has(abs)) return [];
      reported.add(abs);
      return rb.problems;
    });
  },
};

const runbookHasSteps: Rule = {
  name: 'runbook-has-steps',
  summary:
    'a runbook has at least one fenced bash/sh/shell or yaml block (write `runbook: none` for an empty one)',
  check: ({ spec, file, files }) =>
    listRunbookRefs(spec).flatMap(({ path, ref }) => {
      const rb = files.runbooks.get(resolveRelative(file, ref.path));
      if (!rb || rb.error || rb.steps.length > 0) return [];
      return [
        {
          path: [...path, 'path'],
          message: `expected a runbook with at least one fenced bash, sh, shell or yaml block, got none in ${JSON.stringify(ref.path)}; write runbook: none for an empty runbook`,
        },
      ];
    }),
};

const runbookPlaceholdersBound: Rule = {
  name: 'runbook-placeholders-bound',
  summary: 'every <placeholder> and unset $VARIABLE in the runbook is bound by its variables',
  check: ({ spec, file, files }) =>
    listRunbookRefs(spec).flatMap(({ path, ref, variables }) => {
      const rb = files.runbooks.get(resolveRelative(file, ref.path));
      if (!rb || rb.error) return [];
      return findUnboundPlaceholders(rb.steps, variables).map(({ step, placeholder }) => ({
        file: step.file,
        line: placeholder.line,
        column: 0,
        path: `step "${step.title}"`,
        message: `placeholder ${placeholder.token} is not bound; add it to ${formatPath(path)}.variables in the scenario`,
        rule: 'runbook-placeholders-bound',
      }));
    }),
};

const runbookManifestsParse: Rule = {
  name: 'runbook-manifests-parse',
  summary: 'every yaml block of a runbook is valid YAML made of objects with apiVersion and kind',
  check: ({ spec, file, files }) => {
    const seen = new Set<string>();
    return listRunbookRefs(spec).flatMap(({ ref }) => {
      const rb = files.runbooks.get(resolveRelative(file, ref.path));
      if (!rb || rb.error || seen.has(rb.path)) return [];
      seen.add(rb.path);
      return rb.steps.flatMap((step) => {
        if (step.kind !== 'apply') return [];
        const at = {
          file: step.file,
          line: step.line,
          column: 0,
          path: `step "${step.title}"`,
          rule: 'runbook-manifests-parse',
        };
        const source = parseYamlSource(step.body, step.file);
        const problem = source.problems[0];
        if (problem) {
          // The body starts on the line after the opening fence.
          const line = step.line + problem.line;
          const message = `expected valid YAML in the yaml block, got: ${problem.message.replace(/^invalid YAML: /, '')}`;
          return [{ ...at, line, message }];
        }
        const bad = source.documents
          .map((d) => d.data)
          .filter((v) => v !== null && !(isKubeObject(v) || hasKind(v)));
        return bad.length > 0
          ? [
              {
                ...at,
                message:
                  'expected Kubernetes objects (apiVersion and kind) in the yaml block, got something else',
              },
            ]
          : [];
      });
    });
  },
};

function hasKind(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { apiVersion?: unknown }).apiVersion === 'string' &&
    typeof (v as { kind?: unknown }).kind === 'string'
  );
}

const verifyWithinBudget: Rule = {
  name: 'verify-within-budget',
  summary:
    "recovery.verify is not longer than recovery.budget (a runbook variant's own, each the drill's where it gives none)",
  check: ({ spec }) => {
    const drill = spec.spec.recovery;
    const own = (spec.spec.runbookVariants ?? []).flatMap((v, j) =>
      v.recovery === undefined || (v.recovery.budget ?? v.recovery.verify) === undefined
        ? []
        : [
            {
              at: ['spec', 'runbookVariants', j, 'recovery'] as DataPath,
              budget: v.recovery.budget ?? drill.budget,
              verify: v.recovery.verify ?? drill.verify,
              // The field to fix: the variant's verify if it gave one, else its budget.
              field: v.recovery.verify === undefined ? 'budget' : 'verify',
            },
          ],
    );
    const all = [{ at: ['spec', 'recovery'] as DataPath, ...drill, field: 'verify' }, ...own];
    return all.flatMap(({ at, budget, verify, field }) => {
      const b = parseDuration(budget);
      const v = verify === undefined ? undefined : parseDuration(verify);
      if (b === undefined || v === undefined || v <= b) return [];
      return [
        {
          path: [...at, field],
          message: `expected a verification window no longer than the recovery budget (${budget}), got ${JSON.stringify(verify)}; shorten verify or raise budget`,
        },
      ];
    });
  },
};

const timeoutsCoverBudgets: Rule = {
  name: 'timeouts-cover-budgets',
  summary: 'an explicit phase timeout leaves room for the budget that phase waits on (given or default)',
  check: ({ spec }) => {
    const s = spec.spec;
    const t = s.timeouts ?? {};
    const d = (text: string | undefined) => (text === undefined ? undefined : parseDuration(text));
    // What a phase waits on counts with its default when the scenario leaves it out.
    const or = (text: string | undefined, fallbackMs: number) => (text === undefined ? fallbackMs : d(text));
    const maxWithin = (list: ConditionSpecInput[] | undefined, fallbackMs: number) =>
      Math.max(0, ...(list ?? []).map((c) => or(c.within, fallbackMs) ?? 0));
    const named = (field: string, text: string | undefined, fallbackMs: number) =>
      text === undefined ? `${field}, ${fallbackMs / 1000}s by default` : field;
    const steadyText = typeof s.steadyState === 'string' ? s.steadyState : s.steadyState?.duration;
    const { readyTimeout } = s.workload;
    const maxWait = s.fault.kind === 'certificate-expiry' ? s.fault.maxWait : undefined;
    const { maxWaitMs } = CERTIFICATE_EXPIRY_DEFAULTS;
    const needs: [keyof typeof t, number | undefined, string][] = [
      [
        'deploy',
        or(readyTimeout, DEFAULTS.readyTimeoutMs),
        named('workload.readyTimeout', readyTimeout, DEFAULTS.readyTimeoutMs),
      ],
      [
        'inject',
        s.fault.kind === 'certificate-expiry' ? or(maxWait, maxWaitMs) : undefined,
        named('fault.maxWait', maxWait, maxWaitMs),
      ],
      [
        'steady-state',
        or(steadyText, DEFAULTS.steadyStateMs),
        named('steadyState', steadyText, DEFAULTS.steadyStateMs),
      ],
      ['efficacy', maxWithin(s.efficacy, DEFAULTS.efficacyWithinMs), 'the longest efficacy within'],
      ['detect', maxWithin(s.detect, DEFAULTS.detectWithinMs), 'the longest detect within'],
      [
        'recover',
        (d(s.recovery.budget) ?? 0) + (or(s.recovery.verify, DEFAULTS.verifyMs) ?? 0),
        `recovery.budget + ${named('recovery.verify', s.recovery.verify, DEFAULTS.verifyMs)}`,
      ],
      // A runbook variant with a budget or verify of its own waits that long in the same phase.
      ...(s.runbookVariants ?? []).flatMap((v, j): [keyof typeof t, number | undefined, string][] => {
        const own = v.recovery;
        if (own?.budget === undefined && own?.verify === undefined) return [];
        const budget = own.budget ?? s.recovery.budget;
        const verify = own.verify ?? s.recovery.verify;
        const at = `runbookVariants[${j}] (${v.name})`;
        return [
          [
            'recover',
            (d(budget) ?? 0) + (or(verify, DEFAULTS.verifyMs) ?? 0),
            `${at} recovery budget + ${named('verify', verify, DEFAULTS.verifyMs)}`,
          ],
        ];
      }),
    ];
    return needs.flatMap(([phase, need, what]) => {
      const have = d(t[phase]);
      if (have === undefined || need === undefined || have >= need) return [];
      return [
        {
          path: ['spec', 'timeouts', phase],
          message: `expected at least ${need / 1000}s (${what}), got ${JSON.stringify(t[phase])}; raise the timeout or remove it to use the default`,
        },
      ];
    });
  },
};

const requestWeightsPositive: Rule = {
  name: 'request-weights-positive',
  summary: 'every request weight in the load mix is a positive number',
  check: ({ spec }) =>
    (spec.spec.load.requests ?? []).flatMap((r, i) =>
      typeof r !== 'string' && r.weight !== undefined && !(r.weight > 0)
        ? [
            {
              path: ['spec', 'load', 'requests', i, 'weight'],
              message: `expected a positive weight, got ${describeValue(r.weight)}; remove the request instead of weighting it 0`,
            },
          ]
        : [],
    ),
};

const stagesMatchExecutor: Rule = {
  name: 'stages-match-executor',
  summary: 'ramping-arrival-rate has stages; constant-arrival-rate has none',
  check: ({ spec }) => {
    const { executor, stages } = spec.spec.load;
    if (executor === 'ramping-arrival-rate' && (stages ?? []).length === 0) {
      return [
        {
          path: ['spec', 'load', 'stages'],
          message: 'expected stages [{ duration, target }] for executor ramping-arrival-rate, got none',
        },
      ];
    }
    if (executor === 'constant-arrival-rate' && (stages ?? []).length > 0) {
      return [
        {
          path: ['spec', 'load', 'stages'],
          message:
            'expected no stages for executor constant-arrival-rate, got some; use executor: ramping-arrival-rate',
        },
      ];
    }
    return [];
  },
};

/**
 * A drill that may run beside others must not reach outside its namespace, and its alert signals must tell its
 * own alert instances from theirs. The runbook cannot be checked: docs/scenario-format.md says what it may do.
 */
const namespaceIsolationHolds: Rule = {
  name: 'namespace-isolation-holds',
  summary:
    'isolation: namespace keeps the fault, setup and generated objects in the drill namespace and scopes every alert signal with labels',
  check: (ctx) => {
    const s = ctx.spec.spec;
    if (s.isolation !== 'namespace') return [];
    const namespace = s.workload.namespace ?? namespaceFor(ctx.spec.metadata.name);
    const rule = 'namespace-isolation-holds';
    const outside = (where: string, got: string) =>
      `expected ${where} in the drill's namespace ${namespace} (isolation: namespace), got ${got}; keep it in the namespace or set isolation: cluster`;
    const findings: RuleFinding[] = [];
    if (s.fault.kind === 'certificate-expiry')
      findings.push({
        path: ['spec', 'fault', 'kind'],
        message:
          "expected a fault that stays in the drill's namespace (isolation: namespace), got certificate-expiry, which expires the mesh's CA; set isolation: cluster",
      });
    s.workload.manifests.forEach((m, i) => {
      if (m.generate !== undefined)
        findings.push({
          path: ['spec', 'workload', 'manifests', i, 'generate'],
          message: outside('generated objects', `generate: ${m.generate} (it writes to istio-system)`),
        });
    });
    const commands: { path: (string | number)[] }[] = [
      ...(s.workload.setup ?? []).map((a, i) => ({ a, path: ['spec', 'workload', 'setup', i] })),
      ...(s.fault.kind === 'kubernetes'
        ? s.fault.steps.map((a, i) => ({ a, path: ['spec', 'fault', 'steps', i] }))
        : []),
    ].filter(({ a }) => a.action === 'command');
    for (const { path } of commands)
      findings.push({
        path: [...path, 'action'],
        message:
          "expected actions that stay in the drill's namespace (isolation: namespace), got a command, whose script may change anything the kubeconfig reaches (istioctl install changes the control plane); set isolation: cluster",
      });
    for (const use of listObjectRefs(ctx.spec)) {
      if (!use.mustSelect || use.ref.namespace === undefined || use.ref.namespace === namespace) continue;
      findings.push({ path: [...use.path, 'namespace'], message: outside('the target', use.ref.namespace) });
    }
    for (const use of listManifestRefs(ctx.spec).filter((u) => u.single)) {
      for (const { value, at } of objectsOf(ctx, use)) {
        const object = value as {
          metadata?: { namespace?: unknown };
          spec?: { selector?: { namespaces?: unknown } };
        } | null;
        const own = object?.metadata?.namespace;
        if (typeof own === 'string' && own !== namespace)
          findings.push(findingAt(at, outside('the object', `metadata.namespace ${own}`), rule));
        const selected = object?.spec?.selector?.namespaces;
        if (Array.isArray(selected) && selected.some((n) => n !== namespace))
          findings.push(
            findingAt(
              at,
              outside('every selected namespace', `spec.selector.namespaces ${JSON.stringify(selected)}`),
              rule,
            ),
          );
      }
    }
    for (const { c, path } of conditions(ctx.spec)) {
      if ((c.kind === 'alert' || c.kind === 'notification') && Object.keys(c.labels ?? {}).length === 0)
        findings.push({
          path: [...path, 'labels'],
          message: `expected labels that name this drill's instances of ${c.alert} (such as { namespace: ${namespace} }), got none: beside other drills, their ${c.alert} would count as this drill's`,
        });
    }
    return findings;
  },
};

const alertRulesExist: Rule = {
  name: 'alert-rules-exist',
  summary: 'every alertRules file exists (relative to the scenario file)',
  check: ({ spec, file, files }) =>
    (spec.spec.alertRules ?? []).flatMap((rel, i) => {
      const abs = resolveRelative(file, rel);
      const error = files.alertRules.get(abs)?.error;
      return error
        ? [
            {
              path: ['spec', 'alertRules', i],
              message: `cannot read rule file ${JSON.stringify(rel)} (${abs}): ${error}`,
            },
          ]
        : [];
    }),
};

const scaledDurationValid: Rule = {
  name: 'scaled-duration-valid',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal syntax users write.
  summary: 'every ${scaled:D} holds a valid duration',
  check: (ctx) => {
    const s = ctx.spec.spec;
    const places: { at: Parameters<typeof findingAt>[0]; value: unknown }[] = conditions(ctx.spec).map(
      ({ c, path }) => ({
        at: { path },
        value: c,
      }),
    );
    if (s.fault.kind === 'kubernetes') {
      for (const [i, step] of s.fault.steps.entries()) {
        if (step.action !== 'apply')
          places.push({ at: { path: ['spec', 'fault', 'steps', i] }, value: step });
      }
    }
    for (const use of listManifestRefs(ctx.spec)) {
      if (use.single) for (const { value, at } of objectsOf(ctx, use)) places.push({ at, value });
    }
    return places.flatMap(({ at, value }) =>
      collectStrings(value).flatMap((text) =>
        findInvalidScaled(text).map((token) =>
          findingAt(
            at,
            `expected \${scaled:DURATION} such as \${scaled:1m}, got ${JSON.stringify(token)}`,
            'scaled-duration-valid',
          ),
        ),
      ),
    );
  },
};

const patternsCompile: Rule = {
  name: 'patterns-compile',
  summary: 'log patterns, bodyPattern, outputPattern and `matches` values are valid regular expressions',
  check: ({ spec }) =>
    conditions(spec).flatMap(({ c, path }) => {
      const fields: [string, unknown][] =
        c.kind === 'log'
          ? [['pattern', c.pattern]]
          : c.kind === 'http'
            ? [['bodyPattern', c.bodyPattern]]
            : c.kind === 'command'
              ? [['outputPattern', c.outputPattern]]
              : c.kind === 'kubernetes' && c.op === 'matches'
                ? [['value', c.value]]
                : [];
      return fields.flatMap(([field, value]) => {
        if (typeof value !== 'string') return [];
        try {
          new RegExp(value);
          return [];
        } catch (error) {
          return [
            {
              path: [...path, field],
              message: `expected a regular expression, got ${JSON.stringify(value)} (${(error as Error).message})`,
            },
          ];
        }
      });
    }),
};

const conditionValuePresent: Rule = {
  name: 'condition-value-present',
  summary: 'a kubernetes condition has a value exactly when its op compares (not for exists/absent)',
  check: ({ spec }) =>
    conditions(spec).flatMap(({ c, path }) => {
      if (c.kind !== 'kubernetes' || c.op === undefined) return [];
      const unary = c.op === 'exists' || c.op === 'absent';
      if (unary && c.value !== undefined)
        return [
          {
            path: [...path, 'value'],
            message: `expected no value with op ${c.op}, got ${describeValue(c.value)}`,
          },
        ];
      if (!unary && c.value === undefined)
        return [
          {
            path: [...path, 'value'],
            message: `expected a value to compare with op ${JSON.stringify(c.op)}, got nothing`,
          },
        ];
      return [];
    }),
};

const httpUrlLocal: Rule = {
  name: 'http-url-local',
  summary: 'an http condition url is a path on the ingress ("/healthz") or an http URL on 127.0.0.0/8',
  check: ({ spec }) =>
    conditions(spec).flatMap(({ c, path }) => {
      if (c.kind !== 'http' || c.url.startsWith('/')) return [];
      let host = '';
      try {
        const url = new URL(c.url);
        host = url.protocol.startsWith('http') ? url.hostname : '';
      } catch {
        // not a URL at all
      }
      if (/^127\.\d+\.\d+\.\d+$/.test(host) || host === 'localhost') return [];
      return [
        {
          path: [...path, 'url'],
          message: `expected a path such as "/healthz" or an http URL on 127.0.0.0/8, got ${JSON.stringify(c.url)}`,
        },
      ];
    }),
};

const promqlParses: Rule = {
  name: 'promql-parses',
  summary:
    'every promql query parses as Prometheus parses it (grammar, unknown functions, range vs instant vectors)',
  check: ({ spec }) =>
    conditions(spec).flatMap(({ c, path }) => {
      if (c.kind !== 'promql' || typeof c.query !== 'string' || findInvalidScaled(c.query).length > 0)
        return [];
      // Each ${scaled:D} becomes a duration at run time; an invalid one is scaled-duration-valid's to report.
      const problem = promqlProblem(expandScaled(c.query, 1), c.query);
      return problem ? [{ path: [...path, 'query'], message: problem }] : [];
    }),
};

interface RuleFileShape {
  groups?: { name?: unknown; rules?: { alert?: unknown; record?: unknown; expr?: unknown }[] }[];
}

const alertRulesParse: Rule = {
  name: 'alert-rules-parse',
  summary:
    'every alertRules file is Prometheus rule groups whose rules name an alert or record and whose expr parses',
  check: ({ spec, file, files }) =>
    (spec.spec.alertRules ?? []).flatMap((rel) => {
      const abs = resolveRelative(file, rel);
      const source = files.alertRules.get(abs)?.source;
      if (source === undefined) return [];
      const problems: Problem[] = source.problems.map((p) => ({ ...p, rule: 'alert-rules-parse' }));
      for (const doc of source.documents) problems.push(...ruleFileProblems(doc, abs));
      return problems;
    }),
};

function ruleFileProblems(doc: YamlDocument, file: string): Problem[] {
  const at = (path: (string | number)[], message: string): Problem => ({
    file,
    ...doc.locate(path),
    path: formatPath(path),
    message,
    rule: 'alert-rules-parse',
  });
  const groups = (doc.data as RuleFileShape | null)?.groups;
  if (!Array.isArray(groups))
    return [at([], 'expected Prometheus rule groups (groups: [{ name, rules }]), got none')];
  return groups.flatMap((group, g) =>
    (Array.isArray(group?.rules) ? group.rules : []).flatMap((rule, r) => {
      const path = ['groups', g, 'rules', r];
      if (typeof rule?.alert !== 'string' && typeof rule?.record !== 'string')
        return [at(path, 'expected a rule with "alert" or "record", got neither')];
      if (typeof rule.expr !== 'string') return [at([...path, 'expr'], 'expected a PromQL expr, got none')];
      const problem = promqlProblem(rule.expr);
      return problem ? [at([...path, 'expr'], problem)] : [];
    }),
  );
}

const alertDefined: Rule = {
  name: 'alert-defined',
  summary:
    "an alert signal names an alert its scenario's rule files define (not checked for --target existing, whose Prometheus has rules of its own)",
  check: ({ spec, file, files, target }) => {
    if (target === 'existing') return [];
    const defined = new Set<string>();
    let unreadable = false;
    for (const rel of spec.spec.alertRules ?? []) {
      const entry = files.alertRules.get(resolveRelative(file, rel));
      if (!entry?.source || entry.source.problems.length > 0) unreadable = true;
      for (const doc of entry?.source?.documents ?? []) {
        for (const group of (doc.data as RuleFileShape | null)?.groups ?? []) {
          for (const rule of group?.rules ?? []) if (typeof rule?.alert === 'string') defined.add(rule.alert);
        }
      }
    }
    // A rule file that cannot be read or parsed is reported by its own rules; guessing what it defines is not.
    if (unreadable) return [];
    return conditions(spec).flatMap(({ c, path }) =>
      (c.kind === 'alert' || c.kind === 'notification') && !defined.has(c.alert)
        ? [
            {
              path: [...path, 'alert'],
              message: `expected an alert defined in the scenario's alertRules (${[...defined].sort().join(', ') || 'none listed'}), got "${c.alert}": meshdrill loads only those rules, so it would never fire; add its rule file to alertRules`,
            },
          ]
        : [],
    );
  },
};

/** Each routing file as written in the scenario (its own and the variants' overrides), once per place. */
function routingRefs(spec: ScenarioSpec): { rel: string; path: DataPath }[] {
  const seen = new Set<string>();
  return listVariants(spec).flatMap(({ routing }) => {
    const key = routing ? formatPath(routing.path) : '';
    if (!routing || seen.has(key)) return [];
    seen.add(key);
    return [routing];
  });
}

const alertmanagerRoutingExists: Rule = {
  name: 'alertmanager-routing-exists',
  summary: 'every alertmanager.routing file exists (relative to the scenario file)',
  check: ({ spec, file, files }) =>
    routingRefs(spec).flatMap(({ rel, path }) => {
      const abs = resolveRelative(file, rel);
      const error = files.routings.get(abs)?.error;
      return error
        ? [
            {
              path,
              message: `cannot read Alertmanager routing ${JSON.stringify(rel)} (${abs}): ${error}; give the path of an alertmanager.yml relative to the scenario file`,
            },
          ]
        : [];
    }),
};

const alertmanagerRoutingValid: Rule = {
  name: 'alertmanager-routing-valid',
  summary:
    'every alertmanager.routing file is YAML, a mapping with route and receivers, and passes amtool check-config (when amtool is on PATH)',
  check: ({ spec, file, files }) => {
    const reported = new Set<string>();
    return routingRefs(spec).flatMap(({ rel, path }): RuleFinding[] => {
      const routing = files.routings.get(resolveRelative(file, rel));
      if (!routing || routing.error) return [];
      // The file's own problems once, however many variants name it; amtool's unplaced ones at each mention.
      const own = reported.has(routing.path) ? [] : routing.problems;
      reported.add(routing.path);
      const unplaced = routing.unlocated.map((objection) => ({
        path,
        message: `expected a configuration Alertmanager loads, got amtool check-config's objection to ${JSON.stringify(rel)}: ${objection}; fix the routing file`,
      }));
      return [...own, ...unplaced];
    });
  },
};

/** The receivers a variant's notifications can reach; undefined when unknown (the user's own Alertmanager). */
interface Routed {
  /** The routing, in words. */
  where: string;
  /** How to make a receiver it lacks reachable. */
  fix: string;
  receivers: string[];
}

function receiversOf(ctx: RuleContext, variant: VariantUse): Routed | undefined {
  if (variant.routing === undefined)
    return ctx.target === 'existing'
      ? undefined
      : {
          where: "meshdrill's own routing",
          fix: `name ${DEFAULT_ROUTING_RECEIVER}, give the scenario an alertmanager.routing that defines the receiver`,
          receivers: [DEFAULT_ROUTING_RECEIVER],
        };
  const routing = ctx.files.routings.get(resolveRelative(ctx.file, variant.routing.rel));
  // A routing that cannot be read or checked is reported by its own rules; its receivers would be a guess.
  if (!routing || routing.error || routing.problems.length + routing.unlocated.length > 0) return undefined;
  return {
    where: `the routing ${JSON.stringify(variant.routing.rel)}`,
    fix: 'name one of those receivers, define and route to it in that file',
    receivers: routing.receivers,
  };
}

const notificationReceiverRouted: Rule = {
  name: 'notification-receiver-routed',
  summary:
    "a notification condition's receiver is defined by the Alertmanager routing of every variant judged by it (a runbook variant's own recovery condition: that variant's; meshdrill's own: meshdrill; not checked for --target existing without a routing file)",
  check: (ctx) => {
    const variants = listVariants(ctx.spec).map((v) => ({
      name: v.name,
      routed: receiversOf(ctx, v),
      path: v.path,
    }));
    const ownConditions = new Set(
      (ctx.spec.spec.runbookVariants ?? []).flatMap((v, j) =>
        v.recovery?.conditions === undefined ? [] : [formatPath(['spec', 'runbookVariants', j])],
      ),
    );
    return conditions(ctx.spec).flatMap(({ c, path, variant }) => {
      if (c.kind !== 'notification' || c.receiver === undefined) return [];
      const receiver = c.receiver;
      // The variants that judge by it: a variant's own recovery condition, its variant's; the drill's recovery
      // conditions, every variant without conditions of its own; efficacy and detect, every variant.
      const judging = variants.filter((v) =>
        variant !== undefined
          ? formatPath(v.path) === formatPath(['spec', 'runbookVariants', variant])
          : path[1] !== 'recovery' || !ownConditions.has(formatPath(v.path)),
      );
      // One finding per routing that lacks the receiver, naming every variant that runs with it.
      const missing = new Map<string, { routed: Routed; names: string[] }>();
      for (const { name, routed } of judging) {
        if (!routed || routed.receivers.includes(receiver)) continue;
        const entry = missing.get(routed.where) ?? { routed, names: [] };
        entry.names.push(name);
        missing.set(routed.where, entry);
      }
      return [...missing.values()].map(({ routed, names }) => ({
        path: [...path, 'receiver'],
        message: `expected a receiver of ${routed.where}, which variant${names.length === 1 ? '' : 's'} ${names.join(', ')} run${names.length === 1 ? 's' : ''} with (${routed.receivers.join(', ')}), got ${JSON.stringify(receiver)}: no notification could reach it there; ${routed.fix}, or leave receiver out to accept any`,
      }));
    });
  },
};

const silentNamesSignal: Rule = {
  name: 'silent-names-signal',
  summary: "a variant's silent entries name judged detect signals of the scenario (not informational ones)",
  check: ({ spec }) => {
    const detect = spec.spec.detect ?? [];
    const named = new Map(conditions(spec).map(({ c, path }) => [c.name, formatPath(path)]));
    return listVariants(spec).flatMap((v) =>
      v.silent.flatMap((name, j): Finding[] => {
        const at: DataPath = [...v.path, 'silent', j];
        const i = detect.findIndex((d) => d.name === name);
        if (i >= 0 && detect[i]?.informational)
          return [
            {
              path: at,
              message: `expected a judged detect signal, got ${JSON.stringify(name)}, which is informational (detect[${i}]): a silent check on a signal on trial could never fail the run; judge the signal or remove it from silent`,
            },
          ];
        if (i >= 0) return [];
        const other = named.get(name);
        const signals = detect.map((d) => d.name).join(', ') || 'none';
        return [
          {
            path: at,
            message: other
              ? `expected a detect signal (${signals}), got ${JSON.stringify(name)}, which is ${other}: only a detection signal can be required to stay silent`
              : `expected the name of a detect signal of this scenario (${signals}), got ${JSON.stringify(name)}; fix the name`,
          },
        ];
      }),
    );
  },
};

/** Every rule, in the order their findings are reported. */
export const RULES: readonly Rule[] = [
  sloThresholdParses,
  signalNamesUnique,
  variantNamesUnique,
  detectHasBudget,
  manifestRefOneSource,
  generatedManifestFields,
  manifestFileExists,
  manifestIsKubernetesObject,
  faultManifestSingleObject,
  faultGroupMatchesKind,
  chaosPodFailureNeedsDuration,
  objectRefResolvable,
  runbookExists,
  runbookHasSteps,
  runbookPlaceholdersBound,
  runbookManifestsParse,
  verifyWithinBudget,
  timeoutsCoverBudgets,
  requestWeightsPositive,
  stagesMatchExecutor,
  alertRulesExist,
  alertRulesParse,
  alertDefined,
  alertmanagerRoutingExists,
  alertmanagerRoutingValid,
  notificationReceiverRouted,
  silentNamesSignal,
  promqlParses,
  namespaceIsolationHolds,
  scaledDurationValid,
  patternsCompile,
  conditionValuePresent,
  httpUrlLocal,
];

/** Runs every rule; a rule that throws is a bug, reported as a finding rather than hiding the others. */
export function checkRules(ctx: RuleContext): (RuleFinding & { rule: string })[] {
  return RULES.flatMap((rule) => {
    try {
      return rule.check(ctx).map((f) => ({ ...f, rule: f.rule ?? rule.name }));
    } catch (error) {
      return [
        {
          path: [],
          message: `internal error in rule ${rule.name}: ${(error as Error).message}`,
          rule: rule.name,
        },
      ];
    }
  });
}
