// Pod IPs: each pod gets its own loopback address from a pool (127.1.0.0/16 by default), so containers
// listen on their declared ports as they would in a cluster, without clashing with other pods.

export interface IpPool {
  allocate(): string;
  release(ip: string): void;
}

function toInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function createIpPool(cidr = '127.1.0.0/16'): IpPool {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits ?? 16));
  const start = toInt(base ?? '127.1.0.0');
  const used = new Set<number>();
  // Start somewhere random in the range: several local clusters on one host (parallel test runs) share 127/8,
  // and two of them handing out the same first addresses would steal each other's ports.
  let cursor = 2 + Math.floor(Math.random() * Math.max(1, size - 4)); // .0 and .1 are skipped below, as CNI does
  return {
    allocate(): string {
      // Round-robin so a restarted pod rarely gets the IP a just-deleted pod had (stale connections).
      for (let i = 0; i < size; i++) {
        const offset = ((cursor + i) % (size - 2)) + 2;
        const low = offset % 256;
        if (low === 0 || low === 255) continue;
        if (!used.has(offset)) {
          used.add(offset);
          cursor = offset + 1;
          return toIp(start + offset);
        }
      }
      throw new Error(`pod IP pool ${cidr} is exhausted (${used.size} addresses in use)`);
    },
    release(ip: string): void {
      used.delete(toInt(ip) - start);
    },
  };
}
