// The images the local target knows out of the box: fortio (Istio's test server), grafana/k6 (a stand-in that runs
// meshdrill's generated scripts only — not k6) and the k6-operator's starter, and small utility images for
// `kubectl exec` and tests (busybox, curlimages/curl, polinux/stress) backed by host binaries.

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
  registry.registerImage('grafana/k6', {
    // As the real image: ENTRYPOINT ["k6"]. The program is NOT k6 (programs/k6/main.ts says what it runs); the real
    // image is Alpine-based, so a shell and coreutils are there.
    entrypoint: ['k6'],
    cmd: [],
    executables: { k6: { kind: 'bundle', entry: programEntry('./k6/main.ts') } },
    hostFallback: true,
  });
  // The k6-operator's starter (`ghcr.io/grafana/k6-operator:*-starter`): built FROM curlimages/curl, it runs
  // `sh -c "curl -X PATCH …/v1/status"` against each runner.
  registry.registerImage(
    (ref) =>
      ref.registry === 'ghcr.io' && ref.repository === 'grafana/k6-operator' && ref.tag.endsWith('starter'),
    { entrypoint: [], cmd: ['curl'], executables: {}, hostFallback: true },
  );
  registry.registerImage('polinux/stress', {
    entrypoint: [],
    cmd: ['stress', '--vm', '1', '--vm-bytes', '128M', '--vm-hang', '1'],
    executables: { stress: { kind: 'bundle', entry: programEntry('./stress/main.ts') } },
    hostFallback: true,
  });
}
