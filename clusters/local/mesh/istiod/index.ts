// Public face of the emulated istiod: the server (in-process or as the istio/pilot program) and its sources.
export { type Istiod, type IstiodOptions, type ProxyStatus, startIstiod } from './server.js';
export {
  createApiSource,
  createStoreSource,
  type KubeConnection,
  type MeshSource,
  watchedResources,
} from './sources.js';
