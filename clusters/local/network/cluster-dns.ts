// The cluster DNS emulation: a JSON map `{ "<svc>.<ns>.svc.cluster.local": "<ip>" }` written with temp +
// rename whenever services or (for headless services) endpoints change; programs read it (programs/lib).

import { renameSync, writeFileSync } from 'node:fs';
import type { Endpoints, Service } from '../controllers/kube-types.js';

/** Builds the name → IP table (pure). Headless services resolve to their first ready endpoint. */
export function buildDnsTable(services: Service[], endpoints: Endpoints[]): Record<string, string> {
  const table: Record<string, string> = {};
  const byKey = new Map(endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  for (const s of [...services].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const fqdn = `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`;
    const ip = s.spec.clusterIP;
    if (ip && ip !== 'None') {
      table[fqdn] = ip;
      continue;
    }
    const ready =
      byKey.get(`${s.metadata.namespace}/${s.metadata.name}`)?.subsets?.flatMap((x) => x.addresses ?? []) ??
      [];
    if (ready[0]) table[fqdn] = ready[0].ip;
    for (const a of ready) if (a.targetRef) table[`${a.targetRef.name}.${fqdn}`] = a.ip;
  }
  return table;
}

export function writeDnsTable(file: string, table: Record<string, string>): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(table, null, 1)}\n`);
  renameSync(tmp, file);
}
