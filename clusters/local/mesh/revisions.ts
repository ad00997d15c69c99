// Istio revisions (pure): the names a control-plane revision's objects take, and the injection webhooks the
// istio-discovery chart renders for a revision (templates/mutatingwebhook.yaml) and for a revision tag
// (templates/revision-tags-mwc.yaml). The default revision keeps the unsuffixed names (`istiod`,
// `istio-sidecar-injector`) and also serves `istio-injection=enabled`; both forms carry `istio.io/rev`.

export const DEFAULT_REVISION = 'default';
export const REV_LABEL = 'istio.io/rev';
export const TAG_LABEL = 'istio.io/tag';

/** The chart's `revision` value: empty for the default revision (istioctl's applyFlagAliases drops "default"). */
export function chartRevision(revision: string | undefined): string {
  return revision === undefined || revision === DEFAULT_REVISION ? '' : revision;
}

/** `istiod`, or `istiod-<rev>`: Deployment, Service, ServiceAccount. */
export function istiodName(revision: string | undefined): string {
  const rev = chartRevision(revision);
  return rev ? `istiod-${rev}` : 'istiod';
}

/** The suffixed names of a revision's objects (`istio-<rev>`, `istio-sidecar-injector-<rev>`). */
export function revisionedName(base: string, revision: string | undefined): string {
  const rev = chartRevision(revision);
  return rev ? `${base}-${rev}` : base;
}

/** The label value a revision's objects carry (`default` for the unrevisioned install). */
export function revisionLabel(revision: string | undefined): string {
  return chartRevision(revision) || DEFAULT_REVISION;
}

export function discoveryAddress(revision: string | undefined, namespace = 'istio-system'): string {
  return `${istiodName(revision)}.${namespace}.svc:15012`;
}

type Expression = { key: string; operator: string; values?: string[] };
type Selector = { matchExpressions: Expression[] };

const NOT_DISABLED: Expression = { key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] };

/** istioctl's util.NeverMatch: what `tag set default` puts on the old default webhooks to switch them off. */
export const NEVER_MATCH: Selector = {
  matchExpressions: [{ key: 'istio.io/deactivated', operator: 'In', values: ['never-match'] }],
};

function webhook(prefix: string, service: string, namespace: string, ns: Selector, object: Selector) {
  return {
    name: `${prefix}sidecar-injector.istio.io`,
    clientConfig: { service: { name: service, namespace, path: '/inject', port: 443 } },
    sideEffects: 'None',
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    failurePolicy: 'Fail',
    reinvocationPolicy: 'Never',
    admissionReviewVersions: ['v1'],
    namespaceSelector: ns,
    objectSelector: object,
  };
}

/**
 * The webhooks of one injection configuration: `rev.namespace.` and `rev.object.` select `istio.io/rev=<name>`
 * (and step aside when the namespace has `istio-injection`, which takes precedence); the default revision (or
 * the `default` tag) adds `namespace.` (`istio-injection=enabled`) and `object.` (pod `sidecar.istio.io/inject=true`).
 */
export function injectionWebhooks(selects: string, service: string, namespace: string, legacy: boolean) {
  const revIn: Expression = { key: REV_LABEL, operator: 'In', values: [selects] };
  const noInjection: Expression = { key: 'istio-injection', operator: 'DoesNotExist' };
  const noRev: Expression = { key: REV_LABEL, operator: 'DoesNotExist' };
  const hooks = [
    webhook(
      'rev.namespace.',
      service,
      namespace,
      { matchExpressions: [revIn, noInjection] },
      { matchExpressions: [NOT_DISABLED] },
    ),
    webhook(
      'rev.object.',
      service,
      namespace,
      { matchExpressions: [noRev, noInjection] },
      { matchExpressions: [NOT_DISABLED, revIn] },
    ),
  ];
  if (!legacy) return hooks;
  return [
    ...hooks,
    webhook(
      'namespace.',
      service,
      namespace,
      { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
      { matchExpressions: [NOT_DISABLED] },
    ),
    webhook(
      'object.',
      service,
      namespace,
      { matchExpressions: [noInjection, noRev] },
      { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] }, noRev] },
    ),
  ];
}

const WEBHOOK_LABELS = {
  'operator.istio.io/component': 'Pilot',
  app: 'sidecar-injector',
  'app.kubernetes.io/name': 'istiod',
};

/** `istio-sidecar-injector[-<rev>]`, as `istioctl install [--revision <rev>]` creates it. */
export function revisionWebhookConfiguration(revision: string | undefined, namespace = 'istio-system') {
  const rev = chartRevision(revision);
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: revisionedName('istio-sidecar-injector', revision),
      labels: { ...WEBHOOK_LABELS, [REV_LABEL]: revisionLabel(revision) },
    },
    webhooks: injectionWebhooks(revisionLabel(revision), istiodName(revision), namespace, rev === ''),
  };
}

/** `istio-revision-tag-<tag>`, as `istioctl tag set <tag> --revision <rev>` creates it. */
export function tagWebhookConfiguration(tag: string, revision: string, namespace = 'istio-system') {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: `istio-revision-tag-${tag}`,
      labels: { ...WEBHOOK_LABELS, [TAG_LABEL]: tag, [REV_LABEL]: revisionLabel(revision) },
    },
    webhooks: injectionWebhooks(tag, istiodName(revision), namespace, tag === DEFAULT_REVISION),
  };
}
