// Parses an API path into what it addresses: a discovery document or a resource (collection, object,
// subresource), as `/api/v1/namespaces/ns/pods/p/log` or `/apis/apps/v1/deployments`.

export type ParsedPath =
  | {
      type:
        | 'root'
        | 'version'
        | 'healthz'
        | 'readyz'
        | 'livez'
        | 'openapi-v2'
        | 'openapi-v3'
        | 'core-versions'
        | 'groups';
    }
  | { type: 'group'; group: string }
  | { type: 'resource-list'; group: string; version: string }
  | {
      type: 'resource';
      group: string;
      version: string;
      namespace?: string;
      resource: string;
      name?: string;
      subresource?: string;
    }
  | { type: 'unknown' };

function parseResourcePath(group: string, version: string, rest: string[]): ParsedPath {
  if (rest.length === 0) return { type: 'resource-list', group, version };
  let namespace: string | undefined;
  let parts = rest;
  // `/namespaces/ns/<resource>` is namespaced; `/namespaces` and `/namespaces/ns` (and its subresources) are the
  // cluster-scoped Namespace resource itself.
  if (
    parts[0] === 'namespaces' &&
    parts.length >= 3 &&
    !(parts.length === 3 && isNamespaceSubresource(parts[2]))
  ) {
    namespace = parts[1];
    parts = parts.slice(2);
  }
  const [resource, name, subresource, ...extra] = parts;
  if (resource === undefined || extra.length > 0) return { type: 'unknown' };
  return {
    type: 'resource',
    group,
    version,
    resource,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}

function isNamespaceSubresource(segment: string | undefined): boolean {
  return segment === 'status' || segment === 'finalize';
}

export function parsePath(pathname: string): ParsedPath {
  const trimmed = pathname.replace(/\/+$/, '');
  const parts = trimmed
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p));
  const [first, second, third, ...rest] = parts;
  if (first === undefined) return { type: 'root' };
  if (parts.length === 1) {
    switch (first) {
      case 'version':
        return { type: 'version' };
      case 'healthz':
        return { type: 'healthz' };
      case 'readyz':
        return { type: 'readyz' };
      case 'livez':
        return { type: 'livez' };
      case 'api':
        return { type: 'core-versions' };
      case 'apis':
        return { type: 'groups' };
      default:
        return { type: 'unknown' };
    }
  }
  if (first === 'openapi') return second === 'v2' ? { type: 'openapi-v2' } : { type: 'openapi-v3' };
  if (first === 'api' && second !== undefined) {
    return parseResourcePath(
      '',
      second,
      [third, ...rest].filter((p): p is string => p !== undefined),
    );
  }
  if (first === 'apis' && second !== undefined) {
    if (third === undefined) return { type: 'group', group: second };
    return parseResourcePath(second, third, rest);
  }
  return { type: 'unknown' };
}
