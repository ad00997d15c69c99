// Test support: taking istiod down on a booted target, the first step of the control-plane outage tests.

import type { Kubectl } from './kubectl.js';
import { expectOk, until } from './wait.js';

/** Scales istiod to 0 and waits until its Service has no ready endpoints (what the webhooks then see). */
export async function scaleIstiodDown(kubectl: Kubectl, timeoutMs = 30_000): Promise<void> {
  expectOk(await kubectl(['-n', 'istio-system', 'scale', 'deployment/istiod', '--replicas=0']));
  await until(
    'istiod gone from its endpoints',
    async () => {
      const out = await kubectl(['-n', 'istio-system', 'get', 'endpoints', 'istiod', '-o', 'json']);
      return (
        out.exitCode === 0 &&
        !(JSON.parse(out.stdout).subsets ?? []).some(
          (s: { addresses?: unknown[] }) => (s.addresses ?? []).length > 0,
        )
      );
    },
    timeoutMs,
  );
}
