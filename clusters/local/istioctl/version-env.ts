// The variable through which the local target's istioctl wrapper tells the istioctl program which release it
// stands for (a real istioctl has its version built in). Its own module: install.ts must not load the program.
import { DEFAULT_ISTIO_VERSION } from '../mesh/versions.js';

export const ISTIOCTL_VERSION_ENV = 'MESHDRILL_ISTIOCTL_VERSION';

/** The client version this istioctl reports: the wrapper's, else the emulation's default. */
export function istioctlClientVersion(env: NodeJS.ProcessEnv = process.env): string {
  return env[ISTIOCTL_VERSION_ENV] || DEFAULT_ISTIO_VERSION;
}
