// The four patch types by content type. Server-side apply is approximated as a merge of the applied
// configuration onto the live object (strategic for built-ins); it does not track field ownership.

import type { ResourceDefinition } from '../../store/index.js';
import { ApiError } from '../status-errors.js';
import { applyJsonMergePatch } from './json-merge-patch.js';
import { applyJsonPatch } from './json-patch.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';

export { applyJsonMergePatch } from './json-merge-patch.js';
export { applyJsonPatch } from './json-patch.js';
export { applyStrategicMergePatch } from './strategic-merge-patch.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+json': 'apply',
};

export function patchTypeOf(contentType: string | undefined, def: ResourceDefinition): PatchType {
  const base = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const type = TYPES[base];
  if (!type) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${Object.keys(TYPES).join(', ')}; got "${base}"`,
    );
  }
  if (type === 'strategic' && def.custom) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `strategic merge patch is not supported for custom resource ${def.plural}.${def.group}: use a merge patch or a JSON patch`,
    );
  }
  return type;
}

export function applyPatch(
  type: PatchType,
  original: unknown,
  patch: unknown,
  def: ResourceDefinition,
): unknown {
  switch (type) {
    case 'json':
      return applyJsonPatch(original, patch);
    case 'merge':
      return applyJsonMergePatch(original, patch);
    case 'strategic':
      return applyStrategicMergePatch(original, patch);
    case 'apply':
      return def.custom ? applyJsonMergePatch(original, patch) : applyStrategicMergePatch(original, patch);
  }
}
