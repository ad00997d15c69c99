// The kube-proxy emulation: a TCP forwarder on ClusterIP:port for every service port (and on
// 127.0.0.1:nodePort for NodePort/LoadBalancer services, like kind's extraPortMappings), spreading
// connections round-robin over Ready endpoints. With no Ready endpoint the port is closed: connection refused.
// Each direction of a connection honours the NetworkChaos rules of both pods (delay, loss, partition), chunk by
// chunk, so connections already open feel a fault when it starts and stop feeling it when it is removed.

import { connect, createServer, type Server, type Socket } from 'node:net';
import type { NetworkFaultRule } from '../chaos-hooks.js';
import type { EndpointSubset, Endpoints, Service, ServicePort } from '../controllers/kube-types.js';
import { createLegState, judgeChunk, type LegState, rulesForLeg } from '../programs/lib/network-faults.js';

export interface Backend {
  ip: string;
  port: number;
}

export interface ListenerSpec {
  /** host:port the forwarder listens on. */
  host: string;
  port: number;
  service: string;
  backends: Backend[];
}

/** Ready backends of a service port from its Endpoints (pure). */
export function backendsFor(
  port: ServicePort,
  subsets: EndpointSubset[] | undefined,
  onlyPort: boolean,
): Backend[] {
  const out: Backend[] = [];
  for (const subset of subsets ?? []) {
    const p =
      subset.ports?.find((x) => (port.name ? x.name === port.name : true)) ??
      (onlyPort ? subset.ports?.[0] : undefined);
    if (!p) continue;
    for (const a of subset.addresses ?? []) out.push({ ip: a.ip, port: p.port });
  }
  return out;
}

