// AuthorizationPolicy evaluation at the server sidecar (pure): DENY first, then ALLOW; with any ALLOW policy
// present a request must match one of its rules; an ALLOW policy with no rules matches nothing.

import type { AuthorizationConfig, AuthorizationRule } from '../model/proxy-config.js';

export interface AuthzRequest {
  /** Peer principal without the scheme (`cluster.local/ns/NS/sa/SA`), undefined without mTLS. */
  principal: string | undefined;
  namespace: string | undefined;
  path: string;
  method: string;
  port: number;
}

function matchValue(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

const anyOf = (patterns: string[], value: string | undefined) => patterns.some((p) => matchValue(p, value));

function ruleMatches(rule: AuthorizationRule, req: AuthzRequest): boolean {
  const path = req.path.split('?')[0] ?? req.path;
  const fromOk =
    rule.from.length === 0 ||
    rule.from.some(
      (f) =>
        (f.principals.length === 0 || anyOf(f.principals, req.principal)) &&
        (f.namespaces.length === 0 || anyOf(f.namespaces, req.namespace)) &&
        !(f.notPrincipals.length > 0 && anyOf(f.notPrincipals, req.principal)) &&
        !(f.notNamespaces.length > 0 && anyOf(f.notNamespaces, req.namespace)),
    );
  const toOk =
    rule.to.length === 0 ||
    rule.to.some(
      (t) =>
        (t.paths.length === 0 || anyOf(t.paths, path)) &&
        (t.methods.length === 0 || anyOf(t.methods, req.method)) &&
        (t.ports.length === 0 || t.ports.includes(String(req.port))) &&
        !(t.notPaths.length > 0 && anyOf(t.notPaths, path)) &&
        !(t.notMethods.length > 0 && anyOf(t.notMethods, req.method)),
    );
  return fromOk && toOk;
}

export function isAllowed(
  policies: AuthorizationConfig[],
  req: AuthzRequest,
): { allowed: boolean; policy?: string } {
  for (const p of policies) {
    if (p.action === 'DENY' && p.rules.some((r) => ruleMatches(r, req)))
      return { allowed: false, policy: p.name };
  }
  const allows = policies.filter((p) => p.action === 'ALLOW');
  if (allows.length === 0) return { allowed: true };
  const hit = allows.find((p) => p.rules.some((r) => ruleMatches(r, req)));
  return hit ? { allowed: true, policy: hit.name } : { allowed: false };
}
