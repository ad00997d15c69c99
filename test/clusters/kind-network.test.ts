// The kind network's gateway, where the notification receiver listens, read from `network inspect` output as
// Docker and Podman print it (kind's network is dual-stack; Docker lists the IPv6 subnet first).

import { expect } from 'chai';
import { kindNetworkOf, parseNetworkGateway } from '../../clusters/kind/index.js';

describe('kind network gateway', () => {
  it("reads the IPv4 gateway from Docker's and Podman's output, skipping the IPv6 one", () => {
    const docker = JSON.stringify([
      {
        Name: 'kind',
        Driver: 'bridge',
        EnableIPv6: true,
        IPAM: {
          Driver: 'default',
          Options: {},
          Config: [
            { Subnet: 'fc00:f853:ccd:e793::/64', Gateway: 'fc00:f853:ccd:e793::1' },
            { Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' },
          ],
        },
      },
    ]);
    expect(parseNetworkGateway(docker)).to.equal('172.18.0.1');
    const podman = JSON.stringify([
      {
        name: 'kind',
        driver: 'bridge',
        network_interface: 'podman1',
        subnets: [
          { subnet: 'fc00:f853:ccd:e793::/64', gateway: 'fc00:f853:ccd:e793::1' },
          { subnet: '10.89.0.0/24', gateway: '10.89.0.1' },
        ],
      },
    ]);
    expect(parseNetworkGateway(podman)).to.equal('10.89.0.1');
  });

  it('names none where there is none: an IPv6-only network, an empty answer, not JSON', () => {
    expect(
      parseNetworkGateway(
        JSON.stringify([{ IPAM: { Config: [{ Subnet: 'fc00::/64', Gateway: 'fc00::1' }] } }]),
      ),
    ).to.equal(undefined);
    expect(parseNetworkGateway('[]')).to.equal(undefined);
    expect(parseNetworkGateway('Error response from daemon: network kind not found')).to.equal(undefined);
  });

  it('follows KIND_EXPERIMENTAL_DOCKER_NETWORK as kind does', () => {
    expect(kindNetworkOf({})).to.equal('kind');
    expect(kindNetworkOf({ KIND_EXPERIMENTAL_DOCKER_NETWORK: 'drills' })).to.equal('drills');
  });
});
