// Istio's validation webhook, for the mistakes it rejects (pure): a sample of galley's checks with its wording.

import { asArray, asNumber, asRecord, asString, asStringArray, type Json } from '../model/read.js';

function regexProblems(where: string, match: Json): string[] {
  const problems: string[] = [];
  const check = (label: string, m: unknown): void => {
    const regex = asString(asRecord(m).regex);
    if (regex === undefined) return;
    try {
      new RegExp(regex);
    } catch {
      problems.push(`${where}: "${regex}" is not a valid regex for ${label}`);
    }
  };
  check('uri', match.uri);
  check('method', match.method);
  for (const [name, m] of Object.entries(asRecord(match.headers))) check(`header ${name}`, m);
  return problems;
}

function virtualService(spec: Json): string[] {
  const problems: string[] = [];
  if (asStringArray(spec.hosts).length === 0) problems.push('virtual service must have at least one host');
  asArray(spec.http).forEach((h, i) => {
    const http = asRecord(h);
    const routes = asArray(http.route).map(asRecord);
    if (routes.length === 0 && http.redirect === undefined && http.directResponse === undefined) {
      problems.push(`http[${i}]: HTTP route, redirect or direct response is required`);
    }
    routes.forEach((r, j) => {
      if (!asString(asRecord(r.destination).host))
        problems.push(`http[${i}].route[${j}]: destination.host is required`);
      const weight = asNumber(r.weight);
      if (weight !== undefined && weight < 0) problems.push(`http[${i}].route[${j}]: weight ${weight} < 0`);
    });
    asArray(http.match).forEach((m, j) => {
      problems.push(...regexProblems(`http[${i}].match[${j}]`, asRecord(m)));
    });
    const attempts = asNumber(asRecord(http.retries).attempts);
    if (attempts !== undefined && attempts < 0)
      problems.push(`http[${i}].retries: attempts cannot be negative`);
  });
  return problems;
}

function destinationRule(spec: Json): string[] {
  const problems: string[] = [];
  if (!asString(spec.host)) problems.push('destination rule must have a host');
  const names = new Set<string>();
  for (const s of asArray(spec.subsets).map(asRecord)) {
    const name = asString(s.name);
    if (!name) problems.push('subset name is required');
    else if (names.has(name)) problems.push(`duplicate subset name ${name}`);
    else names.add(name);
  }
  return problems;
}

const MODES = new Set(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']);

function peerAuthentication(spec: Json): string[] {
  const mode = asString(asRecord(spec.mtls).mode);
  return mode !== undefined && !MODES.has(mode) ? [`unrecognized mutual TLS mode "${mode}"`] : [];
}

function authorizationPolicy(spec: Json): string[] {
  const action = asString(spec.action);
  return action !== undefined && !['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'].includes(action)
    ? [`unknown action "${action}"`]
    : [];
}

export function validateIstioObject(kind: string, spec: Json): string[] {
  switch (kind) {
    case 'VirtualService':
      return virtualService(spec);
    case 'DestinationRule':
      return destinationRule(spec);
    case 'PeerAuthentication':
      return peerAuthentication(spec);
    case 'AuthorizationPolicy':
      return authorizationPolicy(spec);
    case 'Gateway':
      return asArray(spec.servers).length === 0 ? ['gateway must have at least one server'] : [];
    case 'ServiceEntry':
      return asStringArray(spec.hosts).length === 0 ? ['service entry must have at least one host'] : [];
    default:
      return [];
  }
}
