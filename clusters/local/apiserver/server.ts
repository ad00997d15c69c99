// The local Kubernetes API server: bearer-token auth, discovery, resources, subresources, watch and exec,
// over HTTPS on 127.0.0.1 (self-signed: see serving-cert.ts), driven by real kubectl and client-node.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { PodRuntime } from '../pod-runtime.js';
import { findResource, type ObjectStore, servedResources, type Verb } from '../store/index.js';
import { type ApiContext, isTrue, type ResourceRequest } from './context.js';
import {
  AGGREGATED_DISCOVERY_TYPE,
  buildAggregatedDiscovery,
  buildCoreVersions,
  buildGroup,
  buildGroupList,
  buildResourceList,
  buildVersion,
} from './discovery.js';
import { createExecUpgrader, rejectUpgrade } from './exec-websocket.js';
import { sendError, sendJson, sendText } from './http-io.js';
import { handlePodMetrics } from './metrics.js';
import { handlePodLog } from './pod-log.js';
import { parsePath } from './request-path.js';
import {
  handleCreate,
  handleDelete,
  handleGet,
  handlePatch,
  handleReplace,
  rejectVerb,
} from './resource-handlers.js';
import { handleScale } from './scale.js';
import { ApiError, buildStatus, notFound } from './status-errors.js';
import { createServingCert } from './serving-cert.js';
import { serveWatch } from './watch.js';

/** The Kubernetes version the local target reports everywhere (API server, node, versions). */
export const DEFAULT_SERVER_VERSION = { major: '1', minor: '31' } as const;
export const KUBERNETES_VERSION = `v${DEFAULT_SERVER_VERSION.major}.${DEFAULT_SERVER_VERSION.minor}.0`;
export interface ApiServerOptions {
  store: ObjectStore;
  runtime?: PodRuntime;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  token: string;
  /**
   * Reported by /version; the kubectl dispatcher runs kubectl.1.<minor>. Default 1.31: kubectl 1.32+ sends
   * protobuf bodies for `kubectl create <kind>` (this server decodes JSON only), and 1.30+ is needed for exec
   * over WebSocket.
   */
  version?: { major: '1'; minor: string };
  /** Called for every request after authentication (an audit hook for tests and debugging). */
  onRequest?: (method: string, url: string) => void;
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

function isAuthorized(req: IncomingMessage, token: Buffer): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1].trim());
  return given.length === token.length && timingSafeEqual(given, token);
}

const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/livez', '/version']);

function unauthorized() {
  return buildStatus(
    401,
    'Unauthorized',
    'Unauthorized: a bearer token is required (use the kubeconfig the target wrote)',
  );
}

function wantsAggregated(req: IncomingMessage): boolean {
  return /as=APIGroupDiscoveryList/.test(req.headers.accept ?? '');
}

function buildResourceRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  path: Extract<ReturnType<typeof parsePath>, { type: 'resource' }>,
): ResourceRequest {
  const key = { group: path.group, version: path.version, resource: path.resource };
  const def = findResource(key);
  if (!def) {
    throw notFound(
      `the server could not find the requested resource (${req.method ?? 'GET'} ${url.pathname})`,
    );
  }
  if (!def.namespaced && path.namespace !== undefined) {
    throw notFound(
      `the server could not find the requested resource: ${def.plural} are cluster-scoped, not in a namespace`,
    );
  }
  if (path.subresource !== undefined && !def.subresources.includes(path.subresource as never)) {
    throw notFound(`the server could not find the requested resource: ${def.plural}/${path.subresource}`);
  }
  return {
    def,
    key,
    namespace: def.namespaced ? path.namespace : undefined,
    name: path.name,
    subresource: path.subresource,
    query: url.searchParams,
    req,
    res,
  };
}

/** The verb a write method needs (a resource whose verbs lack it, like the read-only CRDs, refuses it). */
const WRITE_VERB: Record<string, Verb> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

async function serveResource(context: ApiContext, request: ResourceRequest, method: string): Promise<void> {
  const { def, subresource, name } = request;
  if (def.source === 'runtime') {
    if (method !== 'GET') rejectVerb(request, method);
    handlePodMetrics(context, request);
    return;
  }
  if (method !== 'GET' && !def.verbs.includes(WRITE_VERB[method] ?? 'update')) rejectVerb(request, method);
  if (subresource === 'scale') return handleScale(context, request, method);
  if (subresource === 'log') {
    if (method !== 'GET') rejectVerb(request, method);
    return handlePodLog(context, request);
  }
  if (subresource === 'exec') {
    throw new ApiError(
      400,
      'BadRequest',
      'pods/exec needs a WebSocket upgrade (subprotocol v5.channel.k8s.io)',
    );
  }
  switch (method) {
    case 'GET':
      if (name === undefined && isTrue(request.query.get('watch'))) return serveWatch(context, request);
      return handleGet(context, request);
    case 'POST':
      if (name !== undefined) rejectVerb(request, method);
      return handleCreate(context, request);
    case 'PUT':
      if (name === undefined) rejectVerb(request, method);
      return handleReplace(context, request);
    case 'PATCH':
      if (name === undefined) rejectVerb(request, method);
      return handlePatch(context, request);
    case 'DELETE':
      if (subresource !== undefined) rejectVerb(request, method);
      return handleDelete(context, request);
    default:
      rejectVerb(request, method);
  }
}

/** One request on its way to a handler. */
interface RouteCall {
  context: ApiContext;
  options: RouteOptions;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  method: string;
}

type ParsedPath = ReturnType<typeof parsePath>;
type PathHandler<T extends ParsedPath['type']> = (
  call: RouteCall,
  path: Extract<ParsedPath, { type: T }>,
) => void | Promise<void>;

