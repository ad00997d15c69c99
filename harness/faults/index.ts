// Faults: inject one, get back its undo; workload setup actions share the same Kubernetes actions.
export * from './inject.js';
export { injectCertificateExpiry, readIntermediateExpiry, restartDeployments } from './certificate-expiry.js';
export { describeRolloutWait, waitForRollouts } from './rollout.js';
export { deleteObjects, runSetupActions } from './workload-setup.js';
export * from './chaos-heal.js';
