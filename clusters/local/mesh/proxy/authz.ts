// AuthorizationPolicy evaluation at the server sidecar and gateway (pure), as Istio's RBAC filters do: DENY
// policies first (any match → 403), then ALLOW policies (with any ALLOW present, a request must match one of
// their rules). An ALLOW policy without rules matches nothing (deny-all); `rules: [{}]` matches everything
// (allow-all). Within a rule, `from`, `to` and `when` must all hold; each is an OR over its entries, and every
// field inside an entry must hold. Strings match exactly, by prefix (`/api/*`), by suffix (`*.local`), or `*`
// (any non-empty value); AUDIT and CUSTOM policies do not decide access here.

import type {
  AuthorizationCondition,
  AuthorizationConfig,
  AuthorizationRule,
} from '../model/proxy-config.js';

export interface AuthzRequest {
  /** Peer principal without the scheme (`cluster.local/ns/NS/sa/SA`), undefined without mTLS. */
  principal: string | undefined;
  namespace: string | undefined;
  path: string;
  method: string;
  port: number;
  sourceIp?: string;
  /** Host header without the port. */
  host?: string;
  /** Lower-cased request header names. */
  headers?: Record<string, string | undefined>;
}

export function matchValue(pattern: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

const anyOf = (patterns: string[], value: string | undefined) => patterns.some((p) => matchValue(p, value));

function ipv4(text: string): number | undefined {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

/** `10.0.0.0/8` or a bare address against an IPv4 address. */
export function inCidr(block: string, ip: string | undefined): boolean {
  if (!ip) return false;
  const [base = '', bitsText] = block.split('/');
  const a = ipv4(base);
  const b = ipv4(ip.replace(/^::ffff:/, ''));
  if (a === undefined || b === undefined) return false;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const mask = bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

/** The value of a `when` key for this request; undefined when the request has none. */
function conditionValue(key: string, req: AuthzRequest): string | undefined {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header?.[1]) return req.headers?.[header[1].toLowerCase()];
  switch (key) {
    case 'source.ip':
    case 'remote.ip':
      return req.sourceIp;
    case 'source.namespace':
      return req.namespace;
    case 'source.principal':
      return req.principal;
    case 'destination.port':
      return String(req.port);
    default:
      return undefined;
  }
}

function conditionHolds(c: AuthorizationCondition, req: AuthzRequest): boolean {
  const value = conditionValue(c.key, req);
  const ipKey = c.key === 'source.ip' || c.key === 'remote.ip';
  const test = (p: string): boolean => (ipKey ? inCidr(p, value) : matchValue(p, value));
  if (c.values.length > 0 && !c.values.some(test)) return false;
  if (c.notValues.length > 0 && c.notValues.some(test)) return false;
  return true;
}

function ruleMatches(rule: AuthorizationRule, req: AuthzRequest): boolean {
  const path = req.path.split('?')[0] ?? req.path;
  const host = req.host?.toLowerCase();
  const fromOk =
    rule.from.length === 0 ||
    rule.from.some(
      (f) =>
        (f.principals.length === 0 || anyOf(f.principals, req.principal)) &&
        (f.namespaces.length === 0 || anyOf(f.namespaces, req.namespace)) &&
        !(f.notPrincipals.length > 0 && anyOf(f.notPrincipals, req.principal)) &&
        !(f.notNamespaces.length > 0 && anyOf(f.notNamespaces, req.namespace)) &&
        (!f.ipBlocks?.length || f.ipBlocks.some((b) => inCidr(b, req.sourceIp))) &&
        !(f.notIpBlocks?.length && f.notIpBlocks.some((b) => inCidr(b, req.sourceIp))),
    );
  const toOk =
    rule.to.length === 0 ||
    rule.to.some(
      (t) =>
        (t.paths.length === 0 || anyOf(t.paths, path)) &&
        (t.methods.length === 0 || anyOf(t.methods, req.method)) &&
        (t.ports.length === 0 || t.ports.includes(String(req.port))) &&
        (!t.hosts?.length ||
          anyOf(
            t.hosts.map((h) => h.toLowerCase()),
            host,
          )) &&
        !(t.notPaths.length > 0 && anyOf(t.notPaths, path)) &&
        !(t.notMethods.length > 0 && anyOf(t.notMethods, req.method)) &&
        !(t.notPorts?.length && t.notPorts.includes(String(req.port))) &&
        !(
          t.notHosts?.length &&
          anyOf(
            t.notHosts.map((h) => h.toLowerCase()),
            host,
          )
        ),
    );
  const whenOk = (rule.when ?? []).every((c) => conditionHolds(c, req));
  return fromOk && toOk && whenOk;
}

export interface AuthzDecision {
  allowed: boolean;
  policy?: string;
  /** Envoy's response code details: `rbac_access_denied_matched_policy[ns[NS]-policy[NAME]-rule[I]]` or `[none]`. */
  details?: string;
}

function policyDetails(name: string, rule: number): string {
  const [ns = '', policy = name] = name.split('/');
  return `rbac_access_denied_matched_policy[ns[${ns}]-policy[${policy}]-rule[${rule}]]`;
}

/** The decision with Envoy's response code details for the access log. */
export function evaluateAuthorization(policies: AuthorizationConfig[], req: AuthzRequest): AuthzDecision {
  for (const p of policies) {
    if (p.action !== 'DENY') continue;
    const rule = p.rules.findIndex((r) => ruleMatches(r, req));
    if (rule >= 0) return { allowed: false, policy: p.name, details: policyDetails(p.name, rule) };
  }
  const allows = policies.filter((p) => p.action === 'ALLOW');
  if (allows.length === 0) return { allowed: true };
  const hit = allows.find((p) => p.rules.some((r) => ruleMatches(r, req)));
  return hit
    ? { allowed: true, policy: hit.name }
    : { allowed: false, details: 'rbac_access_denied_matched_policy[none]' };
}

/** The decision alone: allowed, and which policy decided. */
export function isAllowed(
  policies: AuthorizationConfig[],
  req: AuthzRequest,
): { allowed: boolean; policy?: string } {
  const { allowed, policy } = evaluateAuthorization(policies, req);
  return policy === undefined ? { allowed } : { allowed, policy };
}
