// The kind target's public face: a real local cluster with Istio by version, Prometheus and Chaos Mesh.
export {
  type KindTarget,
  type KindTargetOptions,
  buildKindRequirements,
  createKindTarget,
  deleteKindCluster,
} from './kind-target.js';
export {
  DEFAULT_K8S_VERSION,
  KIND_NODE_IMAGES,
  KIND_RELEASE,
  type KindClusterConfig,
  buildKindConfig,
  nodeImageFor,
  parseKindClusters,
} from './kind-config.js';
export { KIND_SETTING_DOCS, type KindSettings, readKindSettings } from './kind-settings.js';
export { kindNetworkOf, parseNetworkGateway } from './kind-network.js';
