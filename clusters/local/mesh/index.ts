// The Istio emulation of the local target: config builder, CA, sidecar proxy, istiod, injection, install.
export * from './ca/index.js';
export * from './config/index.js';
export * from './injection/index.js';
export {
  buildInstallManifests,
  type InstallOptions,
  ISTIO_NAMESPACE,
  installIstio,
  meshContainerEnv,
  meshImageEnv,
  registerMeshImages,
  uninstallIstio,
} from './install.js';
export * from './istiod/index.js';
export type * from './model/proxy-config.js';
export { DEFAULT_PORTS, type ProxyOptions, type RunningProxy, startProxy } from './proxy/proxy.js';
export { DURATION_BUCKETS_MS, ISTIO_LABELS } from './proxy/stats.js';
export { createLocalMesh, type LocalMesh, type LocalMeshOptions } from './local-wiring.js';
