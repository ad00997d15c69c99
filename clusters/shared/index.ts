// Code common to the kind and existing targets: host tools, prerequisites, settings, readiness waits, Istio,
// Prometheus, Chaos Mesh, k6-operator, image preloading and port-forwards.
export * from './addons.js';
export * from './host.js';
export * from './images.js';
export * from './istio/config.js';
export * from './istio/install.js';
export * from './istio/plugin-ca.js';
export * from './istio/release.js';
export * from './port-forward.js';
export * from './prerequisites.js';
export * from './prometheus/discover.js';
export * from './prometheus/install.js';
export * from './prometheus/manifests.js';
export * from './readiness.js';
export * from './settings.js';
export * from './spawn-background.js';
export * from './stack-settings.js';
export * from './stack.js';
export * from './timings.js';
export * from './tool-runner.js';
export * from './doctor.js';
export * from './stack-plan.js';
export * from './alertmanager/config.js';
export * from './alertmanager/routing.js';
export * from './alertmanager/receiver.js';
export * from './alertmanager/manifests.js';
export * from './alertmanager/install.js';
