// The per-proxy configuration istiod pushes to a sidecar or gateway: an Envoy-shaped model (clusters,
// virtual hosts with routes, inbound policy) reduced to what the emulated proxy needs. Plain JSON.

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';
export type ProxyMode = 'sidecar' | 'router';

/** Who a workload is, as Istio's metric labels describe it. */
export interface WorkloadMeta {
  name: string;
  namespace: string;
  app: string;
  version: string;
  /** SPIFFE identity without the scheme: `cluster.local/ns/NS/sa/SA`. */
  principal: string;
  serviceAccount: string;
}

export interface ProxyNode {
  /** `sidecar~IP~POD.NS~NS.svc.cluster.local` like Envoy's node id. */
  id: string;
  mode: ProxyMode;
  podName: string;
  namespace: string;
  podIP: string;
  serviceAccount: string;
  labels: Record<string, string>;
  workload: WorkloadMeta;
}

export interface EndpointConfig {
  address: string;
  port: number;
  /** The endpoint has a sidecar (Envoy's `tlsMode: istio` endpoint label). */
  inMesh: boolean;
  /** Whether the client originates Istio mTLS to this endpoint (auto-mTLS decision, per endpoint). */
  mtls: boolean;
  workload: WorkloadMeta;
  labels: Record<string, string>;
}

export interface ClusterConfig {
  /** `outbound|PORT|SUBSET|HOST`. */
  name: string;
  host: string;
  port: number;
  subset: string;
  /** Service-level metadata for the `destination_service*` labels. */
  service: { name: string; namespace: string };
  endpoints: EndpointConfig[];
  /** DestinationRule traffic policy kept verbatim for the proxy (connectionPool, outlierDetection …). */
  trafficPolicy: Record<string, unknown>;
}

export interface StringMatch {
  kind: 'exact' | 'prefix' | 'regex';
  value: string;
}

export interface RouteMatch {
  uri?: StringMatch;
  headers: Record<string, StringMatch>;
  method?: StringMatch;
  port?: number;
}

export interface WeightedCluster {
  cluster: string;
  weight: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt; 0 = no retry policy (Istio drops the policy for `attempts: 0`). */
  attempts: number;
  perTryTimeoutMs?: number;
  /** Envoy `retry_on` plus bare status codes (the proxy splits them as Istio does). */
  retryOn: string;
  /** VirtualService `retries.backoff`: Envoy's base interval (default 25 ms); the maximum is 10 × base. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface FaultPolicy {
  delay?: { fixedDelayMs: number; percent: number };
  abort?: { httpStatus: number; percent: number };
}

export interface RouteConfig {
  name: string;
  /** OR of the match blocks; an empty list matches everything. */
  match: RouteMatch[];
  clusters: WeightedCluster[];
  retries: RetryPolicy;
  timeoutMs?: number;
  fault?: FaultPolicy;
  /** Where the route came from, for `istioctl proxy-config route`. */
  source: string;
}

export interface VirtualHostConfig {
  /** `host:port`. */
  name: string;
  /** Hostnames this virtual host answers (exact, or `*.suffix`, or `*`). */
  domains: string[];
  port: number;
  routes: RouteConfig[];
}

export interface InboundPort {
  port: number;
  targetPort: number;
  service: string;
  mtls: MtlsMode;
}

export interface AuthorizationCondition {
  /** `source.ip`, `source.namespace`, `source.principal`, `request.headers[NAME]`, `destination.port` … */
  key: string;
  values: string[];
  notValues: string[];
}

export interface AuthorizationRule {
  from: {
    principals: string[];
    namespaces: string[];
    notPrincipals: string[];
    notNamespaces: string[];
    ipBlocks?: string[];
    notIpBlocks?: string[];
  }[];
  to: {
    paths: string[];
    methods: string[];
    notPaths: string[];
    notMethods: string[];
    ports: string[];
    notPorts?: string[];
    hosts?: string[];
    notHosts?: string[];
  }[];
  /** `when` conditions (all must hold). */
  when?: AuthorizationCondition[];
}

export interface AuthorizationConfig {
  name: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  rules: AuthorizationRule[];
}

export interface GatewayListener {
  /** Port the gateway pod listens on (the Service target port when one maps the server port). */
  listenPort: number;
  serverPort: number;
  hosts: string[];
  virtualHosts: VirtualHostConfig[];
}

export interface ProxyConfig {
  version: string;
  node: ProxyNode;
  clusters: ClusterConfig[];
  /** Outbound virtual hosts for sidecars, keyed nowhere: the proxy indexes them by domain and port. */
  virtualHosts: VirtualHostConfig[];
  inbound: { defaultMtls: MtlsMode; ports: InboundPort[]; authorization: AuthorizationConfig[] };
  gateway: GatewayListener[];
  /** Root certificates istiod distributes (the trust bundle), PEM. */
  trustBundle?: string;
  /** The Telemetry API's metrics for this proxy (absent: every standard metric on both sides). */
  metrics?: MetricsConfig;
}

/**
 * Standard metrics (Prometheus names) a proxy's stats filter does not report: `client` on the outbound side and
 * in gateways (reporter="source"), `server` on the inbound side (reporter="destination").
 */
export interface MetricsConfig {
  client: string[];
  server: string[];
  /** The Telemetry objects that shaped it, `ns/name`, for `istioctl proxy-config`-style inspection. */
  sources?: string[];
}

/** A quick measure of how much configuration a proxy holds — what drives Envoy's memory. */
export interface ConfigSize {
  clusters: number;
  endpoints: number;
  routes: number;
  virtualHosts: number;
  bytes: number;
}
