// The local target's settings (`--target-opt key=value`), read strictly like the other targets': a typo or a bad
// value is refused with every valid key listed, instead of being ignored.

import { invalidInput } from '../../harness/model/index.js';
import { type SettingDoc, SettingsReader } from '../shared/index.js';
import { MAX_K6_RUNNERS } from '../shared/index.js';
import { DEFAULT_ISTIO_VERSION, isServedIstioVersion, servedIstioVersionList } from './mesh/versions.js';

export const LOCAL_SETTING_DOCS: readonly SettingDoc[] = [
  { key: 'api-port', description: "the API server's port on 127.0.0.1 (0: a free port)", default: '0' },
  { key: 'kubeconfig', description: 'where to write the kubeconfig', default: '<run dir>/local/kubeconfig' },
  { key: 'mesh', description: '`false`: a bare cluster, without the Istio emulation', default: 'true' },
  { key: 'backoff-scale', description: 'multiplies CrashLoopBackOff and image-pull back-off', default: '1' },
  {
    key: 'k6-mode',
    description:
      'where the `k6` load driver runs: `local` (the k6 binary on this machine) or `in-cluster` (a k6-operator TestRun run by the emulated operator)',
    default: 'local',
  },
  { key: 'k6-runners', description: 'runner pods of an in-cluster TestRun (its parallelism)', default: '1' },
  {
    key: 'revision',
    description:
      'boot istiod as this revision only (`istiod-<rev>`, the `default` tag pointing at it), as `istioctl install --set revision=<rev>` does; a DNS label',
  },
];

export interface LocalSettings {
  apiPort: number;
  kubeconfig?: string;
  mesh: boolean;
  backoffScale: number;
  k6: { mode: 'local' | 'in-cluster'; runners: number };
  /** `--istio`: the Istio version the emulation installs and reports (one of mesh/versions.ts). */
  istioVersion: string;
  /** `--target-opt revision=`: the control plane's revision (absent: the default install). */
  revision?: string;
}

/**
 * Refuses `--istio` versions the local target does not serve, naming them all: the emulation would otherwise
 * run its default under another version's name. The CLI calls it for every `--istio` before the first run
 * starts; provisioning calls it through readLocalSettings.
 */
export function checkLocalIstioVersions(versions: readonly string[]): void {
  const unknown = versions.filter((v) => !isServedIstioVersion(v));
  if (unknown.length === 0) return;
  throw invalidInput(
    `--istio ${unknown.join(', ')}: the local target serves Istio ${servedIstioVersionList()} only`,
    `name one of those with --istio (or leave --istio out for ${DEFAULT_ISTIO_VERSION}), or run other versions with --target kind`,
  );
}

export function readLocalSettings(
  settings: Record<string, string>,
  backoffScale = 1,
  istioVersion: string = DEFAULT_ISTIO_VERSION,
): LocalSettings {
  checkLocalIstioVersions([istioVersion]);
  const reader = new SettingsReader('local', settings, LOCAL_SETTING_DOCS);
  const kubeconfig = reader.string('kubeconfig');
  const scale = reader.string('backoff-scale');
  const revision = reader.name('revision');
  const parsedScale = scale === undefined ? backoffScale : Number(scale);
  if (!(parsedScale > 0))
    reader.problem(`--target-opt backoff-scale: expected a positive number, got "${scale}"`);
  const result: LocalSettings = {
    apiPort: reader.int('api-port', 0, 0, 65535),
    ...(kubeconfig ? { kubeconfig } : {}),
    mesh: reader.bool('mesh', true),
    backoffScale: parsedScale > 0 ? parsedScale : backoffScale,
    k6: {
      mode: reader.oneOf('k6-mode', ['local', 'in-cluster'] as const, 'local'),
      runners: reader.int('k6-runners', 1, 1, MAX_K6_RUNNERS),
    },
    istioVersion,
    ...(revision && revision !== 'default' ? { revision } : {}),
  };
  reader.finish();
  return result;
}
