// ScenarioSpec: the scenario file as users write it (zod 4 schema; shorthands and optional fields allowed).
// Shape only: cross-field and file-system checks are named rules (rules.ts); defaults are applied by resolve.ts,
// so the inferred type stays what users may write. docs/scenario-format.md documents every field.

import { z } from 'zod';

export const SCENARIO_API_VERSION = 'meshdrill.io/v1alpha1';

/** Same grammar as harness/util/duration.ts parseDuration, spelled as a pattern so the JSON Schema carries it. */
const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
/**
 * A DNS label — or a `${mesh.NAME}` control-plane variable, which the loader expands before this schema runs:
 * allowed here only so that editors checking files against the JSON Schema accept the pack as written.
 */
const DNS_LABEL = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?|\$\{mesh\.[A-Za-z]+\})$/;

const EXPECT_DURATION = 'expected a duration like "60s"';
const EXPECT_POSITIVE_DURATION = 'expected a duration above zero like "60s"';
const EXPECT_DNS = 'expected a DNS label (lower-case letters, digits and "-", at most 63 characters)';

/** A duration that may be zero: only a load stage's (`0s` jumps to its target at once). */
export const durationSchema = z
  .string({ error: EXPECT_DURATION })
  .regex(DURATION_PATTERN, { error: EXPECT_DURATION })
  .meta({ description: 'A duration: a number and a unit (ms, s, m, h, d), parts may be chained: "1m30s".' });

/**
 * Every other duration (budgets, windows, timeouts, intervals, validities): above zero. A duration is positive
 * exactly when one of its digits is not 0, a second pattern the JSON Schema carries too.
 */
export const positiveDurationSchema = z
  .string({ error: EXPECT_DURATION })
  .regex(DURATION_PATTERN, { error: EXPECT_DURATION, abort: true })
  .regex(/[1-9]/, { error: EXPECT_POSITIVE_DURATION })
  .meta({
    description:
      'A duration above zero: a number and a unit (ms, s, m, h, d), parts may be chained: "1m30s".',
  });

const dnsLabel = z
  .string({ error: EXPECT_DNS })
  .max(63, { error: EXPECT_DNS })
  .regex(DNS_LABEL, { error: EXPECT_DNS });

const nonEmpty = (what: string) =>
  z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });

const kubeObjectInline = z
  .record(z.string(), z.unknown(), {
    error: 'expected a Kubernetes object (a mapping with apiVersion, kind, metadata)',
  })
  .meta({ description: 'A Kubernetes object written inline.' });

/** A manifest either from a file (relative to the scenario file; may hold several YAML documents) or inline. */
export const manifestRefSchema = z
  .strictObject(
    {
      file: nonEmpty('a file path').optional(),
      inline: kubeObjectInline.optional(),
    },
    { error: 'expected { file: PATH } or { inline: OBJECT }' },
  )
  .meta({ description: 'Exactly one of `file` (relative to the scenario file) or `inline`.' });

/**
 * A workload manifest: a file, an inline object, or an object generated at each deploy (`generate`). The
 * generator's own fields are allowed only with `generate` (rule generated-manifest-fields).
 */
export const workloadManifestSchema = z
  .strictObject(
    {
      file: nonEmpty('a file path').optional(),
      inline: kubeObjectInline.optional(),
      generate: z.enum(['cacerts'], { error: 'expected a generator: "cacerts"' }).optional(),
      namespace: dnsLabel.optional(),
      name: dnsLabel.optional(),
      intermediateValidity: positiveDurationSchema.optional(),
      rootValidity: positiveDurationSchema.optional(),
      rootSecret: dnsLabel.optional(),
    },
    { error: 'expected { file: PATH }, { inline: OBJECT } or { generate: cacerts, … }' },
  )
  .meta({
    description:
      'Exactly one of `file`, `inline` or `generate`. generate: cacerts makes the plug-in CA Secret at each deploy: ' +
      'namespace (istio-system), name (cacerts), intermediateValidity (required; time-scaled), rootValidity ' +
      '(3650d), rootSecret (a second Secret with root-cert.pem and root-key.pem, for a runbook that renews).',
  });

