// Object validation as a real API server does it: names (RFC 1123) and required fields, every problem at once,
// reported as a 422 Invalid with one cause per field.

import type { ResourceDefinition } from './resources.js';
import { StoreError } from './types.js';

export interface Cause {
  field: string;
  message: string;
  reason: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kinds whose names must be a DNS-1123 label (they become DNS names or hostnames). */
const LABEL_NAMED = new Set(['/namespaces', '/services', '/pods']);

export function checkName(name: string, asLabel: boolean): string | undefined {
  if (asLabel) {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) {
      return `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
    }
    return undefined;
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
  }
  return undefined;
}

function required(field: string): Cause {
  return { field, message: 'Required value', reason: 'FieldValueRequired' };
}

function invalid(field: string, value: unknown, detail: string): Cause {
  return {
    field,
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
    reason: 'FieldValueInvalid',
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function checkContainers(list: unknown, path: string, causes: Cause[], requireNonEmpty: boolean): void {
  if (!Array.isArray(list) || list.length === 0) {
    if (requireNonEmpty) causes.push(required(path));
    return;
  }
  list.forEach((item, i) => {
    const c = asRecord(item);
    const name = c?.name;
    if (typeof name !== 'string' || name === '') causes.push(required(`${path}[${i}].name`));
    else {
      const problem = checkName(name, true);
      if (problem) causes.push(invalid(`${path}[${i}].name`, name, problem));
    }
    if (typeof c?.image !== 'string' || c.image === '') causes.push(required(`${path}[${i}].image`));
  });
}

function checkPodSpec(spec: unknown, path: string, causes: Cause[]): void {
  const s = asRecord(spec);
  if (!s) {
    causes.push(required(`${path}.containers`));
    return;
  }
  checkContainers(s.containers, `${path}.containers`, causes, true);
  checkContainers(s.initContainers, `${path}.initContainers`, causes, false);
}

function checkWorkload(spec: unknown, causes: Cause[], selectorRequired: boolean): void {
  const s = asRecord(spec);
  if (!s) {
    causes.push(required('spec'));
    return;
  }
  if (selectorRequired && !asRecord(s.selector)) causes.push(required('spec.selector'));
  const template = asRecord(s.template);
  if (!template) {
    causes.push(required('spec.template'));
    return;
  }
  checkPodSpec(template.spec, 'spec.template.spec', causes);
  const selector = asRecord(asRecord(s.selector)?.matchLabels);
  const labels = asRecord(asRecord(template.metadata)?.labels) ?? {};
  if (selector) {
    const mismatch = Object.entries(selector).some(([k, v]) => labels[k] !== v);
    if (mismatch) {
      causes.push(
        invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'),
      );
    }
  }
}

function checkService(spec: unknown, causes: Cause[]): void {
  const s = asRecord(spec);
  const ports = s?.ports;
  const headless = s?.clusterIP === 'None' || s?.type === 'ExternalName';
  if (!Array.isArray(ports) || ports.length === 0) {
    if (!headless) causes.push(required('spec.ports'));
    return;
  }
  ports.forEach((p, i) => {
    const port = asRecord(p)?.port;
    if (typeof port !== 'number') causes.push(required(`spec.ports[${i}].port`));
    else if (port < 1 || port > 65535)
      causes.push(invalid(`spec.ports[${i}].port`, port, 'must be between 1 and 65535'));
  });
}

/** Kind-specific required fields (only those a user is likely to get wrong, not the whole OpenAPI schema). */
function checkKind(def: ResourceDefinition, object: Record<string, unknown>, causes: Cause[]): void {
  const id = `${def.group}/${def.plural}`;
  switch (id) {
    case '/pods':
      checkPodSpec(object.spec, 'spec', causes);
      break;
    case 'apps/deployments':
    case 'apps/replicasets':
      checkWorkload(object.spec, causes, true);
      break;
    case 'batch/jobs':
      checkWorkload(object.spec, causes, false);
      break;
    case '/services':
      checkService(object.spec, causes);
      break;
    default:
      break;
  }
}

/** Throws a 422 Invalid listing every problem, or returns when the object is acceptable. */
/** Checks names, labels and the kind's own rules, plus `extra` causes (a custom resource's schema): 422 if any. */
export function validateObject(
  def: ResourceDefinition,
  object: Record<string, unknown>,
  extra: readonly Cause[] = [],
): void {
  const causes: Cause[] = [];
  const meta = asRecord(object.metadata) ?? {};
  const name = meta.name;
  if (typeof name !== 'string' || name === '') {
    causes.push({
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
      reason: 'FieldValueRequired',
    });
  } else {
    const problem = checkName(name, LABEL_NAMED.has(`${def.group}/${def.plural}`));
    if (problem) causes.push(invalid('metadata.name', name, problem));
  }
  const labels = asRecord(meta.labels);
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (typeof value !== 'string')
      causes.push(invalid(`metadata.labels.${key}`, value, 'label values must be strings'));
    else if (value.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value)) {
      causes.push(
        invalid(
          `metadata.labels`,
          value,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    }
  }
  checkKind(def, object, causes);
  causes.push(...extra);
  if (causes.length === 0) return;
  const shown = typeof name === 'string' && name !== '' ? name : '';
  const detail = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  // A custom resource is named with its group, as upstream: `ServiceEntry.networking.istio.io "x" is invalid`.
  const qualified = extra.length > 0 && def.group !== '' ? `${def.kind}.${def.group}` : def.kind;
  const message = `${qualified} "${shown}" is invalid: ${causes.length > 1 ? `[${detail}]` : detail}`;
  throw new StoreError(422, 'Invalid', message, causes, { kind: def.kind, name: shown });
}
