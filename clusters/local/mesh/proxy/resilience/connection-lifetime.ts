// How long an upstream connection lives, from a DestinationRule `connectionPool`: `tcp.maxConnectionDuration`
// (Envoy's `common_http_protocol_options.max_connection_duration`) and `http.maxRequestsPerConnection`. Neither is
// set by default, and then Envoy keeps a pooled connection for as long as it is used.
//
// This matters for certificates: a TLS peer is verified only during the handshake, so a connection opened before
// a certificate expired keeps working after it (envoyproxy/envoy#17999, istio/istio#7630; the reason Istio added
// `maxConnectionDuration`, istio/api#2341). Expiry breaks traffic only as connections are replaced.
//
// The upstream connection pool (programs/lib/http1 ConnectionPool) enforces them as Envoy's HTTP/1 pool does: a
// connection past its limit is drained, never cut mid-request.

import { parseDuration } from '../../../../../harness/util/duration.js';
import { asNumber, asRecord, asString } from '../../model/read.js';

export interface ConnectionLifetime {
  maxDurationMs?: number;
  maxRequests?: number;
}

/** DestinationRule `trafficPolicy` → the limits; a missing or 0 value means no limit, as in Istio. */
export function parseConnectionLifetime(trafficPolicy: Record<string, unknown>): ConnectionLifetime {
  const pool = asRecord(trafficPolicy.connectionPool);
  const durationText = asString(asRecord(pool.tcp).maxConnectionDuration);
  const maxDurationMs = durationText === undefined ? undefined : parseDuration(durationText);
  const maxRequests = asNumber(asRecord(pool.http).maxRequestsPerConnection);
  return {
    ...(maxDurationMs !== undefined && maxDurationMs > 0 ? { maxDurationMs } : {}),
    ...(maxRequests !== undefined && maxRequests > 0 ? { maxRequests: Math.floor(maxRequests) } : {}),
  };
}
