// What a real-cluster target needs from the machine it runs on, injectable so tests put fake tools on PATH
// and a scratch HOME without touching process.env.

import { homedir } from 'node:os';
import { join } from 'node:path';
import { type KubeClient, createKubeClient } from '../../harness/kube/index.js';

export interface Host {
  /** Environment every subprocess gets (PATH decides which kind, helm, istioctl, kubectl run). */
  env: Record<string, string | undefined>;
  homeDir: string;
  platform: NodeJS.Platform;
  arch: string;
  createKubeClient(kubeconfigPath: string, context?: string): KubeClient;
  /** Interval between readiness polls; tests shorten it. */
  pollMs: number;
}

export function resolveHost(overrides: Partial<Host> = {}): Host {
  const env = overrides.env ?? { ...process.env };
  return {
    env,
    homeDir: overrides.homeDir ?? env.HOME ?? homedir(),
    platform: overrides.platform ?? process.platform,
    arch: overrides.arch ?? process.arch,
    createKubeClient: overrides.createKubeClient ?? createKubeClient,
    pollMs: overrides.pollMs ?? 2000,
  };
}

/** meshdrill's download cache (`$XDG_CACHE_HOME/meshdrill` or `~/.cache/meshdrill`). */
export function cacheDirOf(host: Host): string {
  return join(host.env.XDG_CACHE_HOME || join(host.homeDir, '.cache'), 'meshdrill');
}

/** meshdrill's user configuration directory (`$XDG_CONFIG_HOME/meshdrill` or `~/.config/meshdrill`). */
export function configDirOf(host: Host): string {
  return join(host.env.XDG_CONFIG_HOME || join(host.homeDir, '.config'), 'meshdrill');
}
