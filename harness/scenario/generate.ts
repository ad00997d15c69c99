// Generated workload manifests (`{ generate: cacerts, … }`): objects whose content depends on when a variant
// deploys — a plug-in CA whose intermediate must expire during this variant, not the one before. Made at
// deploy time from the resolved spec; the certificates come from the one generator, harness/util/pki.ts.

import type { GeneratedManifest, KubeObject } from '../model/index.js';
import { buildCacertsSecret, buildRootSecret, generateCacerts } from '../util/pki.js';

type Generator = (spec: GeneratedManifest, now: Date) => Promise<KubeObject[]>;

const GENERATORS: { [K in GeneratedManifest['generate']]: Generator } = {
  async cacerts(spec, now) {
    const files = await generateCacerts({
      now,
      rootValidityMs: spec.rootValidityMs,
      intermediateValidityMs: spec.intermediateValidityMs,
    });
    const objects: KubeObject[] = [buildCacertsSecret(files, spec.namespace, spec.name) as KubeObject];
    if (spec.rootSecret)
      objects.push(buildRootSecret(files.root, spec.namespace, spec.rootSecret) as KubeObject);
    return objects;
  },
};

export async function generateManifests(
  specs: readonly GeneratedManifest[],
  now = new Date(),
): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const spec of specs) out.push(...(await GENERATORS[spec.generate](spec, now)));
  return out;
}
