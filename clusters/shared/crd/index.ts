// The real CRDs: which custom resources exist, and what their structural schemas accept.
export {
  type CrdCatalog,
  type CrdDefinition,
  compareKubeVersions,
  type CrdVersion,
  loadCrdCatalog,
  schemaViolations,
  UPSTREAM_CRD_DIR,
  upstreamCrdCatalog,
  upstreamCrdFiles,
  validateCustomResource,
} from './catalog.js';
export {
  formatViolation,
  type SchemaNode,
  type SchemaViolation,
  validateStructural,
} from './structural-schema.js';
