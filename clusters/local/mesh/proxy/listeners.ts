// The proxy's data-plane listeners: the sidecar's outbound listener (HTTP), its inbound listener (protocol
// sniffing, then Istio mTLS or plaintext HTTP) and a gateway's listeners (one per Gateway port, opened as
// configs arrive). What arrives goes to outbound.ts, inbound.ts or routing.ts.

import net from 'node:net';
import tls from 'node:tls';
import { createHttp1Server, type Http1Server, serveHttp1 } from '../../programs/lib/http1/index.js';
import type { GatewayListener, ProxyConfig } from '../model/proxy-config.js';
import { handleInbound, type SocketInfo } from './inbound.js';
import { handleOutbound } from './outbound.js';
import { indexRoutes } from './route-table.js';
import { handleRouted } from './routing.js';
import type { ProxyState } from './state.js';
import { alertForVerifyError, isValidAt, uriSans } from './transport.js';

/** Idle time before a downstream connection is closed (Envoy's HTTP idle timeout is 1 h; 30 s is enough here). */
const KEEP_ALIVE_MS = 30_000;

export function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops listening and ends open connections; resolves once closed (at once if it never listened). */
export function closeServer(server: net.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    (server as Partial<Http1Server>).closeAllConnections?.();
  });
}

export function createOutboundServer(state: ProxyState): Http1Server {
  return createHttp1Server((req, res) => handleOutbound(state, req, res), {
    keepAliveTimeoutMs: KEEP_ALIVE_MS,
  });
}

// --- inbound -----------------------------------------------------------------------------------------------

export interface InboundListener {
  readonly server: net.Server;
  /** Applies the current workload certificates to the TLS chain (and rotates upstream connections). */
  refreshTls(): void;
  /** Destroys every connection the listener accepted. */
  destroySockets(): void;
}

/** The inbound listener's TLS chain: Istio mTLS with the workload certificate, peers checked by the root. */
interface TlsChain {
  readonly server: tls.Server;
  /** True once a certificate has been applied. */
  hasContext(): boolean;
  refresh(): void;
}

function serveInbound(state: ProxyState, socket: net.Socket, info: SocketInfo, initial?: Buffer): void {
  serveHttp1(
    socket,
    (req, res) => void handleInbound(state, req, res, info),
    { keepAliveTimeoutMs: KEEP_ALIVE_MS },
    initial,
  );
}

/** The TLS alert refusing a client certificate, or undefined when the certificate is accepted. */
function peerAlert(state: ProxyState, socket: tls.TLSSocket, peer: tls.PeerCertificate): string | undefined {
  if (!socket.authorized) {
    const code =
      typeof socket.authorizationError === 'string'
        ? socket.authorizationError
        : (socket.authorizationError as NodeJS.ErrnoException | null)?.code;
    return alertForVerifyError(peer && Object.keys(peer).length > 0 ? code : undefined);
  }
  // TimeChaos: the pod's clock, not the host's, decides whether the client certificate is still valid.
  if (state.chaos.offsetMs() !== 0 && !isValidAt(peer, state.chaos.now())) return 'certificate_expired';
  return undefined;
}

function createTlsChain(state: ProxyState): TlsChain {
  const server = tls.createServer({
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ['istio-peer-exchange', 'istio', 'http/1.1'],
  });
  server.on('tlsClientError', () => undefined);
  let secureContext = false;
  const sockets = new Set<tls.TLSSocket>();
  // A TimeChaos clock jump: certificates are checked at the next handshake. Envoy would keep already-open
  // connections until they close; the emulation re-handshakes at once so a drill sees the new clock without
  // waiting for connection churn (documented in docs/local-target-fidelity.md).
  state.chaos.onClockChange(() => {
    state.pool.rotate();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const peer = socket.getPeerCertificate();
    const alert = peerAlert(state, socket, peer);
    if (alert) {
      socket.end(`alert ${alert}\n`);
      return;
    }
    const principal = uriSans(peer.subjectaltname)[0]?.replace(/^spiffe:\/\//, '');
    socket.write('ok\n');
    serveInbound(state, socket, { mtls: true, ...(principal ? { peerPrincipal: principal } : {}) });
  });
  const refresh = (): void => {
    const material = state.certs?.current();
    if (!material) return;
    server.setSecureContext({ cert: material.certChainPem, key: material.keyPem, ca: material.rootPem });
    secureContext = true;
    state.pool.rotate();
  };
  return { server, hasContext: () => secureContext, refresh };
}

/** Every inbound port has mTLS DISABLE: the workload has no TLS chain at all. */
function noTlsChain(config: ProxyConfig | undefined): boolean {
  return (
    config !== undefined &&
    config.inbound.defaultMtls === 'DISABLE' &&
    config.inbound.ports.every((p) => p.mtls === 'DISABLE')
  );
}

function sniff(state: ProxyState, chain: TlsChain, socket: net.Socket, chunk: Buffer): void {
  // 0x16: a TLS handshake record. TLS meets the TLS chain unless the workload has no TLS chain at all.
  if (chunk[0] === 0x16 && !noTlsChain(state.config) && chain.hasContext()) {
    // Encryption stays in C++ on the socket's own handle: 'data' listeners go, the sniffed bytes go back.
    socket.pause();
    socket.unshift(chunk);
    chain.server.emit('connection', socket);
  } else {
    serveInbound(state, socket, { mtls: false }, chunk);
  }
}

// Sockets are sniffed (first byte) before TLS or HTTP sees them. TLS takes the native handle and replays bytes
// unshifted into the socket (Node's TLSSocket reads a socket's buffered data first); plaintext HTTP starts
// from the sniffed bytes.
export function createInboundListener(state: ProxyState): InboundListener {
  const chain = createTlsChain(state);
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => sniff(state, chain, socket, chunk));
  });
  return {
    server,
    refreshTls: chain.refresh,
    destroySockets: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

// --- gateway -----------------------------------------------------------------------------------------------

/** Opens a listener for each Gateway port not yet open and installs each port's route table. */
export async function ensureGatewayListeners(state: ProxyState, next: ProxyConfig): Promise<void> {
  state.gatewayIndexes.clear();
  for (const listener of next.gateway) {
    state.gatewayIndexes.set(listener.listenPort, indexRoutes(next, listener.virtualHosts));
    if (state.gatewayServers.has(listener.listenPort)) continue;
    await openGatewayListener(state, listener);
  }
}

async function openGatewayListener(state: ProxyState, listener: GatewayListener): Promise<void> {
  const port = listener.listenPort;
  const server = createHttp1Server(
    (req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      void handleRouted(state, req, res, state.gatewayIndexes.get(port), {
        host,
        port: listener.serverPort,
        path: req.url,
        anyPort: true,
      });
    },
    { keepAliveTimeoutMs: KEEP_ALIVE_MS },
  );
  state.gatewayServers.set(port, server);
  const { podIP } = state.options;
  await listen(server, port, podIP).catch((error: Error) => {
    state.gatewayServers.delete(port);
    state.log(
      `[${new Date().toISOString()}] warning: gateway listener ${podIP}:${port} failed: ${error.message}\n`,
    );
  });
}
