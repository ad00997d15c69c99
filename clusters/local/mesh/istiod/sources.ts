// What istiod watches, and two ways to watch it: over the Kubernetes API (list + watch with a bearer token,
// as the istiod program does) or in-process from an ObjectStore (tests, or an in-process control plane).

import http from 'node:http';
import https from 'node:https';
import type { KubeObject } from '../../../../harness/model/index.js';
import type { ObjectStore, ResourceKey } from '../../store/types.js';
import { emptySnapshot, type MeshSnapshot } from '../config/snapshot.js';
import { asArray, asRecord, asString } from '../model/read.js';

type SnapshotKey = keyof MeshSnapshot;

export interface WatchedResource {
  key: ResourceKey;
  into: SnapshotKey | 'secrets';
  /** Only this namespace (secrets: istio-system only, as istiod reads just its own). */
  namespace?: string;
}

export function watchedResources(rootNamespace = 'istio-system'): WatchedResource[] {
  const net = (resource: string): ResourceKey => ({ group: 'networking.istio.io', version: 'v1', resource });
  const sec = (resource: string): ResourceKey => ({ group: 'security.istio.io', version: 'v1', resource });
  return [
    { key: { group: '', version: 'v1', resource: 'services' }, into: 'services' },
    { key: { group: '', version: 'v1', resource: 'endpoints' }, into: 'endpoints' },
    { key: { group: '', version: 'v1', resource: 'pods' }, into: 'pods' },
    { key: { group: '', version: 'v1', resource: 'namespaces' }, into: 'namespaces' },
    { key: { group: '', version: 'v1', resource: 'secrets' }, into: 'secrets', namespace: rootNamespace },
    { key: net('virtualservices'), into: 'virtualServices' },
    { key: net('destinationrules'), into: 'destinationRules' },
    { key: net('gateways'), into: 'gateways' },
    { key: net('serviceentries'), into: 'serviceEntries' },
    { key: net('sidecars'), into: 'sidecars' },
    { key: sec('peerauthentications'), into: 'peerAuthentications' },
    { key: sec('authorizationpolicies'), into: 'authorizationPolicies' },
    { key: { group: 'telemetry.istio.io', version: 'v1', resource: 'telemetries' }, into: 'telemetries' },
  ];
}

export interface MeshSource {
  /** Resolves once every resource has been listed (istiod's "synced"). `onChange` fires on every later event. */
  start(onChange: () => void): Promise<void>;
  snapshot(): MeshSnapshot;
  secret(namespace: string, name: string): KubeObject | undefined;
  /** Creates a Secret (istiod's own `istio-ca-secret`); an existing one is left alone. */
  createSecret(
    namespace: string,
    name: string,
    type: string,
    stringData: Record<string, string>,
  ): Promise<void>;
  stop(): void;
}

function secretObject(namespace: string, name: string, type: string, stringData: Record<string, string>) {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type, data };
}

class ObjectCache {
  readonly byResource = new Map<WatchedResource, Map<string, KubeObject>>();

  set(r: WatchedResource, obj: KubeObject): void {
    this.map(r).set(`${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`, obj);
  }

  remove(r: WatchedResource, obj: KubeObject): void {
    this.map(r).delete(`${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`);
  }

  map(r: WatchedResource): Map<string, KubeObject> {
    let m = this.byResource.get(r);
    if (!m) {
      m = new Map();
      this.byResource.set(r, m);
    }
    return m;
  }

  snapshot(): MeshSnapshot {
    const s = emptySnapshot();
    for (const [r, m] of this.byResource) if (r.into !== 'secrets') s[r.into] = [...m.values()];
    return s;
  }

  secret(namespace: string, name: string): KubeObject | undefined {
    for (const [r, m] of this.byResource) if (r.into === 'secrets') return m.get(`${namespace}/${name}`);
    return undefined;
  }
}

/** In-process source over the store's watch (the informer pattern without HTTP). */
export function createStoreSource(store: ObjectStore, rootNamespace = 'istio-system'): MeshSource {
  const cache = new ObjectCache();
  const watches: { stop(): void }[] = [];
  return {
    async start(onChange) {
      for (const r of watchedResources(rootNamespace)) {
        const listed = store.list(r.key, r.namespace ? { namespace: r.namespace } : {});
        for (const item of listed.items) cache.set(r, item as unknown as KubeObject);
        watches.push(
          store.watch(
            r.key,
            {
              ...(r.namespace ? { namespace: r.namespace } : {}),
              sinceResourceVersion: listed.resourceVersion,
            },
            (event) => {
              const obj = event.object as unknown as KubeObject;
              if (event.type === 'DELETED') cache.remove(r, obj);
              else cache.set(r, obj);
              onChange();
            },
          ),
        );
      }
    },
    snapshot: () => cache.snapshot(),
    secret: (ns, name) => cache.secret(ns, name),
    async createSecret(ns, name, type, stringData) {
      try {
        await store.create(
          { group: '', version: 'v1', resource: 'secrets' },
          secretObject(ns, name, type, stringData),
        );
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    },
    stop: () => {
      for (const w of watches) w.stop();
    },
  };
}

export interface KubeConnection {
  /** `https://127.0.0.1:PORT` */
  server: string;
  token: string;
}

function resourcePath(r: WatchedResource): string {
  const base = r.key.group === '' ? `/api/${r.key.version}` : `/apis/${r.key.group}/${r.key.version}`;
  return `${base}${r.namespace ? `/namespaces/${r.namespace}` : ''}/${r.key.resource}`;
}

function requestJson(
  conn: KubeConnection,
  path: string,
  onLine?: (line: string) => void,
  live?: Set<http.ClientRequest>,
  write?: { method: 'POST'; body: unknown },
) {
  const url = new URL(path, conn.server);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = lib.request(url, {
      method: write?.method ?? 'GET',
      headers: {
        authorization: `Bearer ${conn.token}`,
        accept: 'application/json',
        ...(write ? { 'content-type': 'application/json' } : {}),
      },
      // The local API server's certificate is self-signed (the kubeconfig says insecure-skip-tls-verify).
      rejectUnauthorized: false,
    });
    live?.add(req);
    req.once('close', () => live?.delete(req));
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (!onLine) {
          body += chunk;
          return;
        }
        body += chunk;
        let nl = body.indexOf('\n');
        while (nl >= 0) {
          onLine(body.slice(0, nl));
          body = body.slice(nl + 1);
          nl = body.indexOf('\n');
        }
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', reject);
    });
    req.end(write ? JSON.stringify(write.body) : undefined);
  });
}

