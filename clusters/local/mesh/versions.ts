// The Istio versions the local target serves (`--istio` on local), the one table every version string of the
// emulation comes from. What differs between them is listed per version, and only what the emulation
// reproduces; docs/local-target-fidelity.md "Istio versions" lists the release notes this was checked against.

export interface ServedIstioVersion {
  /** A real Istio release (https://github.com/istio/istio/releases/tag/<version>). */
  version: string;
  /** Its release announcement, where the version was checked to exist. */
  source: string;
  /**
   * Behaviours the emulation reproduces for this version and not for the others. Empty: it differs from the
   * other served versions only in the version it reports and its image tags.
   */
  differences: readonly string[];
}

export const SERVED_ISTIO_VERSIONS: readonly ServedIstioVersion[] = [
  {
    // The last 1.29 patch (1.29 reached end of life on 2026-10-15).
    version: '1.29.9',
    source: 'https://istio.io/latest/news/releases/1.29.x/announcing-1.29.9/',
    differences: [],
  },
  {
    // The release the emulation was written from (../shared/ISTIO-FACTS.md) and whose CRDs it ships.
    version: '1.30.3',
    source: 'https://istio.io/latest/news/releases/1.30.x/announcing-1.30.3/',
    differences: [],
  },
];

/** Without `--istio`: the release the emulation (and its CRDs) was written from. */
export const DEFAULT_ISTIO_VERSION = '1.30.3';

export function isServedIstioVersion(version: string): boolean {
  return SERVED_ISTIO_VERSIONS.some((v) => v.version === version);
}

export function servedIstioVersionList(): string {
  return SERVED_ISTIO_VERSIONS.map((v) => v.version).join(', ');
}
