// Validation of an object against a CRD's structural schema (openAPIV3Schema), as the Kubernetes API server does
// before it stores a custom resource, with its messages (field path, then "Required value", "Too many: …",
// "Unsupported value: …", "field not declared in schema"…), so a user reads what kubectl prints for a real cluster.
//
// Covered: type (with nullable, x-kubernetes-int-or-string), enum, required, properties and unknown fields (the
// API server's strict field validation: a field the schema does not declare is refused unless
// x-kubernetes-preserve-unknown-fields), additionalProperties, items, min/maxItems, min/maxLength,
// min/maxProperties, pattern, minimum/maximum (exclusive too), x-kubernetes-list-type set/map uniqueness, and the
// value-validation combinators allOf/anyOf/oneOf/not (Istio writes "exactly one of" with them). Not evaluated: CEL
// rules (x-kubernetes-validations), `format`, and defaults (nothing here writes the object).

export interface SchemaNode {
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  maxItems?: number;
  minItems?: number;
  maxLength?: number;
  minLength?: number;
  maxProperties?: number;
  minProperties?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  not?: SchemaNode;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

/** One refusal, in the API server's words: `spec.hosts: Too many: 1500: must have at most 256 items`. */
export interface SchemaViolation {
  path: string;
  message: string;
}

export function formatViolation(v: SchemaViolation): string {
  return `${v.path}: ${v.message}`;
}

/** Every violation of `value` against `schema`, rooted at `path` (e.g. "spec"). */
export function validateStructural(value: unknown, schema: SchemaNode, path = ''): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  check(value, schema, path, out);
  return out;
}

const patterns = new Map<string, RegExp | undefined>();

function compiled(pattern: string): RegExp | undefined {
  if (!patterns.has(pattern)) {
    try {
      patterns.set(pattern, new RegExp(pattern, 'u'));
    } catch {
      // An RE2 construct JavaScript does not know: not checked rather than wrongly refused.
      patterns.set(pattern, undefined);
    }
  }
  return patterns.get(pattern);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function typeMatches(value: unknown, schema: SchemaNode): boolean {
  const actual = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) return actual === 'integer' || actual === 'string';
  if (!schema.type) return true;
  if (schema.type === 'number') return actual === 'number' || actual === 'integer';
  return actual === schema.type;
}

function check(value: unknown, schema: SchemaNode, path: string, out: SchemaViolation[]): void {
  if (value === null && schema.nullable) return;
  if (!typeMatches(value, schema)) {
    const expected = schema['x-kubernetes-int-or-string'] ? 'integer or string' : schema.type;
    out.push({
      path,
      message: `Invalid value: "${typeOf(value)}": ${path || 'body'} in body must be of type ${expected}: ${quote(value)}`,
    });
    return;
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    out.push({
      path,
      message: `Unsupported value: ${quote(value)}: supported values: ${schema.enum.map(quote).join(', ')}`,
    });
  }
  if (typeof value === 'string') checkString(value, schema, path, out);
  if (typeof value === 'number') checkNumber(value, schema, path, out);
  if (Array.isArray(value)) checkArray(value, schema, path, out);
  else if (typeOf(value) === 'object') checkObject(value as Record<string, unknown>, schema, path, out);
  checkCombinators(value, schema, path, out);
}

function checkString(value: string, schema: SchemaNode, path: string, out: SchemaViolation[]): void {
  const length = [...value].length;
  if (schema.maxLength !== undefined && length > schema.maxLength)
    out.push({ path, message: `Too long: may not be more than ${schema.maxLength} bytes` });
  if (schema.minLength !== undefined && length < schema.minLength)
    out.push({
      path,
      message: `Invalid value: ${quote(value)}: ${path} in body should be at least ${schema.minLength} chars long`,
    });
  const re = schema.pattern === undefined ? undefined : compiled(schema.pattern);
  if (re && !re.test(value))
    out.push({
      path,
      message: `Invalid value: ${quote(value)}: ${path} in body should match '${schema.pattern}'`,
    });
}

