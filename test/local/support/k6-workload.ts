// Test support: the workload that in-cluster k6 load runs against on the local target — a fortio Deployment in
// `demo` behind the ingress gateway, a VirtualService routing the given host to it, and the load's own namespace.
// The TestRun end-to-end test and the runners bench apply the same one, so what the bench measures is what the
// test proves.

import {
  fortioDeploymentYaml,
  ingressGatewayYaml,
  namespaceYaml,
  serviceYaml,
  yamlStream,
} from './workload.js';

/** The workload in `demo` reached through the gateway at `host`, and the namespace `loadNamespace` for k6. */
export function k6WorkloadYaml(host: string, loadNamespace: string): string {
  return yamlStream(
    namespaceYaml('demo'),
    fortioDeploymentYaml({ namespace: 'demo', name: 'web', labels: { app: 'web' } }),
    serviceYaml('demo', 'web'),
    ingressGatewayYaml('demo'),
    `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: front, namespace: demo }
spec:
  hosts: [${host}]
  gateways: [front]
  http:
  - route: [{ destination: { host: web } }]
`,
    // The load generator stands for users outside the mesh: its namespace has no injection.
    `
apiVersion: v1
kind: Namespace
metadata: { name: ${loadNamespace} }
`,
  );
}
