// Test support: YAML for the small fortio workloads the local-target tests apply (namespace, Deployment, Service).
// Flow maps are written as JSON, which YAML reads as is.

/** A namespace with sidecar injection on. */
export function namespaceYaml(name: string): string {
  return `apiVersion: v1
kind: Namespace
metadata: { name: ${name}, labels: { istio-injection: enabled } }
`;
}

export interface FortioDeployment {
  namespace: string;
  name: string;
  /** Pod labels; the selector defaults to the same labels. */
  labels: Record<string, string>;
  selector?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** One replica of fortio serving HTTP on 8080 (container `app`, port name `http`). */
export function fortioDeploymentYaml(d: FortioDeployment): string {
  const podMeta = { labels: d.labels, ...(d.annotations ? { annotations: d.annotations } : {}) };
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${d.name}, namespace: ${d.namespace} }
spec:
  replicas: 1
  selector: { matchLabels: ${JSON.stringify(d.selector ?? d.labels)} }
  template:
    metadata: ${JSON.stringify(podMeta)}
    spec:
      containers:
      - { name: app, image: fortio/fortio, args: [server, -http-port, "8080"], ports: [{ containerPort: 8080, name: http }] }
`;
}

/** A Service `name` selecting `app: <app>` on port 8080 named http. */
export function serviceYaml(namespace: string, name: string, app = name): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { app: ${app} }
  ports: [{ name: http, port: 8080, targetPort: 8080 }]
`;
}

/** Joins YAML documents into one multi-document stream. */
export function yamlStream(...docs: string[]): string {
  return docs.map((d) => d.replace(/^\n+|\n+$/g, '')).join('\n---\n');
}

/** A DestinationRule named after `host` with one subset per version (`version: <v>` labels). */
export function destinationRuleYaml(namespace: string, host: string, versions: string[]): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host}, namespace: ${namespace} }
spec:
  host: ${host}
  subsets:
${versions.map((v) => `  - { name: ${v}, labels: { version: ${v} } }`).join('\n')}
`;
}

/** A Gateway on the ingress gateway's port 80 for any host. */
export function ingressGatewayYaml(namespace: string, name = 'front'): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
`;
}
