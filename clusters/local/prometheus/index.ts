// The local target's Prometheus: the real binary, configured for 1 s scrapes of annotated pods.

export { buildPodTargets, buildPrometheusConfig, type FileSdGroup, sanitizeLabelName } from './config.js';
export {
  INSTALL_HINT,
  type PrometheusInstance,
  type PrometheusOptions,
  startPrometheus,
} from './launcher.js';
