// Run ids: sortable by time, DNS-label safe (they end up in label values and namespace names).

import { randomBytes } from 'node:crypto';

export function createRunId(at: Date = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '-')
    .toLowerCase();
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
