// Sidecar egress scoping: which hosts a proxy sees. Without a Sidecar every host is visible (Istio's default,
// and why a flood of services grows every proxy's memory); `egress.hosts` entries are `ns/host` with `.` for the
// proxy's own namespace, `*` for any, `~` for none.

import type { KubeObject } from '../../../../harness/model/index.js';
import { asArray, asRecord, asStringArray, asStringMap } from '../model/read.js';
import {
  hostMatches,
  type MeshOptions,
  type MeshSnapshot,
  matchesLabels,
  namespaceOf,
  specOf,
} from './snapshot.js';

export interface EgressScope {
  /** The Sidecar that applies, `ns/name`, or undefined for the default (everything visible). */
  source: string | undefined;
  /** Each entry: namespace pattern and host pattern. */
  entries: { namespace: string; host: string }[];
}

/** Workload-selected Sidecar in the proxy's namespace > selector-less one there > the root namespace default. */
export function findSidecarScope(
  snapshot: MeshSnapshot,
  namespace: string,
  labels: Record<string, string>,
  options: MeshOptions,
): EgressScope {
  const inNs = snapshot.sidecars.filter((s) => namespaceOf(s) === namespace);
  const selected = inNs.find((s) => {
    const selector = asStringMap(asRecord(specOf(s).workloadSelector).labels);
    return Object.keys(selector).length > 0 && matchesLabels(selector, labels);
  });
  const nsDefault = inNs.find(
    (s) => Object.keys(asStringMap(asRecord(specOf(s).workloadSelector).labels)).length === 0,
  );
  const rootDefault = snapshot.sidecars.find(
    (s) =>
      namespaceOf(s) === options.rootNamespace &&
      Object.keys(asStringMap(asRecord(specOf(s).workloadSelector).labels)).length === 0,
  );
  const sidecar: KubeObject | undefined = selected ?? nsDefault ?? rootDefault;
  if (!sidecar) return { source: undefined, entries: [{ namespace: '*', host: '*' }] };
  const entries: { namespace: string; host: string }[] = [];
  for (const egress of asArray(specOf(sidecar).egress).map(asRecord)) {
    for (const text of asStringArray(egress.hosts)) {
      const slash = text.indexOf('/');
      const ns = slash < 0 ? '*' : text.slice(0, slash);
      const host = slash < 0 ? text : text.slice(slash + 1);
      if (ns === '~') continue;
      entries.push({ namespace: ns === '.' ? namespace : ns, host });
    }
  }
  return { source: `${namespaceOf(sidecar)}/${sidecar.metadata.name ?? ''}`, entries };
}

/** Whether a host defined in `hostNamespace` is visible under the scope. */
export function isHostVisible(scope: EgressScope, hostNamespace: string, host: string): boolean {
  return scope.entries.some(
    (e) => (e.namespace === '*' || e.namespace === hostNamespace) && hostMatches(e.host, host),
  );
}