const sendOk = ({ res }: RouteCall): void => sendText(res, 200, 'ok');

/** The paths the server answers, one handler per kind of path; a kind without a handler does not compile. */
const ROUTES: { [T in ParsedPath['type']]: PathHandler<T> } = {
  version: ({ res, options }) => sendJson(res, 200, buildVersion(options.version)),
  healthz: sendOk,
  readyz: sendOk,
  livez: sendOk,
  'openapi-v3': () => {
    // kubectl apply needs one of the two; an empty v2 document is the cheapest that works (KUBE-API-NOTES.md).
    throw notFound('the server does not serve OpenAPI v3');
  },
  'openapi-v2': ({ res }) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': 0 });
    res.end();
  },
  'core-versions': ({ req, res, options }) => {
    if (wantsAggregated(req))
      return sendJson(res, 200, buildAggregatedDiscovery(true), AGGREGATED_DISCOVERY_TYPE);
    return sendJson(res, 200, buildCoreVersions(options.serverAddress()));
  },
  groups: ({ req, res }) => {
    if (wantsAggregated(req))
      return sendJson(res, 200, buildAggregatedDiscovery(false), AGGREGATED_DISCOVERY_TYPE);
    return sendJson(res, 200, buildGroupList());
  },
  group: ({ res }, path) => {
    const group = buildGroup(path.group);
    if (!group) throw notFound(`the server could not find the requested resource: API group ${path.group}`);
    return sendJson(res, 200, group);
  },
  'resource-list': ({ res }, path) => {
    const list = buildResourceList(path.group, path.version);
    if (!list)
      throw notFound(`the server could not find the requested resource: ${path.group}/${path.version}`);
    return sendJson(res, 200, list);
  },
  resource: ({ context, req, res, url, method }, path) =>
    serveResource(context, buildResourceRequest(req, res, url, path), method),
  root: ({ res }) =>
    sendJson(res, 200, {
      paths: [
        '/api',
        '/api/v1',
        '/apis',
        '/healthz',
        '/readyz',
        '/version',
        ...servedResources()
          .filter((r) => r.group !== '')
          .map((r) => `/apis/${r.group}`),
      ],
    }),
  unknown: ({ method, url }) => {
    throw notFound(`the server could not find the requested resource (${method} ${url.pathname})`);
  },
};

async function route(
  context: ApiContext,
  options: RouteOptions,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const path = parsePath(url.pathname);
  const method = req.method ?? 'GET';
  // The table is keyed by the path's own type, so the handler fits the path; TypeScript cannot see that.
  const handler = ROUTES[path.type] as PathHandler<ParsedPath['type']>;
  await handler({ context, options, req, res, url, method }, path);
}

type ExecUpgrader = ReturnType<typeof createExecUpgrader>;

/** What routing needs besides the context: the version to report and the address clients reach us at. */
interface RouteOptions {
  version: { major: string; minor: string };
  serverAddress: () => string;
}

/** One HTTP request: authorize, route, and answer a failure as a Status naming the resource asked for. */
function handleRequest(
  context: ApiContext,
  token: Buffer,
  routeOptions: RouteOptions,
  hooks: Pick<ApiServerOptions, 'onRequest'>,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const url = new URL(req.url ?? '/', 'http://local');
  if (!PUBLIC_PATHS.has(url.pathname) && !isAuthorized(req, token)) {
    sendJson(res, 401, unauthorized());
    req.resume();
    return;
  }
  hooks.onRequest?.(req.method ?? 'GET', req.url ?? '/');
  route(context, routeOptions, req, res, url).catch((error: unknown) => {
    const path = parsePath(url.pathname);
    const details =
      path.type === 'resource'
        ? {
            resource: path.resource,
            ...(path.group ? { group: path.group } : {}),
            ...(path.name ? { name: path.name } : {}),
          }
        : {};
    sendError(res, error, details);
    req.resume();
  });
}

/** A WebSocket upgrade: only pods/exec is served that way. */
function handleUpgrade(
  exec: ExecUpgrader,
  token: Buffer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const url = new URL(req.url ?? '/', 'http://local');
  if (!isAuthorized(req, token)) {
    rejectUpgrade(socket, 401, unauthorized());
    return;
  }
  const path = parsePath(url.pathname);
  if (
    path.type !== 'resource' ||
    path.group !== '' ||
    path.resource !== 'pods' ||
    path.subresource !== 'exec' ||
    !path.name ||
    !path.namespace
  ) {
    rejectUpgrade(
      socket,
      400,
      buildStatus(400, 'BadRequest', `only pods/exec can be upgraded to a WebSocket, not ${url.pathname}`),
    );
    return;
  }
  exec.handleUpgrade(req, socket, head, {
    namespace: path.namespace,
    pod: path.name,
    query: url.searchParams,
  });
}

/** Starts the server; resolves once it listens. `close()` ends open watches and exec sessions too. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const version = options.version ?? DEFAULT_SERVER_VERSION;
  const token = Buffer.from(options.token);
  const context: ApiContext = { store: options.store, runtime: options.runtime, streams: new Set() };
  const exec = createExecUpgrader(context);
  let address = `${host}:0`;
  const routeOptions: RouteOptions = { version, serverAddress: () => address };

  const tls = await createServingCert(host);
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) =>
    handleRequest(context, token, routeOptions, options, req, res),
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    handleUpgrade(exec, token, req, socket, head),
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host}:${port}`;

  return {
    url: `https://${host}:${port}`,
    async close() {
      exec.close();
      for (const res of context.streams) res.end();
      context.streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
