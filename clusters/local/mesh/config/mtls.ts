// PeerAuthentication and auto-mTLS, as ISTIO-FACTS.md "mTLS and certificates" describes: the server's mode
// comes from workload > namespace > mesh-wide policies; the client's choice looks only at selector-less
// (namespace or mesh-wide) DISABLE and at DestinationRule `tls.mode`.

import type { KubeObject } from '../../../../harness/model/index.js';
import type { MtlsMode } from '../model/proxy-config.js';
import { asNumber, asRecord, asString, asStringMap } from '../model/read.js';
import { type MeshOptions, type MeshSnapshot, matchesLabels, namespaceOf, specOf } from './snapshot.js';

type ModeOrUnset = MtlsMode | 'UNSET';

function modeOf(value: unknown): ModeOrUnset {
  const mode = asString(asRecord(value).mode);
  return mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE' ? mode : 'UNSET';
}

function selectorOf(pa: KubeObject): Record<string, string> | undefined {
  const selector = asRecord(specOf(pa).selector);
  const labels = asStringMap(selector.matchLabels);
  return Object.keys(labels).length > 0 ? labels : undefined;
}

/** The oldest policy wins among several at the same level, as Istio resolves conflicts. */
function oldestFirst(a: KubeObject, b: KubeObject): number {
  const ta = String(a.metadata.creationTimestamp ?? '');
  const tb = String(b.metadata.creationTimestamp ?? '');
  return ta.localeCompare(tb) || String(a.metadata.name).localeCompare(String(b.metadata.name));
}

/** The selector-less mode for a namespace, falling back to the mesh-wide policy; UNSET if neither. */
export function namespaceMtlsMode(
  snapshot: MeshSnapshot,
  namespace: string,
  options: MeshOptions,
): ModeOrUnset {
  const level = (ns: string): ModeOrUnset => {
    const pa = snapshot.peerAuthentications
      .filter((p) => namespaceOf(p) === ns && selectorOf(p) === undefined)
      .sort(oldestFirst)[0];
    return pa ? modeOf(specOf(pa).mtls) : 'UNSET';
  };
  const ns = level(namespace);
  if (ns !== 'UNSET') return ns;
  return namespace === options.rootNamespace ? 'UNSET' : level(options.rootNamespace);
}

/** What a workload's inbound accepts, per port: workload policy (port-level first) > namespace > mesh > PERMISSIVE. */
export function serverMtlsMode(
  snapshot: MeshSnapshot,
  namespace: string,
  labels: Record<string, string>,
  port: number | undefined,
  options: MeshOptions,
): MtlsMode {
  const workloadPolicy = snapshot.peerAuthentications
    .filter((p) => namespaceOf(p) === namespace)
    .filter((p) => {
      const selector = selectorOf(p);
      return selector !== undefined && matchesLabels(selector, labels);
    })
    .sort(oldestFirst)[0];
  if (workloadPolicy) {
    const spec = specOf(workloadPolicy);
    if (port !== undefined) {
      for (const [key, value] of Object.entries(asRecord(spec.portLevelMtls))) {
        if (asNumber(key) === port) {
          const portMode = modeOf(value);
          if (portMode !== 'UNSET') return portMode;
        }
      }
    }
    const mode = modeOf(spec.mtls);
    if (mode !== 'UNSET') return mode;
  }
  const ns = namespaceMtlsMode(snapshot, namespace, options);
  return ns === 'UNSET' ? 'PERMISSIVE' : ns;
}

/**
 * Auto-mTLS for one endpoint: originate Istio mTLS when the endpoint has a sidecar, unless a DestinationRule
 * says otherwise or the destination namespace (or mesh) is selector-less DISABLE. Workload-level policies and
 * PERMISSIVE do not change what clients send.
 */
export function clientOriginatesMtls(input: {
  snapshot: MeshSnapshot;
  options: MeshOptions;
  destinationNamespace: string;
  endpointInMesh: boolean;
  drTlsMode: string | undefined;
}): boolean {
  if (input.drTlsMode === 'DISABLE' || input.drTlsMode === 'SIMPLE' || input.drTlsMode === 'MUTUAL')
    return false;
  if (input.drTlsMode === 'ISTIO_MUTUAL') return true;
  if (!input.options.autoMtls) return false;
  if (!input.endpointInMesh) return false;
  return namespaceMtlsMode(input.snapshot, input.destinationNamespace, input.options) !== 'DISABLE';
}
