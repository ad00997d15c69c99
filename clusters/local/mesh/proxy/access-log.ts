// Envoy access log lines in Istio's default TEXT format, so `kubectl logs -c istio-proxy` reads like the real
// thing: response flags (`UF,URX`), response code details and the upstream transport failure reason.

export interface AccessLogEntry {
  start: Date;
  method: string;
  path: string;
  protocol: string;
  responseCode: number;
  responseFlags: string;
  responseCodeDetails: string;
  connectionTerminationDetails?: string;
  upstreamTransportFailureReason?: string;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number;
  upstreamServiceTimeMs?: number;
  forwardedFor?: string;
  userAgent?: string;
  requestId?: string;
  authority?: string;
  upstreamHost?: string;
  upstreamCluster?: string;
  upstreamLocalAddress?: string;
  downstreamLocalAddress?: string;
  downstreamRemoteAddress?: string;
  requestedServerName?: string;
  routeName?: string;
}

const dash = (v: string | number | undefined): string => (v === undefined || v === '' ? '-' : String(v));

export function formatAccessLog(e: AccessLogEntry): string {
  return (
    `[${e.start.toISOString()}] "${e.method} ${e.path} ${e.protocol}" ${e.responseCode} ${e.responseFlags} ` +
    `${dash(e.responseCodeDetails)} ${dash(e.connectionTerminationDetails)} "${dash(e.upstreamTransportFailureReason)}" ` +
    `${e.bytesReceived} ${e.bytesSent} ${Math.round(e.durationMs)} ${dash(e.upstreamServiceTimeMs)} ` +
    `"${dash(e.forwardedFor)}" "${dash(e.userAgent)}" "${dash(e.requestId)}" "${dash(e.authority)}" ` +
    `"${dash(e.upstreamHost)}" ${dash(e.upstreamCluster)} ${dash(e.upstreamLocalAddress)} ` +
    `${dash(e.downstreamLocalAddress)} ${dash(e.downstreamRemoteAddress)} ${dash(e.requestedServerName)} ${dash(e.routeName)}\n`
  );
}
