// Installs the local target's istioctl: bundles the program once per work dir with the target's esbuild
// bundler and writes a `bin/istioctl` shell wrapper, whose directory the target puts first on PATH for
// runbook steps (TargetEnvironment.binDirs).

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { programEntry } from '../programs/default-images.js';
import type { ProgramBundler } from '../programs/index.js';
import { SERVED_ISTIO_VERSIONS } from '../mesh/versions.js';
import { ISTIOCTL_VERSION_ENV } from './version-env.js';

export interface IstioctlInstall {
  /** Directory holding the `istioctl` wrapper. */
  binDir: string;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * Bundles istioctl and writes `<workDir>/istioctl/bin/istioctl`. The wrapper runs the bundle with this Node
 * binary, so it works from any shell whatever PATH says about node.
 */
export async function installIstioctl(cluster: {
  bundler: ProgramBundler;
  workDir: string;
  /** The client version it reports (`--istio`), as the istioctl downloaded for that release would. */
  version?: string;
}): Promise<IstioctlInstall> {
  const bundle = await cluster.bundler.ensure(programEntry('../istioctl/main.ts'));
  const binDir = join(cluster.workDir, 'istioctl', 'bin');
  await mkdir(binDir, { recursive: true });
  const wrapper = join(binDir, 'istioctl');
  // The release it stands for, which a real istioctl has built in (istioctl/version-env.ts).
  const version = cluster.version
    ? `${ISTIOCTL_VERSION_ENV}=${shellQuote(cluster.version)}; export ${ISTIOCTL_VERSION_ENV}\n`
    : '';
  await writeFile(
    wrapper,
    `#!/bin/sh\n# istioctl of the meshdrill local target (an emulation of the istioctl subset runbooks use).\n${version}exec ${shellQuote(process.execPath)} ${shellQuote(bundle)} "$@"\n`,
  );
  await chmod(wrapper, 0o755);
  // `istioctl-<version>` for each release the emulation serves, as the kind and existing targets provide the
  // downloaded ones (`istioctl-versions=`): a canary upgrade installs revision B with B's istioctl.
  for (const served of SERVED_ISTIO_VERSIONS) {
    const pinned = join(binDir, `istioctl-${served.version}`);
    await writeFile(
      pinned,
      `#!/bin/sh\n# istioctl ${served.version} of the meshdrill local target.\n${ISTIOCTL_VERSION_ENV}=${shellQuote(served.version)}; export ${ISTIOCTL_VERSION_ENV}\nexec ${shellQuote(process.execPath)} ${shellQuote(bundle)} "$@"\n`,
    );
    await chmod(pinned, 0o755);
  }
  return { binDir };
}
