// Registers the pause image (gcr.io/google-containers/pause, registry.k8s.io/pause), Chaos Mesh's default
// `podFailurePauseImage`, with the image registry: ENTRYPOINT ["/pause"], no shell.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImageRegistry } from '../programs/registry.js';

export function pauseProgramEntry(): string {
  const ts = fileURLToPath(new URL('./pause-program.ts', import.meta.url));
  return existsSync(ts) ? ts : ts.replace(/\.ts$/, '.js');
}

export function registerPauseImage(images: ImageRegistry): void {
  const program = {
    entrypoint: ['/pause'],
    cmd: [],
    executables: { pause: { kind: 'bundle' as const, entry: pauseProgramEntry() } },
    hostFallback: false,
  };
  images.registerImage('gcr.io/google-containers/pause', program);
  images.registerImage('registry.k8s.io/pause', program);
}
