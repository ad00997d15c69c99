// Fetches and caches an Istio release (istioctl, charts, samples) per version, through curl and tar via
// harness/exec so tests can fake the download. Cache: ~/.cache/meshdrill/istio/<version>/istio-<version>/.

import { access, constants, mkdir, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MeshdrillError, invalidInput } from '../../../harness/model/index.js';
import type { ToolRunner } from '../tool-runner.js';

const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export function checkIstioVersion(version: string): void {
  if (!VERSION.test(version)) {
    throw invalidInput(
      `--istio: expected an Istio release such as "1.30.3", got "${version}"`,
      'use a version listed at https://github.com/istio/istio/releases',
    );
  }
}

/** The release archive's URL for a version and platform, as Istio's downloadIstio script names them (pure). */
export function istioArchiveUrl(version: string, platform: string, arch: string): string {
  const cpu =
    arch === 'arm64' || arch === 'aarch64' ? 'arm64' : arch === 'x64' || arch === 'amd64' ? 'amd64' : '';
  let suffix: string;
  if (platform === 'linux' && cpu) suffix = `linux-${cpu}`;
  else if (platform === 'darwin' && cpu) suffix = cpu === 'arm64' ? 'osx-arm64' : 'osx';
  else {
    throw new MeshdrillError('environment', `Istio publishes no release for ${platform}/${arch}`, {
      hint: 'run meshdrill on linux or macOS (amd64 or arm64), or install Istio yourself and use --target existing',
    });
  }
  return `https://github.com/istio/istio/releases/download/${version}/istio-${version}-${suffix}.tar.gz`;
}

export interface IstioRelease {
  version: string;
  /** The extracted release (bin/istioctl, manifests/charts, samples/addons). */
  dir: string;
  istioctl: string;
  /** Whether it came from the cache rather than a download. */
  cached: boolean;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where a version's istioctl lives in the cache, and whether it is there. */
export async function findCachedIstioctl(cacheDir: string, version: string): Promise<string | undefined> {
  const path = join(cacheDir, 'istio', version, `istio-${version}`, 'bin', 'istioctl');
  return (await isExecutable(path)) ? path : undefined;
}

/** Returns the cached release for `version`, downloading and extracting it first when absent. */
export async function fetchIstioRelease(
  runner: ToolRunner,
  version: string,
  cacheDir: string,
): Promise<IstioRelease> {
  checkIstioVersion(version);
  const versionDir = join(cacheDir, 'istio', version);
  const dir = join(versionDir, `istio-${version}`);
  const istioctl = join(dir, 'bin', 'istioctl');
  if (await isExecutable(istioctl)) return { version, dir, istioctl, cached: true };

  const url = istioArchiveUrl(version, runner.host.platform, runner.host.arch);
  // Extract beside the final place and rename, so an interrupted download never looks like a cached release.
  const partial = join(versionDir, `.partial-${process.pid}-${Date.now()}`);
  await mkdir(partial, { recursive: true });
  try {
    runner.progress(`downloading Istio ${version} from ${url}`);
    const archive = join(partial, 'istio.tar.gz');
    await runner.runChecked('curl', ['-fsSL', '--retry', '3', '-o', archive, url], {
      timeoutMs: 10 * 60_000,
      hint: `check the network and that Istio ${version} exists at https://github.com/istio/istio/releases/tag/${version}`,
    });
    await runner.runChecked('tar', ['-xzf', archive, '-C', partial], { timeoutMs: 5 * 60_000 });
    const extracted = join(partial, `istio-${version}`);
    if (!(await isExecutable(join(extracted, 'bin', 'istioctl')))) {
      throw new MeshdrillError(
        'environment',
        `the Istio ${version} archive from ${url} has no istio-${version}/bin/istioctl`,
        {
          hint: `remove ${versionDir} and try again; if it persists, the release layout changed`,
        },
      );
    }
    await rm(dir, { recursive: true, force: true });
    await rename(extracted, dir);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return { version, dir, istioctl, cached: false };
}

/**
 * Fetches (or finds cached) the istioctl of each version and links it as `<binDir>/istioctl-<version>`, so a
 * script can pick the release it means — a canary upgrade installs revision B with B's own istioctl, as Istio's
 * upgrade guide does — while `istioctl` stays the target's. Resolves with `binDir`.
 */
export async function provideIstioctlVersions(
  runner: ToolRunner,
  versions: readonly string[],
  cacheDir: string,
  binDir: string,
): Promise<string> {
  await mkdir(binDir, { recursive: true });
  for (const version of versions) {
    const release = await fetchIstioRelease(runner, version, cacheDir);
    const link = join(binDir, `istioctl-${version}`);
    await rm(link, { force: true });
    await symlink(release.istioctl, link);
  }
  return binDir;
}
