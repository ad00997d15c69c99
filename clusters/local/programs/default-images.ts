// The images the local target knows out of the box: fortio (Istio's test server), and small utility images
// for `kubectl exec` and tests (busybox, curlimages/curl, polinux/stress) backed by host binaries.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImageRegistry } from './registry.js';

/** Absolute path of a program entry beside this file (.ts in a checkout, .js once built to dist/). */
export function programEntry(relative: string): string {
  const ts = fileURLToPath(new URL(relative, import.meta.url));
  if (existsSync(ts)) return ts;
  return ts.replace(/\.ts$/, '.js');
}

export function registerDefaultImages(registry: ImageRegistry): void {
  registry.registerImage('fortio/fortio', {
    // As the real image: ENTRYPOINT ["/usr/bin/fortio"], CMD ["server", "-config-dir", "/etc/fortio"];
    // built FROM scratch, so there is no shell to exec into.
    entrypoint: ['/usr/bin/fortio'],
    cmd: ['server', '-config-dir', '/etc/fortio'],
    executables: { fortio: { kind: 'bundle', entry: programEntry('./fortio/main.ts') } },
    hostFallback: false,
  });
  for (const name of ['busybox', 'alpine', 'debian', 'ubuntu']) {
    registry.registerImage(name, { entrypoint: [], cmd: ['sh'], executables: {}, hostFallback: true });
  }
  registry.registerImage('curlimages/curl', {
    entrypoint: [],
    cmd: ['curl'],
    executables: {},
    hostFallback: true,
  });
  registry.registerImage('nicolaka/netshoot', {
    entrypoint: [],
    cmd: ['zsh'],
    executables: {},
    hostFallback: true,
  });
  registry.registerImage('polinux/stress', {
    entrypoint: [],
    cmd: ['stress', '--vm', '1', '--vm-bytes', '128M', '--vm-hang', '1'],
    executables: { stress: { kind: 'bundle', entry: programEntry('./stress/main.ts') } },
    hostFallback: true,
  });
}
