// The local target's object store contract. The API server serves it over HTTP; controllers, the kubelet
// and the Istio emulation use it in-process (as real controllers use the API server's watch cache).
// Objects are stored as plain JSON; the store owns metadata.uid, resourceVersion, generation,
// creationTimestamp and deletionTimestamp.

export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    creationTimestamp: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    finalizers?: string[];
    generateName?: string;
    [key: string]: unknown;
  };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

/** Identifies a resource type: group ("" for core), version, plural resource name. */
export interface ResourceKey {
  group: string;
  version: string;
  resource: string;
}

export interface ListOptions {
  namespace?: string;
  /** Kubernetes label selector syntax: `a=b,c!=d,e in (f,g),!h`. */
  labelSelector?: string;
  /** Field selector: `metadata.name=x,metadata.namespace=y,spec.nodeName=z,status.phase=Running`. */
  fieldSelector?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  object: StoredObject;
}

/** Options of a delete, as in the Kubernetes DeleteOptions body. All optional. */
export interface DeleteOptions {
  /** Pods on a node: 0 removes at once; otherwise deletionTimestamp is set and the kubelet finishes the delete. */
  gracePeriodSeconds?: number;
  /** Dependents (by ownerReferences) are deleted too, unless `Orphan`. Foreground behaves as Background here. */
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface Watch {
  stop(): void;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** The request's `fieldValidation`: Strict refuses fields a custom resource's schema does not declare. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

export class StoreError extends Error {
  constructor(
    readonly code: 404 | 409 | 410 | 422 | 400 | 403 | 405 | 500,
    readonly reason:
      | 'NotFound'
      | 'AlreadyExists'
      | 'Conflict'
      | 'Invalid'
      | 'BadRequest'
      | 'Forbidden'
      | 'InternalError'
      | 'Expired'
      | 'MethodNotAllowed',
    message: string,
    readonly causes: { field: string; message: string; reason: string }[] = [],
    /** The kind and name the error is about (kubectl prints `The Pod "x" is invalid` from these). */
    readonly details: { kind?: string; name?: string } = {},
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/**
 * A hook run before an object is written (admission): it may mutate the object (injection) or throw a
 * StoreError (validation, a webhook failing closed). Registered per resource.
 */
export type AdmissionHook = (
  operation: 'CREATE' | 'UPDATE',
  object: StoredObject,
  old: StoredObject | undefined,
) => void | Promise<void>;

export interface ObjectStore {
  get(key: ResourceKey, namespace: string | undefined, name: string): StoredObject | undefined;
  list(key: ResourceKey, options?: ListOptions): { items: StoredObject[]; resourceVersion: string };
  /**
   * Creates; assigns metadata; resolves generateName; throws AlreadyExists. With `dryRun` every step runs —
   * defaulting, admission (webhooks mutate and may refuse, as a real server calls them on a server-side dry
   * run), validation — and nothing is stored.
   */
  create(key: ResourceKey, object: unknown, options?: WriteOptions): Promise<StoredObject>;
  /** Replaces; a non-empty metadata.resourceVersion that is stale throws Conflict. */
  update(
    key: ResourceKey,
    object: unknown,
    options?: Pick<WriteOptions, 'fieldValidation'>,
  ): Promise<StoredObject>;
  /** Replaces only `.status` (the status subresource). */
  updateStatus(key: ResourceKey, object: unknown): Promise<StoredObject>;
  /** Deletes; with finalizers it sets deletionTimestamp instead. Returns the object as it was removed. */
  delete(
    key: ResourceKey,
    namespace: string | undefined,
    name: string,
    options?: DeleteOptions,
  ): Promise<StoredObject>;
  /** Delivers events newer than `sinceResourceVersion` (when still in the window), then live events. */
  watch(
    key: ResourceKey,
    options: ListOptions & { sinceResourceVersion?: string },
    onEvent: (event: WatchEvent) => void,
  ): Watch;
  addAdmissionHook(key: ResourceKey, hook: AdmissionHook): void;
  /** The current (latest) resourceVersion of the whole store. */
  currentResourceVersion(): string;
}
