// Host binaries a container may run (an exec command or a probe naming one): found on the kubelet's PATH, cached.

import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export type HostLookup = (name: string) => string | undefined;

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

export function createHostLookup(): HostLookup {
  const cache = new Map<string, string | undefined>();
  return (name) => {
    if (cache.has(name)) return cache.get(name);
    const found = findOnPath(name);
    cache.set(name, found);
    return found;
  };
}
