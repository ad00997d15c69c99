// The existing target's public face: a named kubeconfig context on a real cluster, with a fault-injection guard.
export {
  type ExistingTarget,
  type ExistingTargetOptions,
  allowListPathOf,
  createExistingTarget,
} from './existing-target.js';
export { EXISTING_SETTING_DOCS, type ExistingSettings, readExistingSettings } from './existing-settings.js';
export { type FaultDecision, decideFaultsAllowed, parseAllowList } from './fault-guard.js';
export {
  buildPinnedKubeconfig,
  kubeconfigPathsOf,
  listContexts,
  readKubeconfigFiles,
  writePinnedKubeconfig,
} from './kubeconfig-copy.js';
export { checkMeshPresence } from './presence.js';
