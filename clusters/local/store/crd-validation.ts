// Custom resources checked against their CRD's structural schema (clusters/shared/crd), as a real API server checks
// them before storing: a value the schema refuses is a 422 Invalid with one cause per field; a field it does not
// declare is refused only when the request asks for strict field validation (kubectl does: `fieldValidation=
// Strict`, a 400 "strict decoding error"), and kept otherwise (a real server would prune it; not emulated).
// `.status` is not judged: the emulation's controllers write it, as the real ones do, through the status
// subresource.

import { type CrdCatalog, schemaViolations } from '../../shared/crd/index.js';
import type { Cause } from './validation.js';
import { StoreError } from './types.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

const REASONS: [RegExp, string][] = [
  [/^Required value/, 'FieldValueRequired'],
  [/^Too many/, 'FieldValueTooMany'],
  [/^Too long/, 'FieldValueTooLong'],
  [/^Unsupported value/, 'FieldValueNotSupported'],
  [/^Duplicate value/, 'FieldValueDuplicate'],
];

const UNDECLARED = 'field not declared in schema';

/**
 * The causes of refusal of a custom resource by its CRD's schema ([] for objects no loaded CRD defines); throws
 * the strict-decoding BadRequest for undeclared fields when `fieldValidation` is Strict.
 */
export function customResourceCauses(
  catalog: CrdCatalog,
  object: Record<string, unknown>,
  fieldValidation: FieldValidation | undefined,
): Cause[] {
  const apiVersion = String(object.apiVersion ?? '');
  const kind = String(object.kind ?? '');
  const version = catalog.find(apiVersion, kind);
  if (!version) return [];
  const violations = schemaViolations(version, object, { skipStatus: true });
  const undeclared = violations.filter((v) => v.message === UNDECLARED);
  if (fieldValidation === 'Strict' && undeclared.length > 0) {
    const fields = undeclared.map((v) => `unknown field "${v.path}"`).join(', ');
    throw new StoreError(
      400,
      'BadRequest',
      `${kind} in version "${version.version}" cannot be handled as a ${kind}: strict decoding error: ${fields}`,
    );
  }
  return violations
    .filter((v) => v.message !== UNDECLARED)
    .map((v) => ({
      field: v.path,
      message: v.message,
      reason: REASONS.find(([re]) => re.test(v.message))?.[1] ?? 'FieldValueInvalid',
    }));
}
