// Connections between sidecars: Istio mTLS (workload certificate, SPIFFE SAN checked against the endpoint's
// identity, peers verified against the trust bundle) and Envoy's wording for transport failures.
//
// Node verifies a TLS peer only after the handshake, so a server cannot send a real TLS alert. Sidecars
// therefore open each mTLS connection with a one-line verdict from the server (`ok` or `alert NAME`) — the
// stand-in for the alert and for Istio's metadata exchange — before any HTTP flows.

import net from 'node:net';
import tls from 'node:tls';

export interface WorkloadTls {
  certChainPem: string;
  keyPem: string;
  rootPem: string;
}

/**
 * The client-side TLS stat Envoy counts for a failed handshake (`cluster.<name>.ssl.*`): a certificate that failed
 * verification is `fail_verify_error` (or `fail_verify_san` for the wrong identity) and not `connection_error`;
 * any other TLS error, such as the server's alert, is `connection_error`. Socket errors count neither.
 */
export type TlsFailureStat = 'connection_error' | 'fail_verify_error' | 'fail_verify_san';

/** An error on the way to an upstream, with Envoy's reset reason and transport failure text. */
export class UpstreamConnectError extends Error {
  constructor(
    readonly resetReason: 'connection failure' | 'connection termination' | 'overflow' | 'timeout',
    readonly transportFailure: string | undefined,
    readonly tlsStat?: TlsFailureStat,
  ) {
    super(`upstream ${resetReason}${transportFailure ? `: ${transportFailure}` : ''}`);
    this.name = 'UpstreamConnectError';
  }
}

const VERIFY_FAILED =
  'TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end';

const ALERTS: Record<string, string> = {
  certificate_expired:
    'TLS_error:|268436501:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_EXPIRED:SSL alert number 45:TLS_error_end',
  unknown_ca:
    'TLS_error:|268436502:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA:SSL alert number 48:TLS_error_end',
  bad_certificate:
    'TLS_error:|268436498:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE:SSL alert number 42:TLS_error_end',
  certificate_required:
    'TLS_error:|268436636:SSL routines:OPENSSL_internal:TLSV13_ALERT_CERTIFICATE_REQUIRED:SSL alert number 116:TLS_error_end',
};

/** The TLS alert a server sends for a client certificate that failed verification (Node's error code in). */
export function alertForVerifyError(code: string | undefined): string {
  if (code === 'CERT_HAS_EXPIRED') return 'certificate_expired';
  if (code === undefined || code === 'CERT_REQUIRED' || code === 'ERR_TLS_CERT_REQUIRED')
    return 'certificate_required';
  if (/ISSUER|SELF_SIGNED|UNABLE_TO_VERIFY|UNTRUSTED/.test(code)) return 'unknown_ca';
  return 'bad_certificate';
}

export function transportFailureForAlert(alert: string): string {
  return ALERTS[alert] ?? ALERTS.bad_certificate!;
}

/** Envoy's text for a socket-level connect error. */
export function connectErrorFor(error: NodeJS.ErrnoException): UpstreamConnectError {
  if (error instanceof UpstreamConnectError) return error;
  if (error.code === 'ECONNREFUSED')
    return new UpstreamConnectError('connection failure', 'delayed connect error: 111');
  if (error.code === 'ETIMEDOUT')
    return new UpstreamConnectError('connection failure', 'delayed connect error: 110');
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE')
    return new UpstreamConnectError('connection termination', undefined);
  return new UpstreamConnectError('connection failure', error.code ?? error.message);
}

export function upstreamErrorBody(error: UpstreamConnectError, retried: boolean): string {
  const reason = retried ? 'retried and the latest reset reason' : 'reset reason';
  return (
    `upstream connect error or disconnect/reset before headers. ${reason}: ${error.resetReason}` +
    (error.transportFailure ? `, transport failure reason: ${error.transportFailure}` : '')
  );
}

// One TLS context per workload certificate (Envoy's SDS secret): parsing the key and chain again for every new
// upstream connection cost more than the handshake's signature.
const secureContexts = new WeakMap<WorkloadTls, tls.SecureContext>();
function secureContextOf(material: WorkloadTls): tls.SecureContext {
  let context = secureContexts.get(material);
  if (!context) {
    context = tls.createSecureContext({
      cert: material.certChainPem,
      key: material.keyPem,
      ca: material.rootPem,
    });
    secureContexts.set(material, context);
  }
  return context;
}

export interface MtlsOptions {
  host: string;
  port: number;
  tls: WorkloadTls;
  expectedIdentity: string | undefined;
  sni: string;
  timeoutMs: number;
  /** The pod's clock when a TimeChaos offset is in force: the peer's validity is also checked against it. */
  now?: number;
}

/** One connection attempt until it settles, once: with the socket ready for HTTP, or with Envoy's wording. */
interface MtlsAttempt {
  readonly socket: tls.TLSSocket;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  readonly resolve: (socket: tls.TLSSocket) => void;
  readonly reject: (error: UpstreamConnectError) => void;
}

