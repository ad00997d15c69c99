// Reads fields of Kubernetes objects by a dotted path with list wildcards, for `kubernetes` conditions:
// `status.readyReplicas`, `status.containerStatuses[*].lastState.terminated.reason`, `spec.containers[0].image`,
// `metadata.labels['app.kubernetes.io/name']`.

type Segment = { key: string } | { index: number } | { all: true };

export function parseFieldPath(path: string): Segment[] | undefined {
  const segments: Segment[] = [];
  const pattern = /\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[\*\]|\['([^']+)'\]|\["([^"]+)"\]/y;
  let at = 0;
  while (at < path.length) {
    pattern.lastIndex = at;
    const m = pattern.exec(path);
    if (!m || m.index !== at) return undefined;
    if (m[1] !== undefined) segments.push({ key: m[1] });
    else if (m[2] !== undefined) segments.push({ index: Number(m[2]) });
    else if (m[3] !== undefined || m[4] !== undefined) segments.push({ key: (m[3] ?? m[4]) as string });
    else segments.push({ all: true });
    at = pattern.lastIndex;
  }
  return segments.length > 0 ? segments : undefined;
}

/** Every value the path reaches (a wildcard fans out); missing fields contribute nothing. */
export function readField(object: unknown, path: string): unknown[] {
  const segments = parseFieldPath(path);
  if (!segments)
    throw new Error(`not a field path: "${path}" (expected e.g. status.containerStatuses[*].ready)`);
  let current: unknown[] = [object];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || value === undefined) continue;
      if ('key' in segment) {
        if (typeof value === 'object' && !Array.isArray(value)) {
          const child = (value as Record<string, unknown>)[segment.key];
          if (child !== undefined) next.push(child);
        }
      } else if ('index' in segment) {
        if (Array.isArray(value) && segment.index < value.length) next.push(value[segment.index]);
      } else if (Array.isArray(value)) {
        next.push(...value);
      }
    }
    current = next;
  }
  return current;
}
