// The public images drill workloads use, pulled on the host and loaded into the kind nodes up front so a
// scenario's deploy phase never waits on (or is rate-limited by) a registry. Preloading is an optimisation:
// when it fails, the nodes pull the image from its registry as they would without it, so a failure is a
// warning, never the end of provisioning.

import { join } from 'node:path';
import { describeFailure } from '../../harness/exec/index.js';
import type { ToolRunner } from './tool-runner.js';

/** Pinned, not `latest`: two runs compared by `meshdrill compare` must run the same workload. */
export const DEFAULT_WORKLOAD_IMAGES: readonly string[] = ['docker.io/fortio/fortio:1.74.0'];

export interface ToolCommand {
  tool: string;
  args: string[];
}

/** How one image is preloaded: pulled once, then loaded one way, or the fallback way when that fails. */
export interface PreloadPlan {
  pull: ToolCommand;
  load: ToolCommand[];
  fallbackLoad: ToolCommand[];
}

/**
 * The fully qualified name, as Docker normalises a reference: a first path component that is not a registry
 * host (no `.` or `:`, not `localhost`) means Docker Hub, and a single component is an official image. Podman
 * resolves short names through its short-name policy, which fails without a TTY when several search registries
 * are configured ("enforcing", the default), so meshdrill never hands it a short name.
 */
export function qualifyImage(image: string): string {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const isRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  if (isRegistry) return image;
  return slash < 0 ? `docker.io/library/${image}` : `docker.io/${image}`;
}

/** The platform of the kind nodes: kind runs nodes of the host's architecture. */
export function nodePlatform(arch: string = process.arch): string {
  return `linux/${arch === 'x64' ? 'amd64' : arch}`;
}

/**
 * The commands that preload one image (pure). Docker: `kind load docker-image`; with Docker's containerd image
 * store a multi-platform image fails there (`ctr: content digest … not found`, kind issue #3795), so the
 * fallback saves this platform alone and loads the archive (the workaround kind documents). Podman always goes
 * through an archive.
 */
export function buildPreloadCommands(
  runtime: 'docker' | 'podman',
  image: string,
  cluster: string,
  archiveDir: string,
  platform: string = nodePlatform(),
): PreloadPlan {
  const name = qualifyImage(image);
  const archive = join(archiveDir, `${name.replace(/[^\w.-]/g, '_')}.tar`);
  const loadArchive: ToolCommand = {
    tool: 'kind',
    args: ['load', 'image-archive', archive, '--name', cluster],
  };
  const pull: ToolCommand = { tool: runtime, args: ['pull', '--platform', platform, name] };
  if (runtime === 'podman') {
    return {
      pull,
      load: [{ tool: 'podman', args: ['save', '-o', archive, name] }, loadArchive],
      fallbackLoad: [],
    };
  }
  return {
    pull,
    load: [{ tool: 'kind', args: ['load', 'docker-image', name, '--name', cluster] }],
    fallbackLoad: [
      { tool: 'docker', args: ['image', 'save', '--platform', platform, '-o', archive, name] },
      loadArchive,
    ],
  };
}

async function runAll(runner: ToolRunner, commands: readonly ToolCommand[]): Promise<string | undefined> {
  for (const { tool, args } of commands) {
    const result = await runner.run(tool, args, { timeoutMs: 10 * 60_000 });
    if (result.exitCode !== 0) return describeFailure(result).replace(/\n/g, ' ');
  }
  return undefined;
}

/** Preloads each image; returns one warning per image that could not be preloaded (the nodes will pull it). */
export async function preloadImages(
  runner: ToolRunner,
  runtime: 'docker' | 'podman',
  images: readonly string[],
  cluster: string,
  archiveDir: string,
): Promise<string[]> {
  const warnings: string[] = [];
  for (const image of images) {
    runner.progress(`loading ${image} into the kind nodes`);
    const plan = buildPreloadCommands(runtime, image, cluster, archiveDir, nodePlatform(runner.host.arch));
    let failure = await runAll(runner, [plan.pull]);
    if (!failure) {
      // Pulled: a load that fails is the image store's doing, and the fallback (if any) loads another way.
      failure = await runAll(runner, plan.load);
      if (failure && plan.fallbackLoad.length > 0) {
        runner.progress(`${failure}; trying a single-platform archive`);
        failure = await runAll(runner, plan.fallbackLoad);
      }
    }
    if (failure) {
      const warning = `could not preload ${image} (${failure}); the nodes will pull it from its registry`;
      runner.progress(warning);
      warnings.push(warning);
    }
  }
  return warnings;
}
