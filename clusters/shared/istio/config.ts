// Istio installation settings suited to drills, as pure builders: an IstioOperator for istioctl and the
// equivalent values for the Helm charts base, istiod and gateway (golden-tested).

import type { KubeObject } from '../../../harness/model/index.js';

export const ISTIO_NAMESPACE = 'istio-system';
export const INGRESS_GATEWAY = 'istio-ingressgateway';
/**
 * The ingress gateway as pods reach it: its Service's cluster DNS name and HTTP port (the port named `http2` or
 * `http`, else 80, the gateway chart's default). In-cluster load goes here, with the scenario's Host header.
 */
export function ingressGatewayServiceUrl(service?: KubeObject): string {
  const ports = (
    (service?.spec as { ports?: { name?: string; port?: number }[] } | undefined)?.ports ?? []
  ).filter((p) => typeof p.port === 'number');
  const http = ports.find((p) => p.name === 'http2') ?? ports.find((p) => p.name === 'http');
  const port = http?.port ?? 80;
  const host = `${service?.metadata.name ?? INGRESS_GATEWAY}.${service?.metadata.namespace ?? ISTIO_NAMESPACE}.svc.cluster.local`;
  return port === 80 ? `http://${host}` : `http://${host}:${port}`;
}

/** The ingress gateway's HTTP NodePort that kind maps to a host port. */
export const DEFAULT_INGRESS_NODE_PORT = 30080;

/**
 * Envoy per-cluster stats for retries, outlier detection, circuit breaking and TLS handshakes are not exported by default
 * (ISTIO-FACTS.md "Metrics"); drills that detect retry storms or ejections need them.
 */
export const DRILL_STATS_INCLUSION_REGEXPS: readonly string[] = [
  '.*upstream_rq_retry.*',
  '.*outlier_detection.*',
  '.*upstream_rq_pending_overflow.*',
  '.*upstream_cx_overflow.*',
  '.*upstream_cx_connect_fail.*',
  '.*upstream_rq_timeout.*',
  '.*circuit_breakers.*',
  // The upstream mTLS handshakes, succeeded and failed (the mTLS success ratio), without the per-cipher stats.
  '.*\\.ssl\\.(handshake|connection_error|fail_verify_[a-z_]+)',
];

export interface IstioInstallConfig {
  version: string;
  profile: string;
  /** Canary revision such as `1-30-3`. */
  revision?: string;
  /** Make the revision the default (so `istio-injection=enabled` namespaces use it). */
  revisionIsDefault: boolean;
  /** Workload certificate lifetime (`SECRET_TTL`), for certificate-rotation drills. */
  secretTtlMs?: number;
  /** The gateway's Service type: NodePort on kind (mapped to the host), LoadBalancer elsewhere. */
  ingressServiceType: 'NodePort' | 'LoadBalancer' | 'ClusterIP';
  ingressNodePort: number;
  ingressHttpsNodePort: number;
}

/** Go duration text for SECRET_TTL (`5m`, `90s`). */
export function formatGoDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function buildMeshConfig(config: IstioInstallConfig): Record<string, unknown> {
  return {
    accessLogFile: '/dev/stdout',
    defaultConfig: {
      proxyStatsMatcher: { inclusionRegexps: [...DRILL_STATS_INCLUSION_REGEXPS] },
      ...(config.secretTtlMs === undefined
        ? {}
        : { proxyMetadata: { SECRET_TTL: formatGoDuration(config.secretTtlMs) } }),
    },
  };
}

interface ServicePort {
  name: string;
  port: number;
  targetPort: number;
  protocol: 'TCP';
  nodePort?: number;
}

function buildGatewayPorts(config: IstioInstallConfig, http: number, https: number): ServicePort[] {
  const withNodePort = config.ingressServiceType === 'NodePort';
  return [
    { name: 'status-port', port: 15021, targetPort: 15021, protocol: 'TCP' },
    {
      name: 'http2',
      port: 80,
      targetPort: http,
      protocol: 'TCP',
      ...(withNodePort ? { nodePort: config.ingressNodePort } : {}),
    },
    {
      name: 'https',
      port: 443,
      targetPort: https,
      protocol: 'TCP',
      ...(withNodePort ? { nodePort: config.ingressHttpsNodePort } : {}),
    },
  ];
}

/** The IstioOperator istioctl installs from (`istioctl install -f`). The revision goes on the command line. */
export function buildIstioOperator(config: IstioInstallConfig): KubeObject {
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'meshdrill', namespace: ISTIO_NAMESPACE },
    spec: {
      profile: config.profile,
      meshConfig: buildMeshConfig(config),
      components: {
        ingressGateways: [
          {
            name: INGRESS_GATEWAY,
            enabled: true,
            k8s: {
              service: {
                type: config.ingressServiceType,
                // istioctl's gateway listens on 8080/8443 inside the pod (it runs unprivileged).
                ports: buildGatewayPorts(config, 8080, 8443),
              },
            },
          },
        ],
      },
    },
  };
}

export interface IstioHelmValues {
  base: Record<string, unknown>;
  istiod: Record<string, unknown>;
  gateway: Record<string, unknown>;
}

/** Values for the Helm charts istio/base, istio/istiod and istio/gateway, equivalent to the IstioOperator. */
export function buildIstioHelmValues(config: IstioInstallConfig): IstioHelmValues {
  const revision = config.revision;
  return {
    base: revision && config.revisionIsDefault ? { defaultRevision: revision } : {},
    istiod: {
      ...(revision ? { revision } : {}),
      ...(revision && config.revisionIsDefault ? { revisionTags: ['default'] } : {}),
      meshConfig: buildMeshConfig(config),
    },
    gateway: {
      ...(revision ? { revision } : {}),
      service: {
        type: config.ingressServiceType,
        // The gateway chart's pod binds 80/443 itself (it grants the capability), unlike istioctl's.
        ports: buildGatewayPorts(config, 80, 443),
      },
    },
  };
}

/** The istiod Deployment's name for a revision. */
export function istiodDeploymentName(revision: string | undefined): string {
  return revision ? `istiod-${revision}` : 'istiod';
}
