// Public face of the config builder: snapshot in, per-proxy configuration out (pure).
export { type BuildInput, buildProxyConfig, proxyNodeForPod } from './build.js';
export { clientOriginatesMtls, namespaceMtlsMode, serverMtlsMode } from './mtls.js';
export { buildRegistry, type RegistryService } from './registry.js';
export { clusterName, DEFAULT_RETRIES, DEFAULT_RETRY_ON } from './routes.js';
export { findSidecarScope, isHostVisible } from './scope.js';
export { measureConfigSize } from './size.js';
export {
  DEFAULT_MESH_OPTIONS,
  emptySnapshot,
  type MeshOptions,
  type MeshSnapshot,
  qualifyHost,
  serviceFqdn,
  workloadMetaOf,
} from './snapshot.js';
export { applicableTelemetries, buildMetricsConfig, TELEMETRY_METRICS } from './telemetry.js';