/** Every listener the services and endpoints call for (pure). */
export function desiredListeners(services: Service[], endpoints: Endpoints[]): ListenerSpec[] {
  const byKey = new Map(endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  const out: ListenerSpec[] = [];
  for (const s of services) {
    const ports = (s.spec.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP');
    const ep = byKey.get(`${s.metadata.namespace}/${s.metadata.name}`);
    const name = `${s.metadata.namespace}/${s.metadata.name}`;
    for (const p of ports) {
      const backends = backendsFor(p, ep?.subsets, ports.length === 1);
      if (s.spec.clusterIP && s.spec.clusterIP !== 'None')
        out.push({ host: s.spec.clusterIP, port: p.port, service: name, backends });
      if ((s.spec.type === 'NodePort' || s.spec.type === 'LoadBalancer') && p.nodePort) {
        out.push({ host: '127.0.0.1', port: p.nodePort, service: name, backends });
      }
    }
  }
  return out;
}

interface Listener {
  spec: ListenerSpec;
  server: Server | undefined;
  next: number;
  sockets: Set<Socket>;
}

export interface KubeProxy {
  sync(specs: ListenerSpec[]): void;
  /** host:port of every open forwarder. */
  openListeners(): string[];
  stop(): Promise<void>;
  onError?: (spec: ListenerSpec, error: Error) => void;
}

/**
 * Copies one direction of a connection through the fault rules: each chunk waits its verdict's delay (in order,
 * as a netem queue); a black-holed chunk and everything after it on that leg is dropped (TCP would stall).
 */
function shapeLeg(from: Socket, to: Socket, rules: () => NetworkFaultRule[]): void {
  const state: LegState = createLegState();
  let dueAt = 0;
  let dead = false;
  let pending = 0;
  let ended = false;
  const flushEnd = (): void => {
    if (ended && pending === 0 && !dead) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    if (dead) return;
    const active = rules();
    if (active.length === 0 && pending === 0) {
      to.write(chunk);
      return;
    }
    const verdict = judgeChunk(active, state);
    if (verdict.kind === 'blackhole') {
      dead = true;
      return;
    }
    const at = Math.max(Date.now() + verdict.delayMs, dueAt);
    dueAt = at;
    pending++;
    setTimeout(() => {
      pending--;
      if (!to.destroyed) to.write(chunk);
      flushEnd();
    }, at - Date.now());
  });
  from.on('end', () => {
    ended = true;
    flushEnd();
  });
}

/** The proxy's state: its listeners by "host:port", and where faults and listen errors come from and go. */
interface ProxyState {
  listeners: Map<string, Listener>;
  onError: (spec: ListenerSpec, error: Error) => void;
  faultsOf: (podIP: string) => NetworkFaultRule[];
}

/** A partitioned connection: like iptables DROP, the handshake never completes; the client waits for its own timeout. */
function blackhole(listener: Listener, client: Socket): void {
  client.on('error', () => undefined);
  client.on('close', () => listener.sockets.delete(client));
  client.resume();
}

/** Splices the client to the backend, each direction shaped by the rules of that leg. */
function splice(
  listener: Listener,
  client: Socket,
  backend: Backend,
  request: () => NetworkFaultRule[],
  response: () => NetworkFaultRule[],
): void {
  const upstream = connect(backend.port, backend.ip);
  listener.sockets.add(upstream);
  const done = (): void => {
    listener.sockets.delete(client);
    listener.sockets.delete(upstream);
  };
  // A refused or reset upstream ends the client's connection too (iptables DNAT would pass the RST on). It is
  // closed, not reset: with resetAndDestroy(), under a storm of failing connections (a cluster torn down under
  // load) some resets never completed on Node 20, the forwarder's stop hung, and terminating its thread then
  // spun at 100 % CPU in Node's handle cleanup for minutes — and kept meshdrill from exiting. Clients see the
  // connection end before a response either way (a reset to an HTTP client).
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', done);
  shapeLeg(client, upstream, request);
  shapeLeg(upstream, client, response);
}

/** Round-robins a new connection to the next backend; the rules are read per chunk, so faults apply live. */
function forward(state: ProxyState, listener: Listener, client: Socket): void {
  const { faultsOf } = state;
  const backends = listener.spec.backends;
  if (backends.length === 0) {
    client.destroy();
    return;
  }
  const backend = backends[listener.next++ % backends.length] as Backend;
  const source = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
  const request = () =>
    rulesForLeg({ ip: source, rules: faultsOf(source) }, { ip: backend.ip, rules: faultsOf(backend.ip) });
  const response = () =>
    rulesForLeg({ ip: backend.ip, rules: faultsOf(backend.ip) }, { ip: source, rules: faultsOf(source) });
  listener.sockets.add(client);
  if (request().some((r) => r.action === 'partition') || response().some((r) => r.action === 'partition')) {
    blackhole(listener, client);
    return;
  }
  splice(listener, client, backend, request, response);
}

function openListener(state: ProxyState, listener: Listener): void {
  const server = createServer((client) => forward(state, listener, client));
  listener.server = server;
  server.on('error', (error) => {
    listener.server = undefined;
    state.onError(listener.spec, error);
  });
  server.listen(listener.spec.port, listener.spec.host);
}

function closeListener(listener: Listener): void {
  listener.server?.close();
  listener.server = undefined;
}

/** Closes listeners no longer wanted, opens new ones; a listener without backends does not listen. */
function syncListeners(state: ProxyState, specs: ListenerSpec[]): void {
  const { listeners } = state;
  const wanted = new Map(specs.map((s) => [`${s.host}:${s.port}`, s]));
  for (const [key, l] of listeners) {
    if (!wanted.has(key)) {
      closeListener(l);
      listeners.delete(key);
    }
  }
  for (const [key, spec] of wanted) {
    let l = listeners.get(key);
    if (!l) {
      l = { spec, server: undefined, next: 0, sockets: new Set() };
      listeners.set(key, l);
    }
    l.spec = spec;
    if (spec.backends.length > 0 && !l.server) openListener(state, l);
    if (spec.backends.length === 0 && l.server) closeListener(l);
  }
}

async function stopListeners(state: ProxyState): Promise<void> {
  await Promise.all(
    [...state.listeners.values()].map(
      (l) =>
        new Promise<void>((resolve) => {
          for (const s of l.sockets) s.destroy();
          if (!l.server) return resolve();
          l.server.close(() => resolve());
        }),
    ),
  );
  state.listeners.clear();
}

export function createKubeProxy(
  onError: (spec: ListenerSpec, error: Error) => void = () => undefined,
  faultsOf: (podIP: string) => NetworkFaultRule[] = () => [],
): KubeProxy {
  const state: ProxyState = { listeners: new Map(), onError, faultsOf };
  return {
    sync: (specs) => syncListeners(state, specs),
    openListeners(): string[] {
      return [...state.listeners.entries()].filter(([, l]) => l.server).map(([k]) => k);
    },
    stop: () => stopListeners(state),
  };
}
