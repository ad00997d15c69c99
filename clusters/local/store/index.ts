// The local target's object store: its public face.

export { storeCustomResourceDefinitions } from './crd-objects.js';
export { cloneJson, deepEqual, isObject, type JsonObject } from './json.js';
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export {
  findResource,
  findResourceByKind,
  formatApiVersion,
  KEYS,
  servedResources,
  type ResourceDefinition,
  resourceKey,
  type Subresource,
  splitApiVersion,
  type Verb,
} from './resources.js';
export {
  type FieldRequirement,
  type LabelRequirement,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  readFieldPath,
} from './selectors.js';
export * from './types.js';
export { checkName, validateObject } from './validation.js';
