// What cleanup searches: every kind a drill may create or change.

/**
 * The kinds a run may create or change, searched by label at cleanup: Chaos Mesh's schedulers first (deleting a
 * Schedule or Workflow stops new chaos), cluster-scoped kinds and namespaces last (deleting a namespace cascades).
 * A kind the cluster does not serve lists as empty.
 */
export const CLEANUP_KINDS: readonly { apiVersion: string; kind: string; namespaced: boolean }[] = [
  ...['Schedule', 'Workflow'].map((kind) => ({
    apiVersion: 'chaos-mesh.org/v1alpha1',
    kind,
    namespaced: true,
  })),
  ...[
    'PodChaos',
    'StressChaos',
    'NetworkChaos',
    'TimeChaos',
    'HTTPChaos',
    'IOChaos',
    'DNSChaos',
    'KernelChaos',
    'JVMChaos',
    'BlockChaos',
  ].map((kind) => ({ apiVersion: 'chaos-mesh.org/v1alpha1', kind, namespaced: true })),
  ...['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'Sidecar', 'WorkloadEntry'].map(
    (kind) => ({
      apiVersion: 'networking.istio.io/v1',
      kind,
      namespaced: true,
    }),
  ),
  { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', namespaced: true },
  ...['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication'].map((kind) => ({
    apiVersion: 'security.istio.io/v1',
    kind,
    namespaced: true,
  })),
  { apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', namespaced: true },
  ...['Gateway', 'HTTPRoute', 'GRPCRoute'].map((kind) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind,
    namespaced: true,
  })),
  { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', namespaced: true },
  { apiVersion: 'batch/v1', kind: 'Job', namespaced: true },
  { apiVersion: 'batch/v1', kind: 'CronJob', namespaced: true },
  ...['Deployment', 'StatefulSet', 'DaemonSet'].map((kind) => ({
    apiVersion: 'apps/v1',
    kind,
    namespaced: true,
  })),
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespaced: true },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespaced: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespaced: true },
  ...['Service', 'ConfigMap', 'Secret', 'ServiceAccount'].map((kind) => ({
    apiVersion: 'v1',
    kind,
    namespaced: true,
  })),
  ...['Role', 'RoleBinding'].map((kind) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    namespaced: true,
  })),
  ...['ClusterRole', 'ClusterRoleBinding'].map((kind) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    namespaced: false,
  })),
  ...['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].map((kind) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    namespaced: false,
  })),
  { apiVersion: 'v1', kind: 'Namespace', namespaced: false },
];
