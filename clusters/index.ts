// The target registry (STYLE.md §3): one factory per target name; a missing one is a compile error. Only the
// CLI imports this file — the engine sees the Target interface alone.

import { createExistingTarget } from './existing/index.js';
import { createKindTarget } from './kind/index.js';
import { createLocalTarget } from './local/index.js';
import type { Target, TargetName } from './target.js';

export interface TargetFactoryOptions {
  workDir: string;
  settings: Record<string, string>;
}

const factories: { [K in TargetName]: (options: TargetFactoryOptions) => Target } = {
  local: (o) => createLocalTarget({ settings: o.settings }),
  // kind and existing read their settings at provision (ProvisionOptions.settings).
  kind: () => createKindTarget(),
  existing: () => createExistingTarget(),
};

export const TARGET_NAMES = Object.keys(factories) as TargetName[];

export function createTarget(name: string, options: TargetFactoryOptions): Target {
  const factory = factories[name as TargetName];
  if (!factory) throw new Error(`unknown target "${name}"; valid targets: ${TARGET_NAMES.join(', ')}`);
  return factory(options);
}
