// Public face of injection and validation: the admission hooks and the pure injector.
export { type MeshAdmission, type MeshAdmissionOptions, registerMeshAdmission } from './admission.js';
export {
  type InjectionOptions,
  injectSidecar,
  ISTIO_VERSION,
  namespaceWantsInjection,
  PROXY_IMAGE,
} from './inject.js';
export { validateIstioObject } from './validate.js';
