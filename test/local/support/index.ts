// Test support shared by the local-target tests: boot a LocalTarget, run its kubectl, wait, write workloads.

export { type BootOptions, type Booted, bootTarget } from './boot.js';
export { scaleIstiodDown } from './istiod.js';
export { applyAndRollOut, createKubectl, type Kubectl, lateKubectl } from './kubectl.js';
export { expectOk, type UntilOptions, until, untilWith } from './wait.js';
export {
  destinationRuleYaml,
  type FortioDeployment,
  fortioDeploymentYaml,
  ingressGatewayYaml,
  namespaceYaml,
  serviceYaml,
  yamlStream,
} from './workload.js';
