// Where meshdrill's notification receiver listens on kind: the gateway of the container network kind puts its
// nodes on. That address is the host's own end of the network's bridge, so the host can listen there and a pod
// reaches it through its node's default route — no port-forward exists in that direction (kubectl forwards from
// the host into the cluster only). Read with `docker|podman network inspect` (pure parsing here).

/** kind's network, unless KIND_EXPERIMENTAL_DOCKER_NETWORK names another (kind honours it for both engines). */
export function kindNetworkOf(env: Record<string, string | undefined>): string {
  return env.KIND_EXPERIMENTAL_DOCKER_NETWORK || 'kind';
}

export function buildNetworkInspectArgs(network: string): string[] {
  return ['network', 'inspect', network];
}

/**
 * The IPv4 gateway of `network inspect` output: Docker's `[{"IPAM": {"Config": [{"Subnet", "Gateway"}]}}]`
 * or Podman's (netavark) `[{"subnets": [{"subnet", "gateway"}]}]`. kind's network is dual-stack; the IPv4 end
 * is the one every node has a route to.
 */
export function parseNetworkGateway(stdout: string): string | undefined {
  let networks: unknown;
  try {
    networks = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (!Array.isArray(networks)) return undefined;
  const first = networks[0] as
    | { IPAM?: { Config?: { Gateway?: string }[] | null }; subnets?: { gateway?: string }[] | null }
    | undefined;
  const gateways = [
    ...(first?.IPAM?.Config ?? []).map((c) => c.Gateway),
    ...(first?.subnets ?? []).map((s) => s.gateway),
  ];
  return gateways.find((g): g is string => typeof g === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(g));
}
