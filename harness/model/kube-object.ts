// The minimal shape of a Kubernetes object as the harness handles it (manifests, faults, cleanup).

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Label put on every object a run creates, so `meshdrill cleanup` can find them after a crash. */
export const RUN_ID_LABEL = 'meshdrill.io/run-id';
/** Label on an object a run changed but did not create (scaled, patched, applied over); cleanup restores it. */
export const CHANGED_BY_RUN_LABEL = 'meshdrill.io/changed-by-run';
/** Annotation holding such an object's state before the run changed it (harness/kube/changed-objects.ts). */
export const BEFORE_ANNOTATION = 'meshdrill.io/before';
/** Label naming the scenario that created an object. */
export const SCENARIO_LABEL = 'meshdrill.io/scenario';

export function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.apiVersion === 'string' &&
    typeof v.kind === 'string' &&
    typeof v.metadata === 'object' &&
    v.metadata !== null
  );
}
