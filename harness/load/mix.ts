// Picks requests from the profile's weighted mix. Deterministic smooth weighted round-robin (as nginx balances
// upstreams): every window of sum(weights) picks contains each request exactly `weight` times, spread out, so a
// short run has the configured proportions without randomness to assert around.

import type { RequestSpec } from '../model/index.js';

export function createRequestPicker(requests: readonly RequestSpec[]): () => RequestSpec {
  const usable = requests.filter((r) => r.weight > 0);
  if (usable.length === 0) {
    throw new Error(
      `load profile has no request with a positive weight (got ${requests.length} request(s)); add at least one, e.g. { method: GET, path: /, weight: 1 }`,
    );
  }
  if (usable.length === 1) {
    const only = usable[0] as RequestSpec;
    return () => only;
  }
  const total = usable.reduce((sum, r) => sum + r.weight, 0);
  const current = usable.map(() => 0);
  return () => {
    let best = 0;
    for (let i = 0; i < usable.length; i++) {
      current[i] = (current[i] as number) + (usable[i] as RequestSpec).weight;
      if ((current[i] as number) > (current[best] as number)) best = i;
    }
    current[best] = (current[best] as number) - total;
    return usable[best] as RequestSpec;
  };
}
