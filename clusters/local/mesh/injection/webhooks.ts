// Which injection webhook the API server calls for a new pod: every MutatingWebhookConfiguration in the store
// (in name order, as the API server orders them), each webhook whose rules cover pod CREATE and whose
// namespaceSelector (over the namespace's labels, with `kubernetes.io/metadata.name`) and objectSelector (over
// the pod's labels) both match. The webhook's service names the istiod that answers, whose revision's
// `istio-sidecar-injector[-<rev>]` values say how it injects.

import type { ObjectStore, ResourceKey, StoredObject } from '../../store/types.js';
import { type LabelRequirement, matchesLabels } from '../../store/selectors.js';
import { asArray, asRecord, asString, asStringArray, asStringMap, type Json } from '../model/read.js';

export const WEBHOOK_CONFIGURATIONS: ResourceKey = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  resource: 'mutatingwebhookconfigurations',
};

export interface CalledWebhook {
  /** The webhook's name (`rev.namespace.sidecar-injector.istio.io`), for the API server's error text. */
  name: string;
  configuration: string;
  service: { name: string; namespace: string; path: string; port: number };
}

/** A metav1.LabelSelector (matchLabels + matchExpressions) as requirements; absent selects everything. */
function requirementsOf(selector: unknown): LabelRequirement[] {
  const s = asRecord(selector);
  const fromLabels: LabelRequirement[] = Object.entries(asStringMap(s.matchLabels)).map(([key, value]) => ({
    key,
    op: 'in',
    values: [value],
  }));
  const fromExpressions = asArray(s.matchExpressions)
    .map(asRecord)
    .map((e): LabelRequirement => {
      const key = asString(e.key) ?? '';
      const op = (asString(e.operator) ?? '').toLowerCase();
      if (op === 'exists' || op === 'doesnotexist') return { key, op };
      return { key, op: op === 'notin' ? 'notin' : 'in', values: asStringArray(e.values) };
    });
  return [...fromLabels, ...fromExpressions];
}

function coversPodCreate(hook: Json): boolean {
  return asArray(hook.rules)
    .map(asRecord)
    .some((rule) => {
      const has = (field: string, value: string): boolean => {
        const list = asStringArray(rule[field]);
        return list.includes(value) || list.includes('*');
      };
      return has('operations', 'CREATE') && has('apiGroups', '') && has('resources', 'pods');
    });
}

/** The webhooks the API server would call for this pod, in call order (configurations sorted by name). */
export function webhooksFor(
  store: ObjectStore,
  namespace: StoredObject | undefined,
  pod: Json,
): CalledWebhook[] {
  const nsLabels = {
    ...asStringMap(namespace?.metadata.labels),
    'kubernetes.io/metadata.name': namespace?.metadata.name ?? '',
  };
  const podLabels = asStringMap(asRecord(pod.metadata).labels);
  const configurations = [...store.list(WEBHOOK_CONFIGURATIONS).items].sort((a, b) =>
    (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1,
  );
  const called: CalledWebhook[] = [];
  for (const configuration of configurations) {
    for (const hook of asArray((configuration as unknown as Json).webhooks).map(asRecord)) {
      if (!coversPodCreate(hook)) continue;
      if (!matchesLabels(requirementsOf(hook.namespaceSelector), nsLabels)) continue;
      if (!matchesLabels(requirementsOf(hook.objectSelector), podLabels)) continue;
      const service = asRecord(asRecord(hook.clientConfig).service);
      called.push({
        name: asString(hook.name) ?? '',
        configuration: configuration.metadata.name ?? '',
        service: {
          name: asString(service.name) ?? '',
          namespace: asString(service.namespace) ?? 'istio-system',
          path: asString(service.path) ?? '/inject',
          port: typeof service.port === 'number' ? service.port : 443,
        },
      });
    }
  }
  return called;
}

/** What the istiod behind a webhook service injects with: its revision and proxy image tag. */
export interface InjectorValues {
  revision: string;
  tag?: string;
  hub?: string;
}

/**
 * The revision an istiod Service serves (its `istio.io/rev` label) and that revision's injector values
 * (`istio-sidecar-injector[-<rev>]`, data `values`). Undefined when the Service is gone.
 */
export function injectorValues(
  store: ObjectStore,
  service: CalledWebhook['service'],
): InjectorValues | undefined {
  const svc = store.get({ group: '', version: 'v1', resource: 'services' }, service.namespace, service.name);
  if (!svc) return undefined;
  const revision = asStringMap(svc.metadata.labels)['istio.io/rev'] ?? 'default';
  const name = revision === 'default' ? 'istio-sidecar-injector' : `istio-sidecar-injector-${revision}`;
  const cm = store.get({ group: '', version: 'v1', resource: 'configmaps' }, service.namespace, name);
  let values: Json = {};
  try {
    values = asRecord(JSON.parse(asString(asRecord(cm?.data).values) ?? '{}'));
  } catch {
    // The chart writes JSON; anything else leaves the injector's defaults.
  }
  const global = asRecord(values.global);
  return {
    revision,
    ...(asString(global.tag) ? { tag: asString(global.tag) } : {}),
    ...(asString(global.hub) ? { hub: asString(global.hub) } : {}),
  };
}