export const objectRefSchema = z
  .strictObject(
    {
      apiVersion: nonEmpty('an apiVersion such as "apps/v1"').optional(),
      kind: nonEmpty('a Kubernetes kind such as "Deployment"'),
      namespace: dnsLabel.optional(),
      name: nonEmpty('an object name').optional(),
      labelSelector: nonEmpty('a label selector such as "app=istiod"').optional(),
    },
    { error: 'expected an object reference { kind, name | labelSelector, namespace? }' },
  )
  .meta({
    description:
      'apiVersion may be omitted for well-known kinds; namespace defaults to the scenario namespace.',
  });

// ---- conditions (detect / efficacy / recovery) ----------------------------------------------------------

const EXPECT_STATUS = 'expected an HTTP status code (100 to 599)';
const statusCode = z
  .int({ error: EXPECT_STATUS })
  .min(100, { error: EXPECT_STATUS })
  .max(599, { error: EXPECT_STATUS });

const EXPECT_EXIT_CODE = 'expected an exit code (0 to 255) or "nonzero"';
const exitCode = z
  .int({ error: EXPECT_EXIT_CODE })
  .min(0, { error: EXPECT_EXIT_CODE })
  .max(255, { error: EXPECT_EXIT_CODE });

/** The condition kinds over a common base: detect and efficacy items have a `within`, recovery ones do not. */
function conditionKinds<Base extends z.core.$ZodLooseShape>(base: Base) {
  const promql = z.strictObject({
    ...base,
    kind: z.literal('promql'),
    query: nonEmpty('a PromQL query'),
  });
  const alertLabels = z
    .record(z.string(), z.string({ error: 'expected a label value (a string)' }), {
      error: 'expected a mapping of alert labels to values, such as { namespace: drill-shop }',
    })
    .optional()
    .meta({
      description:
        'Only an alert instance carrying every one of these labels counts (scopes a shared alert to this drill).',
    });
  const alert = z.strictObject({
    ...base,
    kind: z.literal('alert'),
    alert: nonEmpty('an alert name'),
    labels: alertLabels,
  });
  const notification = z.strictObject({
    ...base,
    kind: z.literal('notification'),
    alert: nonEmpty('an alert name'),
    labels: alertLabels,
    receiver: nonEmpty('an Alertmanager receiver name')
      .optional()
      .meta({ description: 'The receiver the notification must reach; any receiver when left out.' }),
  });
  const log = z.strictObject({
    ...base,
    kind: z.literal('log'),
    namespace: dnsLabel.optional(),
    labelSelector: nonEmpty('a label selector such as "app=frontend"'),
    container: nonEmpty('a container name'),
    pattern: nonEmpty('a regular expression'),
  });
  const kubernetes = z.strictObject({
    ...base,
    kind: z.literal('kubernetes'),
    resource: objectRefSchema,
    field: nonEmpty('a field path such as "status.readyReplicas"'),
    op: z.enum(['==', '!=', '>', '>=', '<', '<=', 'exists', 'absent', 'matches']).optional(),
    value: z.union([z.string(), z.number()], { error: 'expected a string or a number' }).optional(),
    match: z.enum(['any', 'all', 'none']).optional(),
  });
  const http = z.strictObject({
    ...base,
    kind: z.literal('http'),
    url: nonEmpty('a path on the ingress ("/healthz") or a URL on 127.0.0.0/8'),
    host: nonEmpty('a Host header').optional(),
    expectStatus: z
      .union([statusCode, z.array(statusCode).min(1, { error: 'expected at least one status code' })], {
        error: 'expected a status code or a list of them',
      })
      .optional(),
    bodyPattern: nonEmpty('a regular expression').optional(),
  });
  const command = z.strictObject({
    ...base,
    kind: z.literal('command'),
    run: nonEmpty('a shell command'),
    expectExitCode: z.union([exitCode, z.literal('nonzero')], { error: EXPECT_EXIT_CODE }).optional(),
    outputPattern: nonEmpty('a regular expression').optional(),
  });
  return z.discriminatedUnion('kind', [promql, alert, notification, log, kubernetes, http, command]);
}

