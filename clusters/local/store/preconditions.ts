// A write's preconditions, checked against the stored object: it must exist and, where the request names them,
// have the uid and the resourceVersion named. One check for update, status update and delete alike.

import type { ResourceDefinition } from './resources.js';
import { conflict, notFound, uidMismatch } from './resource-errors.js';
import type { StoredObject, StoreError } from './types.js';

/** What a request may require of the stored object; absent or empty means "any". */
export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

/**
 * The StoreError to throw, or undefined when every precondition holds. Checked in upstream's order
 * (apimachinery's Preconditions.Check): existence (404), then uid, then resourceVersion (409 each).
 * `name` is the name the request asked for (the 404 repeats it); a conflict names the stored object.
 */
export function preconditionFailure(
  def: ResourceDefinition,
  name: string,
  current: StoredObject | undefined,
  preconditions: Preconditions = {},
): StoreError | undefined {
  if (!current) return notFound(def, name);
  const { uid, resourceVersion } = preconditions;
  if (uid && uid !== current.metadata.uid) return uidMismatch(uid, current.metadata.uid);
  if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
    return conflict(def, current.metadata.name);
  }
  return undefined;
}

/** Throws the precondition failure, if any; afterwards `current` is known to exist. */
export function checkPreconditions(
  def: ResourceDefinition,
  name: string,
  current: StoredObject | undefined,
  preconditions?: Preconditions,
): asserts current is StoredObject {
  const failure = preconditionFailure(def, name, current, preconditions);
  if (failure) throw failure;
}
