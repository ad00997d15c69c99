// The Kubernetes client and the helpers built on it (object addressing, cleanup by run-id label).
export * from './client.js';
export * from './field-path.js';
export * from './run-objects.js';
export * from './changed-objects.js';
export * from './cleanup-kinds.js';
