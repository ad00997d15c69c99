// The public images drill workloads use, pulled on the host and loaded into the kind nodes up front so a
// scenario's deploy phase never waits on (or is rate-limited by) a registry.

import { join } from 'node:path';
import type { ToolRunner } from './tool-runner.js';

/** Pinned, not `latest`: two runs compared by `meshdrill compare` must run the same workload. */
export const DEFAULT_WORKLOAD_IMAGES: readonly string[] = ['fortio/fortio:1.74.0'];

/** The commands that preload one image (pure): docker loads directly; podman goes through an archive. */
export function buildPreloadCommands(
  runtime: 'docker' | 'podman',
  image: string,
  cluster: string,
  archiveDir: string,
): { tool: string; args: string[] }[] {
  if (runtime === 'docker') {
    return [
      { tool: 'docker', args: ['pull', image] },
      { tool: 'kind', args: ['load', 'docker-image', image, '--name', cluster] },
    ];
  }
  const archive = join(archiveDir, `${image.replace(/[^\w.-]/g, '_')}.tar`);
  return [
    { tool: 'podman', args: ['pull', image] },
    { tool: 'podman', args: ['save', '-o', archive, image] },
    { tool: 'kind', args: ['load', 'image-archive', archive, '--name', cluster] },
  ];
}

export async function preloadImages(
  runner: ToolRunner,
  runtime: 'docker' | 'podman',
  images: readonly string[],
  cluster: string,
  archiveDir: string,
): Promise<void> {
  for (const image of images) {
    runner.progress(`loading ${image} into the kind nodes`);
    for (const { tool, args } of buildPreloadCommands(runtime, image, cluster, archiveDir)) {
      await runner.runChecked(tool, args, {
        timeoutMs: 10 * 60_000,
        hint: `check the image name and the network (\`${runtime} pull ${image}\`), or drop it from --target-opt images=`,
      });
    }
  }
}
