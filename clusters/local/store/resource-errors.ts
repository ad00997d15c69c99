// The store's errors that name a resource, worded as the real API server words them (kubectl prints them).

import type { ResourceDefinition } from './resources.js';
import { StoreError } from './types.js';

/** A resource as error messages name it: `pods`, `deployments.apps`. */
export function describeResource(def: ResourceDefinition): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}

export function notFound(def: ResourceDefinition, name: string): StoreError {
  return new StoreError(404, 'NotFound', `${describeResource(def)} "${name}" not found`);
}

export function conflict(def: ResourceDefinition, name: string): StoreError {
  return new StoreError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${describeResource(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}

export function uidMismatch(expected: string, actual: string): StoreError {
  return new StoreError(
    409,
    'Conflict',
    `Precondition failed: UID in precondition: ${expected}, UID in object meta: ${actual}`,
  );
}