function checkNumber(value: number, schema: SchemaNode, path: string, out: SchemaViolation[]): void {
  const { minimum, maximum } = schema;
  if (minimum !== undefined && (schema.exclusiveMinimum ? value <= minimum : value < minimum))
    out.push({
      path,
      message: `Invalid value: ${value}: ${path} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${minimum}`,
    });
  if (maximum !== undefined && (schema.exclusiveMaximum ? value >= maximum : value > maximum))
    out.push({
      path,
      message: `Invalid value: ${value}: ${path} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${maximum}`,
    });
}

function checkArray(value: unknown[], schema: SchemaNode, path: string, out: SchemaViolation[]): void {
  if (schema.maxItems !== undefined && value.length > schema.maxItems)
    out.push({ path, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
  if (schema.minItems !== undefined && value.length < schema.minItems)
    out.push({
      path,
      message: `Invalid value: ${value.length}: ${path} in body should have at least ${schema.minItems} items`,
    });
  const items = schema.items;
  if (items) {
    for (const [i, item] of value.entries()) check(item, items, `${path}[${i}]`, out);
  }
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set' || listType === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    const identity = (item: unknown): string =>
      listType === 'set'
        ? JSON.stringify(item)
        : JSON.stringify(keys.map((k) => (item as Record<string, unknown> | null)?.[k]));
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const id = identity(item);
      if (seen.has(id))
        out.push({
          path: `${path}[${i}]`,
          message: `Duplicate value: ${listType === 'set' ? quote(item) : id}`,
        });
      seen.add(id);
    });
  }
}

function checkObject(
  value: Record<string, unknown>,
  schema: SchemaNode,
  path: string,
  out: SchemaViolation[],
): void {
  const keys = Object.keys(value);
  for (const key of schema.required ?? []) {
    if (!(key in value)) out.push({ path: child(path, key), message: 'Required value' });
  }
  if (schema.maxProperties !== undefined && keys.length > schema.maxProperties)
    out.push({ path, message: `Too many: ${keys.length}: must have at most ${schema.maxProperties} items` });
  if (schema.minProperties !== undefined && keys.length < schema.minProperties)
    out.push({
      path,
      message: `Invalid value: ${keys.length}: ${path} in body should have at least ${schema.minProperties} properties`,
    });
  const additional = schema.additionalProperties;
  for (const key of keys) {
    const declared = schema.properties?.[key];
    if (declared) check(value[key], declared, child(path, key), out);
    else if (typeof additional === 'object') check(value[key], additional, child(path, key), out);
    else if (schema.properties && additional !== true && !schema['x-kubernetes-preserve-unknown-fields'])
      out.push({ path: child(path, key), message: 'field not declared in schema' });
  }
}

function checkCombinators(value: unknown, schema: SchemaNode, path: string, out: SchemaViolation[]): void {
  // A branch only constrains (Istio's `oneOf: [{required: [a]}, {required: [b]}]`): it declares no properties, so
  // it never refuses the fields the enclosing node declares.
  const holds = (s: SchemaNode): boolean => validateStructural(value, s, path).length === 0;
  for (const s of schema.allOf ?? []) check(value, s, path, out);
  if (schema.anyOf && !schema.anyOf.some(holds))
    out.push({
      path,
      message: `Invalid value: ${summary(value)}: ${path || 'body'} in body must match at least one schema (anyOf)`,
    });
  if (schema.oneOf) {
    const matching = schema.oneOf.filter(holds).length;
    if (matching !== 1)
      out.push({
        path,
        message: `Invalid value: ${summary(value)}: ${path || 'body'} in body must match exactly one schema (oneOf), matched ${matching}`,
      });
  }
  if (schema.not && holds(schema.not))
    out.push({
      path,
      message: `Invalid value: ${summary(value)}: ${path || 'body'} in body must not match the schema (not)`,
    });
}

function summary(value: unknown): string {
  if (typeOf(value) === 'object') return `{${Object.keys(value as object).join(', ')}}`;
  return quote(value);
}
