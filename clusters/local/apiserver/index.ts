// The local target's Kubernetes API server: its public face.

export {
  buildKubeconfig,
  KUBECONFIG_CONTEXT,
  type KubeconfigOptions,
  writeKubeconfig,
} from './kubeconfig.js';
export { type ApiServer, type ApiServerOptions, startApiServer } from './server.js';
export { buildExecStatus } from './exec-websocket.js';
export { applyJsonMergePatch, applyJsonPatch, applyStrategicMergePatch } from './patch/index.js';
export { formatHumanDuration, podStatus } from './tables/index.js';
