// Parses container image references the way container runtimes normalise them (docker.io, library/, tag).

export interface ImageReference {
  /** As written in the pod spec. */
  raw: string;
  registry: string;
  /** Repository path without registry, e.g. `fortio/fortio`, `library/busybox`. */
  repository: string;
  /** Repository as users write it for Docker Hub images (`busybox`, `fortio/fortio`). */
  shortName: string;
  tag: string;
  digest?: string;
  /** Fully qualified, e.g. `docker.io/fortio/fortio:latest`. */
  normalized: string;
}

export function parseImageReference(raw: string): ImageReference {
  let rest = raw.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = 'latest';
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
  }
  const parts = rest.split('/');
  const first = parts[0] ?? '';
  const hasRegistry =
    parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first : 'docker.io';
  if (registry === 'index.docker.io') registry = 'docker.io';
  let repository = (hasRegistry ? parts.slice(1) : parts).join('/');
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  const shortName =
    registry === 'docker.io' ? repository.replace(/^library\//, '') : `${registry}/${repository}`;
  const normalized = `${registry}/${repository}${digest ? `@${digest}` : `:${tag}`}`;
  return { raw, registry, repository, shortName, tag, ...(digest ? { digest } : {}), normalized };
}
