// The one Kubernetes client the harness uses (engine, signals, faults, cleanup, and the kind/existing targets),
// over @kubernetes/client-node. An interface so engine tests can substitute an in-memory double.

import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
} from '@kubernetes/client-node';
import { MeshdrillError } from '../model/index.js';
import type { KubeObject } from '../model/index.js';

export interface ObjectKey {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ListQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface KubeClient {
  /** Server-side apply with field manager `meshdrill` (creates when absent). */
  apply(object: KubeObject): Promise<KubeObject>;
  /**
   * Replaces the object as a whole (PUT) at its current resourceVersion: what restoring an earlier version
   * needs, since a server-side apply leaves fields other managers (or meshdrill's own patches) set.
   */
  replace(object: KubeObject): Promise<KubeObject>;
  get(key: ObjectKey): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, query?: ListQuery): Promise<KubeObject[]>;
  /** Resolves false when the object was already gone. */
  delete(key: ObjectKey): Promise<boolean>;
  patch(key: ObjectKey, patch: Record<string, unknown>, type: 'merge' | 'strategic'): Promise<KubeObject>;
  podLog(namespace: string, pod: string, container: string, tailLines?: number): Promise<string>;
  serverVersion(): Promise<string>;
}

export const FIELD_MANAGER = 'meshdrill';

/** Describes an object for messages and the journal: `Deployment istio-system/istiod`. */
export function describeObject(o: { kind: string; namespace?: string; name?: string }): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name ?? '(unnamed)'}`;
}

export function keyOf(object: KubeObject): ObjectKey {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name ?? '',
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
  };
}

/** client-node's answer when discovery lists no resource for an apiVersion and kind. */
function notServed(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Unrecognized API version and kind');
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  return undefined;
}

/** Turns a client-node failure into an error that says what was attempted and what the server said. */
function explain(action: string, error: unknown): MeshdrillError {
  if (error instanceof ApiException) {
    let message = String(error.body);
    try {
      const body = JSON.parse(String(error.body)) as { message?: string };
      if (body.message) message = body.message;
    } catch {
      // not JSON: keep the raw body
    }
    return new MeshdrillError('environment', `${action}: the API server answered ${error.code}: ${message}`, {
      cause: error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new MeshdrillError('environment', `${action}: ${reason}`, {
    hint: 'check that the cluster is up and the kubeconfig points at it',
    cause: error,
  });
}

export function loadKubeConfig(kubeconfigPath: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  // Selecting a context here changes only this in-memory copy: the user's file and current context are untouched.
  if (context) kc.setCurrentContext(context);
  return kc;
}

/** The client-node APIs one KubeClient talks through, all on the same kubeconfig. */
interface KubeApis {
  objects: KubernetesObjectApi;
  core: CoreV1Api;
  version: VersionApi;
}

export function createKubeClient(kubeconfigPath: string, context?: string): KubeClient {
  const kc = loadKubeConfig(kubeconfigPath, context);
  const apis: KubeApis = {
    objects: KubernetesObjectApi.makeApiClient(kc),
    core: kc.makeApiClient(CoreV1Api),
    version: kc.makeApiClient(VersionApi),
  };
  return {
    apply: (object) => applyObject(apis, object),
    replace: (object) => replaceObject(apis, object),
    get: (key) => getObject(apis, key),
    list: (apiVersion, kind, query = {}) => listObjects(apis, apiVersion, kind, query),
    delete: (key) => deleteObject(apis, key),
    patch: (key, patch, type) => patchObject(apis, key, patch, type),
    podLog: (namespace, pod, container, tailLines) => readPodLog(apis, namespace, pod, container, tailLines),
    serverVersion: () => readServerVersion(apis),
  };
}

/** The object a key names, as client-node addresses it: no spec, no status. */
function headerOf(key: ObjectKey): KubernetesObject {
  return {
    apiVersion: key.apiVersion,
    kind: key.kind,
    metadata: { name: key.name, ...(key.namespace ? { namespace: key.namespace } : {}) },
  };
}

async function applyObject({ objects }: KubeApis, object: KubeObject): Promise<KubeObject> {
  try {
    return (await objects.patch(
      object as KubernetesObject,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    )) as KubeObject;
  } catch (error) {
    throw explain(`applying ${describeObject(keyOf(object))}`, error);
  }
}

async function replaceObject({ objects }: KubeApis, object: KubeObject): Promise<KubeObject> {
  const key = keyOf(object);
  try {
    const current = (await objects.read(headerOf(key) as never)) as KubeObject;
    const metadata = { ...object.metadata, resourceVersion: current.metadata.resourceVersion };
    return (await objects.replace(
      { ...object, metadata } as KubernetesObject,
      undefined,
      undefined,
      FIELD_MANAGER,
    )) as KubeObject;
  } catch (error) {
    throw explain(`replacing ${describeObject(key)}`, error);
  }
}

async function getObject({ objects }: KubeApis, key: ObjectKey): Promise<KubeObject | undefined> {
  try {
    return (await objects.read(headerOf(key) as never)) as KubeObject;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw explain(`reading ${describeObject(key)}`, error);
  }
}

async function listObjects(
  { objects }: KubeApis,
  apiVersion: string,
  kind: string,
  query: ListQuery,
): Promise<KubeObject[]> {
  try {
    const result = await objects.list(
      apiVersion,
      kind,
      query.namespace,
      undefined,
      undefined,
      undefined,
      query.fieldSelector,
      query.labelSelector,
    );
    // List items omit apiVersion/kind; put them back so callers can address each item.
    return result.items.map((item) => ({ ...item, apiVersion, kind }) as KubeObject);
  } catch (error) {
    // A kind the cluster does not serve has no objects: client-node finds no resource for it in discovery
    // (or the group answers 404).
    if (statusOf(error) === 404 || notServed(error)) return [];
    throw explain(`listing ${kind} in ${query.namespace ?? 'all namespaces'}`, error);
  }
}

async function deleteObject({ objects }: KubeApis, key: ObjectKey): Promise<boolean> {
  try {
    await objects.delete(headerOf(key), undefined, undefined, undefined, undefined, 'Background');
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw explain(`deleting ${describeObject(key)}`, error);
  }
}

async function patchObject(
  { objects }: KubeApis,
  key: ObjectKey,
  patch: Record<string, unknown>,
  type: 'merge' | 'strategic',
): Promise<KubeObject> {
  try {
    return (await objects.patch(
      {
        ...patch,
        apiVersion: key.apiVersion,
        kind: key.kind,
        metadata: { ...((patch.metadata as object | undefined) ?? {}), ...headerOf(key).metadata },
      } as KubernetesObject,
      undefined,
      undefined,
      FIELD_MANAGER,
      undefined,
      type === 'merge' ? PatchStrategy.MergePatch : PatchStrategy.StrategicMergePatch,
    )) as KubeObject;
  } catch (error) {
    throw explain(`patching ${describeObject(key)}`, error);
  }
}

async function readPodLog(
  { core }: KubeApis,
  namespace: string,
  pod: string,
  container: string,
  tailLines: number | undefined,
): Promise<string> {
  try {
    return await core.readNamespacedPodLog({
      name: pod,
      namespace,
      container,
      ...(tailLines === undefined ? {} : { tailLines }),
    });
  } catch (error) {
    throw explain(`reading the log of ${namespace}/${pod} -c ${container}`, error);
  }
}

async function readServerVersion({ version }: KubeApis): Promise<string> {
  try {
    const info = await version.getCode();
    return info.gitVersion;
  } catch (error) {
    throw explain('asking the API server for its version', error);
  }
}