export const conditionSchema = conditionKinds({
  name: dnsLabel,
  within: positiveDurationSchema.optional(),
  poll: positiveDurationSchema.optional(),
});

/** A detection signal: a condition with a budget, which may be on trial (measured and reported, not judged). */
export const detectSchema = conditionKinds({
  name: dnsLabel,
  within: positiveDurationSchema.optional(),
  poll: positiveDurationSchema.optional(),
  informational: z
    .boolean({ error: 'expected true or false' })
    .optional()
    .meta({
      description:
        'true: the signal is measured and reported (time to detect, false positives) but never fails the run — ' +
        'for a signal on trial, or one the drill shows to be unreliable.',
    }),
});

/** A recovery condition: a detect item without `within` (the recovery budget bounds it). */
export const recoveryConditionSchema = conditionKinds({
  name: dnsLabel,
  poll: positiveDurationSchema.optional(),
}).meta({
  description:
    'Must be true at the start and at the end of the verification window that counts as recovered, besides the ' +
    'SLOs holding over it. Same kinds and fields as a detect item, without `within`.',
});

// ---- fault ----------------------------------------------------------------------------------------------

const kubeActionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('scale'), target: objectRefSchema, replicas: z.int().min(0) }),
  z.strictObject({ action: z.literal('delete'), target: objectRefSchema }),
  z.strictObject({ action: z.literal('rollout-restart'), target: objectRefSchema }),
  z.strictObject({
    action: z.literal('patch'),
    target: objectRefSchema,
    patchType: z.enum(['merge', 'strategic']).optional(),
    patch: z.record(z.string(), z.unknown(), {
      error: 'expected a patch (a mapping merged into the object)',
    }),
  }),
  z.strictObject({ action: z.literal('apply'), manifest: manifestRefSchema }),
  z
    .strictObject({
      action: z.literal('command'),
      run: z.string().min(1),
      undo: z.string().min(1).optional(),
    })
    .meta({
      description:
        'A shell script (KUBECONFIG pinned to the target, e.g. istioctl install); fails on a non-zero exit. ' +
        '`undo` runs at cleanup, whatever happened: idempotent, and undoing only what `run` made.',
    }),
]);

export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('chaos-mesh'), manifest: manifestRefSchema }),
  z.strictObject({ kind: z.literal('istio'), manifest: manifestRefSchema }),
  z.strictObject({ kind: z.literal('kubernetes'), steps: z.array(kubeActionSchema).min(1) }),
  z
    .strictObject({
      kind: z.literal('certificate-expiry'),
      secret: objectRefSchema.optional(),
      restart: z.array(objectRefSchema).optional(),
      maxWait: positiveDurationSchema.optional(),
    })
    .meta({
      description:
        'Waits until the intermediate (ca-cert.pem) of the plug-in CA Secret expires; injection time = its notAfter. ' +
        'secret defaults to Secret istio-system/cacerts; undo deletes it and rollout-restarts `restart` ' +
        '(default Deployment istio-system/istiod). maxWait (default 10m, scaled) bounds the wait.',
    }),
]);

// ---- runbook and variants -------------------------------------------------------------------------------

const variableValue = z.union([z.string(), z.number(), z.boolean()], {
  error: 'expected a string, a number or true/false',
});

export const runbookRefSchema = z.strictObject({
  path: nonEmpty('a path to a Markdown runbook'),
  variables: z.record(z.string(), variableValue).optional(),
});

const runbookOrNone = z
  .union([z.literal('none'), runbookRefSchema], { error: 'expected { path, variables } or "none"' })
  .meta({ description: '"none": nothing is done after detection.' });

/**
 * An Alertmanager routing the scenario ships (an alertmanager.yml), relative to the scenario file. meshdrill runs
 * it with every receiver's integrations replaced by its own webhook, so nobody is paged.
 */
