// How long an upstream connection lives, from a DestinationRule `connectionPool`: `tcp.maxConnectionDuration`
// (Envoy's `common_http_protocol_options.max_connection_duration`) and `http.maxRequestsPerConnection`. Neither is
// set by default, and then Envoy keeps a pooled connection for as long as it is used.
//
// This matters for certificates: a TLS peer is verified only during the handshake, so a connection opened before
// a certificate expired keeps working after it (envoyproxy/envoy#17999, istio/istio#7630; the reason Istio added
// `maxConnectionDuration`, istio/api#2341). Expiry breaks traffic only as connections are replaced.
//
// As in Envoy's HTTP/1 pool, a connection past its limit is drained, never cut mid-request: it closes when idle
// or as soon as its current request ends.

import type http from 'node:http';
import type { Socket } from 'node:net';
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

interface SocketLife {
  openedAt: number;
  requests: number;
  expired: boolean;
}

/**
 * Makes `agent` honour the limits. Call `track` with each socket the agent's connect function opens; the agent's
 * `keepSocketAlive` then refuses to pool a socket past its limits, and a socket idle in the pool when its
 * duration runs out is closed.
 */
export function enforceConnectionLifetime(
  agent: http.Agent,
  lifetime: ConnectionLifetime,
  now: () => number = Date.now,
): { track(socket: Socket): void } {
  const lives = new WeakMap<Socket, SocketLife>();
  // Node returns whether to pool the socket (its type definitions say void).
  const keepDefault = agent.keepSocketAlive.bind(agent) as unknown as (socket: Socket) => boolean;
  (agent as unknown as { keepSocketAlive(socket: Socket): boolean }).keepSocketAlive = (socket) => {
    const life = lives.get(socket);
    if (life) {
      life.requests += 1;
      if (lifetime.maxRequests !== undefined && life.requests >= lifetime.maxRequests) return false;
      if (life.expired) return false;
    }
    return keepDefault(socket);
  };
  const isIdle = (socket: Socket): boolean =>
    Object.values(agent.freeSockets).some((list) => list?.includes(socket) === true);

  return {
    track(socket) {
      const life: SocketLife = { openedAt: now(), requests: 0, expired: false };
      lives.set(socket, life);
      if (lifetime.maxDurationMs === undefined) return;
      const timer = setTimeout(() => {
        life.expired = true;
        if (isIdle(socket)) socket.destroy();
      }, lifetime.maxDurationMs);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    },
  };
}
