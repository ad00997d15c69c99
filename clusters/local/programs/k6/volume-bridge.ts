// A stand-in for ConfigMap volumes, which the local kubelet does not mount (it runs containers as host processes
// with no filesystem of their own). The TestRun controller keeps the operator's real `volumes`/`volumeMounts`
// on its pods and adds, per ConfigMap mount, an `envFrom` of the same ConfigMap with a prefix, plus one variable
// mapping mount paths to prefixes; a program then reads `<mountPath>/<key>` from `<prefix><key>`. It keeps what
// matters of the real mechanism: a missing ConfigMap holds the container in CreateContainerConfigError (a real
// kubelet holds it in ContainerCreating on FailedMount), and a missing key is a missing file. Remove it once the
// kubelet mounts ConfigMap volumes itself. Shared by the controller (writer) and the k6 program (reader).

/** JSON list of {mountPath, prefix}. */
export const CONFIGMAP_MOUNTS_ENV = 'MESHDRILL_CONFIGMAP_MOUNTS';

export interface BridgedMount {
  mountPath: string;
  prefix: string;
}

/** The environment prefix for the n-th bridged mount of a container. */
export function bridgePrefix(n: number): string {
  return `MESHDRILL_CM${n}_`;
}

export type BridgedRead = { found: true; text: string } | { found: false } | undefined;

/**
 * Reads a file under a bridged mount from the environment: undefined when the path is under no bridged mount,
 * `{found: false}` when it is under one but the key does not exist (no such file).
 */
export function readBridgedFile(path: string, env: NodeJS.ProcessEnv): BridgedRead {
  const raw = env[CONFIGMAP_MOUNTS_ENV];
  if (!raw) return undefined;
  let mounts: BridgedMount[];
  try {
    const parsed: unknown = JSON.parse(raw);
    mounts = Array.isArray(parsed) ? (parsed as BridgedMount[]) : [];
  } catch {
    return undefined;
  }
  for (const mount of mounts) {
    const dir = mount.mountPath.endsWith('/') ? mount.mountPath : `${mount.mountPath}/`;
    if (!path.startsWith(dir)) continue;
    const key = path.slice(dir.length);
    const text = env[`${mount.prefix}${key}`];
    return text === undefined || key.includes('/') ? { found: false } : { found: true, text };
  }
  return undefined;
}
