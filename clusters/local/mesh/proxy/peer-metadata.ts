// The receiving side of Istio's HTTP metadata exchange: who the calling workload is, from the header its
// sidecar sends (upstream.ts's encodePeerMetadata writes it).

import type { WorkloadMeta } from '../model/proxy-config.js';
import { asRecord, asString } from '../model/read.js';

export interface PeerMetadata {
  workload: WorkloadMeta | undefined;
  /** The source pod IP a client sidecar put in its peer metadata (the emulation's addition to Istio's fields). */
  ip: string | undefined;
}

const NO_PEER: PeerMetadata = { workload: undefined, ip: undefined };
/** A client sidecar sends the same header on every request: decode each distinct value once (bounded). */
const peerMetadataCache = new Map<string, PeerMetadata>();

function parsePeerMetadata(text: string): PeerMetadata {
  try {
    const m = asRecord(JSON.parse(Buffer.from(text, 'base64').toString('utf8')));
    const ip = asString(m.ip);
    const name = asString(m.name);
    const namespace = asString(m.namespace);
    if (!name || !namespace) return { workload: undefined, ip };
    return {
      workload: {
        name,
        namespace,
        app: asString(m.app) ?? name,
        version: asString(m.version) ?? 'unknown',
        principal: asString(m.principal) ?? 'unknown',
        serviceAccount: asString(m.serviceAccount) ?? 'unknown',
      },
      ip,
    };
  } catch {
    return { workload: undefined, ip: undefined };
  }
}

export function decodePeerMetadata(value: string | string[] | undefined): PeerMetadata {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return NO_PEER;
  let found = peerMetadataCache.get(text);
  if (!found) {
    found = parsePeerMetadata(text);
    if (peerMetadataCache.size >= 1024) peerMetadataCache.clear();
    peerMetadataCache.set(text, found);
  }
  return found;
}