function failAttempt(a: MtlsAttempt, error: UpstreamConnectError): void {
  if (a.settled) return;
  a.settled = true;
  clearTimeout(a.timer);
  a.socket.destroy();
  a.reject(error);
}

function succeedAttempt(a: MtlsAttempt): void {
  if (a.settled) return;
  a.settled = true;
  clearTimeout(a.timer);
  a.socket.removeAllListeners('error');
  a.resolve(a.socket);
}

/** Envoy's wording for an error during the handshake: verification, another TLS error, or the socket's. */
function handshakeFailureOf(error: NodeJS.ErrnoException): UpstreamConnectError {
  if (error.code && /CERT|SELF_SIGNED|UNABLE_TO|SIGNATURE|ISSUER/.test(error.code))
    return new UpstreamConnectError('connection failure', VERIFY_FAILED, 'fail_verify_error');
  if (error.code?.startsWith('ERR_SSL_'))
    return new UpstreamConnectError(
      'connection failure',
      `TLS_error:|${error.code.replace('ERR_SSL_', '')}:TLS_error_end`,
      'connection_error',
    );
  return connectErrorFor(error);
}

/** Why the server's certificate is refused: not valid on the pod's clock, or not the endpoint's SPIFFE identity. */
function peerRefusal(socket: tls.TLSSocket, options: MtlsOptions): TlsFailureStat | undefined {
  if (options.now !== undefined && !isValidAt(socket.getPeerCertificate(), options.now))
    return 'fail_verify_error';
  if (!options.expectedIdentity) return undefined;
  const named = uriSans(socket.getPeerCertificate().subjectaltname).includes(options.expectedIdentity);
  return named ? undefined : 'fail_verify_san';
}

/** Reads the server's one-line verdict; bytes after it are put back for the HTTP client. */
function awaitVerdict(a: MtlsAttempt): void {
  const { socket } = a;
  // Paused-mode reads: once our 'readable' listener is gone the stream returns to its initial state, so the
  // HTTP client's 'data' listener starts the flow and nothing is lost in between.
  let buffered = Buffer.alloc(0);
  const onReadable = (): void => {
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
      buffered = Buffer.concat([buffered, chunk]);
      const nl = buffered.indexOf(0x0a);
      if (nl < 0) continue;
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      const verdict = buffered.subarray(0, nl).toString('utf8');
      const rest = buffered.subarray(nl + 1);
      if (rest.length > 0) socket.unshift(rest);
      if (verdict !== 'ok') {
        failAttempt(
          a,
          // The server's alert ends the client's handshake: Envoy counts it as a connection error.
          new UpstreamConnectError(
            'connection failure',
            transportFailureForAlert(verdict.replace(/^alert /, '')),
            'connection_error',
          ),
        );
        return;
      }
      succeedAttempt(a);
      return;
    }
  };
  const onEnd = (): void => failAttempt(a, new UpstreamConnectError('connection termination', undefined));
  socket.on('readable', onReadable);
  socket.once('end', onEnd);
}

/**
 * Opens an Istio mTLS connection to a sidecar's inbound port and waits for its verdict. Resolves with a socket
 * ready for HTTP; rejects with an UpstreamConnectError carrying Envoy's transport failure text.
 */
export function connectMtls(options: MtlsOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      secureContext: secureContextOf(options.tls),
      servername: options.sni,
      ALPNProtocols: ['istio-peer-exchange', 'istio', 'http/1.1'],
      // The SPIFFE URI SAN is checked below, not a DNS name.
      checkServerIdentity: () => undefined,
    });
    // Nagle plus delayed ACKs would add tens of milliseconds to small request/response exchanges.
    socket.setNoDelay(true);
    const a: MtlsAttempt = { socket, settled: false, timer: undefined, resolve, reject };
    a.timer = setTimeout(
      () => failAttempt(a, new UpstreamConnectError('connection failure', 'delayed connect error: 110')),
      options.timeoutMs,
    );
    socket.once('error', (error: NodeJS.ErrnoException) => failAttempt(a, handshakeFailureOf(error)));
    socket.once('secureConnect', () => {
      const refusal = peerRefusal(socket, options);
      if (refusal) {
        failAttempt(a, new UpstreamConnectError('connection failure', VERIFY_FAILED, refusal));
        return;
      }
      awaitVerdict(a);
    });
  });
}

/** Whether a peer certificate is within its validity window at `now` (the offset clock's time). */
export function isValidAt(peer: tls.PeerCertificate | undefined, now: number): boolean {
  if (!peer?.valid_to) return true;
  return Date.parse(peer.valid_from) <= now && now <= Date.parse(peer.valid_to);
}

/** URI entries of Node's `subjectaltname` string (`URI:spiffe://…, DNS:…`). */
export function uriSans(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
}

/** Plain TCP connection with Envoy's wording on failure. */
export function connectPlain(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new UpstreamConnectError('connection failure', 'delayed connect error: 110'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectErrorFor(error));
    });
  });
}
