// Plug-in CA material for the mesh: the one generator lives in the base layer (harness/util/pki.ts, shared with
// scenarios' generated `cacerts` manifests); this module keeps the mesh's names for it and the Secret builder.

import { type CacertsFiles, buildCacertsSecret } from '../../../../harness/util/pki.js';

export {
  type GenerateCacertsOptions,
  type RootMaterial,
  generateCacerts,
  generateRoot,
} from '../../../../harness/util/pki.js';

/** The Secret object for `istio-system/cacerts` holding the files (base64 data, as kubectl would store it). */
export function cacertsSecret(files: CacertsFiles, namespace = 'istio-system') {
  return buildCacertsSecret(files, namespace);
}
