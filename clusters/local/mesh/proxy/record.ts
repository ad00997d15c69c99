// The end of every request the proxy handles: the Istio standard metrics (stats.ts) and one access log line
// (access-log.ts), plus the local replies (403, 404, fault aborts) that end a request without an upstream.

import type { ServerRequest, ServerResponse } from '../../programs/lib/http1/index.js';
import type { WorkloadMeta } from '../model/proxy-config.js';
import { type AccessLogEntry, formatAccessLog } from './access-log.js';
import { formatFlags } from './resilience/flags.js';
import type { ProxyState } from './state.js';
import { type ForwardOutcome, sendLocalReply } from './upstream.js';

/** When a request arrived: the monotonic clock for its duration, the wall clock for its log line. */
export interface RequestStart {
  at: number;
  date: Date;
}

export function beginRequest(): RequestStart {
  return { at: performance.now(), date: new Date() };
}

export type Reporter = 'source' | 'destination';

export interface ServiceLabel {
  host: string;
  name: string;
  namespace: string;
}

export interface RequestLabels {
  source: WorkloadMeta | undefined;
  destination: WorkloadMeta | undefined;
  service: ServiceLabel | undefined;
  mtls: boolean;
}

export type RecordedOutcome = ForwardOutcome & { cluster?: string; route?: string };

/** The destination_service labels of a host `name.namespace…`. */
export function serviceOfHost(host: string | undefined): ServiceLabel | undefined {
  if (!host) return undefined;
  const parts = host.split('.');
  return { host, name: parts[0] ?? host, namespace: parts[1] ?? 'unknown' };
}

function accessLogEntry(
  req: ServerRequest,
  began: RequestStart,
  outcome: RecordedOutcome,
  flags: string,
  durationMs: number,
): AccessLogEntry {
  const entry: AccessLogEntry = {
    start: began.date,
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    protocol: `HTTP/${req.httpVersion}`,
    responseCode: outcome.status,
    responseFlags: flags,
    responseCodeDetails: outcome.details,
    bytesReceived: req.body.length,
    bytesSent: outcome.responseBytes,
    durationMs,
    downstreamRemoteAddress: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    downstreamLocalAddress: `${req.socket.localAddress}:${req.socket.localPort}`,
  };
  // Assigned one by one rather than spread: this runs for every request.
  if (outcome.transportFailure) entry.upstreamTransportFailureReason = outcome.transportFailure;
  if (outcome.upstreamServiceTimeMs !== undefined)
    entry.upstreamServiceTimeMs = outcome.upstreamServiceTimeMs;
  const { headers } = req;
  if (typeof headers['user-agent'] === 'string') entry.userAgent = headers['user-agent'];
  if (typeof headers['x-request-id'] === 'string') entry.requestId = headers['x-request-id'];
  if (headers.host) entry.authority = headers.host;
  if (outcome.upstreamHost) entry.upstreamHost = outcome.upstreamHost;
  if (outcome.cluster) entry.upstreamCluster = outcome.cluster;
  if (outcome.route) entry.routeName = outcome.route;
  return entry;
}

/** Records a finished request: its metrics at `reporter`, then its access log line. */
export function recordRequest(
  state: ProxyState,
  req: ServerRequest,
  began: RequestStart,
  reporter: Reporter,
  outcome: RecordedOutcome,
  labels: RequestLabels,
): void {
  const durationMs = performance.now() - began.at;
  const flags = formatFlags(outcome.flags);
  state.stats.record({
    reporter,
    source: labels.source,
    destination: labels.destination,
    destinationService: labels.service,
    responseCode: outcome.status,
    responseFlags: flags,
    mtls: labels.mtls,
    durationMs,
    requestBytes: req.body.length,
    responseBytes: outcome.responseBytes,
  });
  state.log(formatAccessLog(accessLogEntry(req, began, outcome, flags, durationMs)));
}

/** A reply the proxy makes itself (no upstream): its status, flags, details and body. */
export interface LocalReply {
  status: number;
  flags: string[];
  details: string;
  body: string;
  mtls: boolean;
  cluster?: string;
  route?: string;
}

/** Sends a local reply and records the request. */
export function replyLocally(
  state: ProxyState,
  req: ServerRequest,
  res: ServerResponse,
  began: RequestStart,
  reporter: Reporter,
  reply: LocalReply,
  labels: RequestLabels,
): void {
  const responseBytes = sendLocalReply(res, reply.status, formatFlags(reply.flags), reply.body);
  const { status, flags, details, mtls, cluster, route } = reply;
  recordRequest(
    state,
    req,
    began,
    reporter,
    { status, flags, details, responseBytes, mtls, cluster, route },
    labels,
  );
}
