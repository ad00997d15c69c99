// The local target's kubelet: its public face (the composer is kubelet.ts; its parts are named for their seams).

export {
  type AttachedProcess,
  type ContainerLookup,
  type ContainerRuntimeSocket,
  connectRuntimeSocket,
  podChaosFiles,
  podSandboxDir,
} from './chaos-hooks.js';
export { createIpPool, type IpPool } from './ip-pool.js';
export { type Kubelet, startKubelet } from './kubelet.js';
export { LogBuffer } from './log-buffer.js';
export { KUBELET_VERSION } from './node-status.js';
export { type KubeletOptions, NODE_NAME } from './options.js';
export { computePodPhase, computePodStatus, computeQosClass } from './pod-status.js';
// The process-table helpers live in harness/exec; re-exported here for the tests and benches that reach the
// kubelet's processes through it.
export {
  groupMembers,
  isAlive,
  readProcessTable,
  readRssBytes,
  signalTree,
} from '../../../harness/exec/index.js';
export { parseQuantity } from './quantity.js';
