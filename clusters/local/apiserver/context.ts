// What each request handler gets: the store and runtime behind the server, and the parsed resource request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PodRuntime } from '../pod-runtime.js';
import {
  formatApiVersion,
  type ObjectStore,
  type ResourceDefinition,
  type ResourceKey,
  type StoredObject,
} from '../store/index.js';

export interface ApiContext {
  store: ObjectStore;
  runtime: PodRuntime | undefined;
  /** Open watch and log-follow streams, ended on close so the server can stop promptly. */
  streams: Set<ServerResponse>;
}

export interface ResourceRequest {
  def: ResourceDefinition;
  key: ResourceKey;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  query: URLSearchParams;
  req: IncomingMessage;
  res: ServerResponse;
}

/** Shows an object in the version the client asked for (Istio v1 and v1beta1 share storage). */
export function present<T extends StoredObject>(request: Pick<ResourceRequest, 'def' | 'key'>, object: T): T {
  object.apiVersion = formatApiVersion(request.def.group, request.key.version);
  object.kind = request.def.kind;
  return object;
}

export function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

export function describeResource(def: ResourceDefinition): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}