export const alertmanagerSchema = z
  .strictObject(
    { routing: nonEmpty('a path to an Alertmanager configuration file (alertmanager.yml)') },
    { error: 'expected { routing: PATH }' },
  )
  .meta({
    description:
      'routing: an alertmanager.yml (relative to the scenario file) whose route, receivers and inhibit_rules the ' +
      "drill's notifications go through; every receiver's integrations are replaced by meshdrill's webhook " +
      '(nobody is paged), receivers with none stay silent; global and templates are not used.',
  });

/** Detection signals that must NOT fire in a variant (a negative control of the signal itself). */
const silentSchema = z.array(dnsLabel).meta({
  description:
    'Names of detect signals that must stay silent in this variant: their detect assertion passes when they ' +
    'did not fire within their budget and fails when they did.',
});

// ---- load -----------------------------------------------------------------------------------------------

const EXPECT_REQUEST_PATH = 'expected a request path starting with "/", such as "/echo"';
const requestPath = z.string({ error: EXPECT_REQUEST_PATH }).regex(/^\//, { error: EXPECT_REQUEST_PATH });

/** The load driver keeps at most this many requests in flight, each on a connection of its own. */
const MAX_IN_FLIGHT = 10_000;

const requestSchema = z.union(
  [
    requestPath,
    z.strictObject({
      path: requestPath,
      method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).optional(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.string().optional(),
      weight: z.number().optional(),
    }),
  ],
  { error: 'expected a path or { path, method, headers, body, weight }' },
);

export const loadSchema = z.strictObject({
  driver: z.enum(['builtin', 'k6']).optional(),
  executor: z.enum(['constant-arrival-rate', 'ramping-arrival-rate']).optional(),
  rate: z.number({ error: 'expected a rate in requests per second' }).positive(),
  stages: z.array(z.strictObject({ duration: durationSchema, target: z.number().min(0) })).optional(),
  maxInFlight: z
    .int()
    .positive()
    .max(MAX_IN_FLIGHT, {
      error: `expected at most ${MAX_IN_FLIGHT} requests in flight (each holds a connection of its own)`,
    })
    .optional(),
  requestTimeout: positiveDurationSchema.optional(),
  maxRequests: z.int().positive().optional(),
  maxDuration: positiveDurationSchema.optional(),
  host: nonEmpty('a Host header').optional(),
  requests: z.array(requestSchema).min(1).optional(),
});

// ---- the scenario ---------------------------------------------------------------------------------------

const phaseTimeouts = z.strictObject({
  provision: positiveDurationSchema.optional(),
  deploy: positiveDurationSchema.optional(),
  load: positiveDurationSchema.optional(),
  'steady-state': positiveDurationSchema.optional(),
  inject: positiveDurationSchema.optional(),
  efficacy: positiveDurationSchema.optional(),
  detect: positiveDurationSchema.optional(),
  remediate: positiveDurationSchema.optional(),
  recover: positiveDurationSchema.optional(),
  cleanup: positiveDurationSchema.optional(),
});

const scaleFactor = z.number({ error: 'expected a positive number such as 0.2' }).positive();

export const scenarioSpecSchema = z
  .strictObject({
    apiVersion: z.literal(SCENARIO_API_VERSION),
    kind: z.literal('Scenario'),
    metadata: z.strictObject({
      name: dnsLabel,
      title: z
        .string({ error: 'expected a one-line title' })
        .regex(/^[^\r\n]*$/, {
          error: 'expected a one-line title (longer prose goes in metadata.description)',
        })
        .optional(),
      description: z.string().optional(),
    }),
    spec: z.strictObject({
      timeScale: z
        .union(
          [
            scaleFactor,
            z.strictObject({
              local: scaleFactor.optional(),
              kind: scaleFactor.optional(),
              existing: scaleFactor.optional(),
            }),
          ],
          { error: 'expected a positive number or { local, kind, existing }' },
        )
        .optional(),
      isolation: z
        .enum(['cluster', 'namespace'], { error: 'expected "cluster" or "namespace"' })
        .meta({
          description:
            'cluster (the default): the drill changes what all workloads share (istiod, the CA, the gateway) and ' +
            'runs alone. namespace: its fault, setup and runbook stay in its own namespace and its alert signals ' +
            'are scoped by labels, so `meshdrill run --parallel N` may run it beside other such drills.',
        })
        .optional(),
      workload: z.strictObject({
        namespace: dnsLabel.optional(),
        injection: z.boolean().optional(),
        manifests: z.array(workloadManifestSchema).min(1),
        readyTimeout: positiveDurationSchema.optional(),
        setup: z.array(kubeActionSchema).optional(),
      }),
      load: loadSchema,
      slos: z.array(z.string()).min(1),
      duringFault: z
        .strictObject({
          slos: z.enum(['hold', 'ignore'], { error: 'expected "hold" or "ignore"' }).optional(),
          holdFor: positiveDurationSchema.optional(),
        })
        .meta({
          description:
            'slos: hold asserts each SLO over the during-fault window (injection → runbook start); ignore ' +
            '(the default) does not assert them: the fault is expected to break them. holdFor (scaled): the ' +
            'runbook starts no earlier than this long after the injection, however soon the fault was detected.',
        })
        .optional(),
      steadyState: z
        .union([positiveDurationSchema, z.strictObject({ duration: positiveDurationSchema })], {
          error: 'expected a duration like "60s" or { duration: … }',
        })
        .optional(),
      fault: faultSchema,
      efficacy: z.array(conditionSchema).optional(),
      detect: z.array(detectSchema).optional(),
      runbook: runbookOrNone,
      recovery: z.strictObject({
        budget: positiveDurationSchema,
        verify: positiveDurationSchema.optional(),
        conditions: z.array(recoveryConditionSchema).optional(),
      }),
      negativeControls: z
        .array(
          z.strictObject({
            name: dnsLabel,
            runbook: runbookOrNone,
            alertmanager: alertmanagerSchema.optional(),
            silent: silentSchema.optional(),
          }),
        )
        .optional(),
      runbookVariants: z
        .array(
          z.strictObject({
            name: dnsLabel,
            runbook: runbookOrNone,
            expect: z.enum(['recovery', 'no-recovery', 'measure']).optional(),
            alertmanager: alertmanagerSchema.optional(),
            silent: silentSchema.optional(),
            recovery: z
              .strictObject({
                budget: positiveDurationSchema.optional(),
                verify: positiveDurationSchema.optional(),
                conditions: z.array(recoveryConditionSchema).optional(),
              })
              .meta({
                description:
                  "What this runbook must achieve, when it is not the drill's: each field given replaces the " +
                  "drill's recovery field (conditions replace the whole list); each left out is the drill's.",
              })
              .optional(),
          }),
        )
        .optional(),
      alertmanager: alertmanagerSchema.optional(),
      silent: silentSchema.optional().meta({
        description:
          'Detect signals that must stay silent in the main drill, and in every variant that lists none of its ' +
          'own: a change that must go unnoticed (an upgrade under load: no burn-rate page).',
      }),
      alertRules: z.array(nonEmpty('a path to a Prometheus rule file')).optional(),
      timeouts: phaseTimeouts.optional(),
    }),
  })
  .meta({ title: 'meshdrill scenario', description: 'A meshdrill scenario file (docs/scenario-format.md).' });

export type ScenarioSpec = z.infer<typeof scenarioSpecSchema>;
export type ConditionSpecInput = z.infer<typeof conditionSchema>;
export type RecoveryConditionInput = z.infer<typeof recoveryConditionSchema>;
export type DetectInput = z.infer<typeof detectSchema>;
export type FaultSpecInput = z.infer<typeof faultSchema>;
export type KubeActionInput = z.infer<typeof kubeActionSchema>;
export type ManifestRefInput = z.infer<typeof manifestRefSchema>;
export type WorkloadManifestInput = z.infer<typeof workloadManifestSchema>;
export type ObjectRefInput = z.infer<typeof objectRefSchema>;
export type RunbookRefInput = z.infer<typeof runbookRefSchema>;
export type RunbookOrNoneInput = z.infer<typeof runbookOrNone>;
export type LoadSpecInput = z.infer<typeof loadSchema>;