/** What the API source's list and watch loops share. */
interface ApiWatchState {
  readonly conn: KubeConnection;
  readonly cache: ObjectCache;
  /** Requests in flight, destroyed on stop (watches would otherwise hold the process for minutes). */
  readonly live: Set<http.ClientRequest>;
  stopped: boolean;
}

/** Where a resource's watch resumes, and whether the server said that version is gone (410 as an ERROR event). */
interface WatchCursor {
  version: string;
  gone: boolean;
}

/** Lists the resource into the cache, replacing what was there; resolves with the list's resourceVersion. */
async function listInto(w: ApiWatchState, r: WatchedResource): Promise<string> {
  const res = await requestJson(w.conn, resourcePath(r), undefined, w.live);
  if (res.status !== 200)
    throw new Error(`GET ${resourcePath(r)}: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  const parsed = asRecord(JSON.parse(res.body));
  const m = w.cache.map(r);
  m.clear();
  for (const item of asArray(parsed.items)) w.cache.set(r, item as KubeObject);
  return asString(asRecord(parsed.metadata).resourceVersion) ?? '0';
}

function applyWatchEvent(
  w: ApiWatchState,
  r: WatchedResource,
  cursor: WatchCursor,
  line: string,
  onChange: () => void,
): void {
  if (!line.trim()) return;
  const event = asRecord(JSON.parse(line));
  const obj = event.object as KubeObject;
  const rv = asString(asRecord(asRecord(obj).metadata).resourceVersion);
  if (rv) cursor.version = rv;
  if (event.type === 'ERROR') {
    cursor.gone = true;
    return;
  }
  if (event.type === 'BOOKMARK') return;
  if (event.type === 'DELETED') w.cache.remove(r, obj);
  else w.cache.set(r, obj);
  onChange();
}

/** One watch request from the cursor's version until the server closes it; a gone version is listed again. */
async function watchOnce(
  w: ApiWatchState,
  r: WatchedResource,
  cursor: WatchCursor,
  onChange: () => void,
): Promise<void> {
  const path = `${resourcePath(r)}?watch=true&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${cursor.version}`;
  cursor.gone = false;
  await requestJson(w.conn, path, (line) => applyWatchEvent(w, r, cursor, line, onChange), w.live);
  if (cursor.gone) {
    cursor.version = await listInto(w, r);
    onChange();
  }
}

/** Watches until stopped; a broken watch lists again after a bounded back-off. */
async function watchLoop(
  w: ApiWatchState,
  r: WatchedResource,
  fromVersion: string,
  onChange: () => void,
): Promise<void> {
  const cursor: WatchCursor = { version: fromVersion, gone: false };
  let backoff = 200;
  while (!w.stopped) {
    try {
      await watchOnce(w, r, cursor, onChange);
      backoff = 200;
    } catch {
      if (w.stopped) return;
      await new Promise((res) => setTimeout(res, backoff));
      backoff = Math.min(backoff * 2, 5000);
      try {
        cursor.version = await listInto(w, r);
        onChange();
      } catch {
        // The API server is away; the next round retries.
      }
    }
  }
}

async function createSecretOverApi(
  w: ApiWatchState,
  ns: string,
  name: string,
  type: string,
  stringData: Record<string, string>,
): Promise<void> {
  const answer = await requestJson(w.conn, `/api/v1/namespaces/${ns}/secrets`, undefined, w.live, {
    method: 'POST',
    body: secretObject(ns, name, type, stringData),
  });
  // 409: another istiod replica (or an earlier start) created it first; the next start loads that one.
  if (answer.status !== 201 && answer.status !== 200 && answer.status !== 409) {
    throw new Error(
      `creating secret ${ns}/${name}: the API server answered ${answer.status}: ${answer.body}`,
    );
  }
}

/** List + watch over the Kubernetes API, re-listing after a broken watch (bounded back-off). */
export function createApiSource(conn: KubeConnection, rootNamespace = 'istio-system'): MeshSource {
  const w: ApiWatchState = { conn, cache: new ObjectCache(), live: new Set(), stopped: false };
  return {
    async start(onChange) {
      const resources = watchedResources(rootNamespace);
      const versions = await Promise.all(resources.map((r) => listInto(w, r)));
      resources.forEach((r, i) => {
        void watchLoop(w, r, versions[i] ?? '0', onChange);
      });
    },
    snapshot: () => w.cache.snapshot(),
    secret: (ns, name) => w.cache.secret(ns, name),
    createSecret: (ns, name, type, stringData) => createSecretOverApi(w, ns, name, type, stringData),
    stop: () => {
      w.stopped = true;
      for (const req of w.live) req.destroy();
    },
  };
}
