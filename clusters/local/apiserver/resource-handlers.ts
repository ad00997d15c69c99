// CRUD on a resource: get, list (plain or Table), create, replace, patch (four types), delete, delete collection,
// and the status subresource. Errors are thrown and turned into Status objects by the router.

import {
  type DeleteOptions,
  isObject,
  type ListOptions,
  type StoredObject,
  StoreError,
  validateObject,
  type WriteOptions,
} from '../store/index.js';
import { type ApiContext, describeResource, present, type ResourceRequest } from './context.js';
import { sendJson } from './http-io.js';
import { applyPatch, type PatchType, patchTypeOf } from './patch/index.js';
import { parseBody, readBodyText } from './request-body.js';
import { ApiError, badRequest, methodNotAllowed } from './status-errors.js';
import { buildTable, TABLE_CONTENT_TYPE, wantsTable } from './tables/index.js';

const PATCH_RETRIES = 5;

export function listOptionsOf(request: ResourceRequest): ListOptions {
  const { query } = request;
  return {
    ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
    ...(query.get('labelSelector') ? { labelSelector: query.get('labelSelector') ?? '' } : {}),
    ...(query.get('fieldSelector') ? { fieldSelector: query.get('fieldSelector') ?? '' } : {}),
  };
}

function sendObjects(
  request: ResourceRequest,
  items: StoredObject[],
  rv: string,
  single: boolean,
  table = wantsTable(request.req.headers.accept),
): void {
  const { def, key, res, query } = request;
  if (table) {
    const table = buildTable(def, items, {
      includeObject: query.get('includeObject') ?? undefined,
      resourceVersion: rv,
    });
    sendJson(res, 200, table, TABLE_CONTENT_TYPE);
    return;
  }
  if (single && items[0]) {
    sendJson(res, 200, present(request, items[0]));
    return;
  }
  sendJson(res, 200, {
    kind: `${def.kind}List`,
    apiVersion: key.group === '' ? key.version : `${key.group}/${key.version}`,
    metadata: { resourceVersion: rv },
    items: items.map((item) => present(request, item)),
  });
}

export function getExisting(context: ApiContext, request: ResourceRequest, name: string): StoredObject {
  const found = context.store.get(request.key, request.namespace, name);
  if (!found) throw new StoreError(404, 'NotFound', `${describeResource(request.def)} "${name}" not found`);
  return found;
}

export function handleGet(context: ApiContext, request: ResourceRequest): void {
  if (request.name === undefined) {
    const list = context.store.list(request.key, listOptionsOf(request));
    sendObjects(request, list.items, list.resourceVersion, false);
    return;
  }
  const object = getExisting(context, request, request.name);
  sendObjects(request, [object], object.metadata.resourceVersion, true);
}

/** Reads the body as an object of this resource, placing it in the request's namespace. */
async function readObject(request: ResourceRequest, allowYaml = false): Promise<StoredObject> {
  const body = parseBody(await readBodyText(request.req), allowYaml);
  if (!isObject(body)) throw badRequest(`expected a ${request.def.kind} object in the request body`);
  const meta = isObject(body.metadata) ? body.metadata : {};
  body.metadata = meta;
  if (request.def.namespaced) {
    if (typeof meta.namespace === 'string' && meta.namespace !== '' && meta.namespace !== request.namespace) {
      throw badRequest(
        `the namespace of the provided object (${meta.namespace}) does not match the namespace sent on the request (${request.namespace ?? ''})`,
      );
    }
    meta.namespace = request.namespace;
  }
  if (typeof body.kind === 'string' && body.kind !== request.def.kind) {
    throw badRequest(
      `the kind of the body (${body.kind}) does not match the resource ${describeResource(request.def)} (${request.def.kind})`,
    );
  }
  return body as unknown as StoredObject;
}

function isDryRun(request: ResourceRequest): boolean {
  return request.query.getAll('dryRun').includes('All');
}

/** The request's `fieldValidation` (kubectl sends Strict): how fields a CRD schema does not declare are met. */
function fieldValidation(request: ResourceRequest): WriteOptions['fieldValidation'] {
  const value = request.query.get('fieldValidation');
  return value === 'Strict' || value === 'Warn' || value === 'Ignore' ? value : undefined;
}

function writeOptions(request: ResourceRequest): WriteOptions {
  return { dryRun: isDryRun(request), fieldValidation: fieldValidation(request) };
}

/** A dry run of an update validates and answers with what would be stored, writing nothing (creates run admission too). */
function dryRunObject(request: ResourceRequest, object: StoredObject): StoredObject {
  validateObject(request.def, object as unknown as Record<string, unknown>);
  return object;
}

export async function handleCreate(context: ApiContext, request: ResourceRequest): Promise<void> {
  if (request.namespace === undefined && request.def.namespaced) {
    throw badRequest(
      `${describeResource(request.def)} are namespaced: POST to /namespaces/NAMESPACE/${request.def.plural}`,
    );
  }
  const object = await readObject(request);
  const created = await context.store.create(request.key, object, writeOptions(request));
  sendJson(request.res, 201, present(request, created));
}

export async function handleReplace(context: ApiContext, request: ResourceRequest): Promise<void> {
  const name = request.name ?? '';
  const object = await readObject(request);
  if (object.metadata.name !== undefined && object.metadata.name !== name) {
    throw badRequest(
      `the name of the object (${String(object.metadata.name)}) does not match the name on the URL (${name})`,
    );
  }
  object.metadata.name = name;
  if (isDryRun(request)) {
    sendJson(request.res, 200, present(request, dryRunObject(request, object)));
    return;
  }
  const updated =
    request.subresource === 'status'
      ? await context.store.updateStatus(request.key, object)
      : await context.store.update(request.key, object, { fieldValidation: fieldValidation(request) });
  sendJson(request.res, 200, present(request, updated));
}

function patchedResourceVersion(patch: unknown): string | undefined {
  if (!isObject(patch) || !isObject(patch.metadata)) return undefined;
  const rv = patch.metadata.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

/** Applies a patch to the live object and writes it, retrying on conflicts the client did not ask for. */
async function writePatched(
  context: ApiContext,
  request: ResourceRequest,
  type: PatchType,
  patch: unknown,
): Promise<StoredObject> {
  const name = request.name ?? '';
  const pinned = patchedResourceVersion(patch);
  for (let attempt = 0; ; attempt++) {
    const live = getExisting(context, request, name);
    const next = applyPatch(type, live, patch, request.def);
    if (!isObject(next) || !isObject(next.metadata))
      throw badRequest('the patch removed the object or its metadata');
    if (next.metadata.name !== name)
      throw badRequest(`a patch cannot change metadata.name (from ${name} to ${String(next.metadata.name)})`);
    if (request.def.namespaced) next.metadata.namespace = request.namespace;
    if (pinned === undefined) next.metadata.resourceVersion = live.metadata.resourceVersion;
    if (isDryRun(request)) return dryRunObject(request, next as unknown as StoredObject);
    try {
      return request.subresource === 'status'
        ? await context.store.updateStatus(request.key, next)
        : await context.store.update(request.key, next, { fieldValidation: fieldValidation(request) });
    } catch (error) {
      const retry =
        error instanceof StoreError &&
        error.code === 409 &&
        error.reason === 'Conflict' &&
        pinned === undefined;
      if (!retry || attempt >= PATCH_RETRIES) throw error;
    }
  }
}

export async function handlePatch(context: ApiContext, request: ResourceRequest): Promise<void> {
  const type = patchTypeOf(request.req.headers['content-type'], request.def);
  const patch = parseBody(await readBodyText(request.req), type === 'apply');
  if (patch === undefined) throw badRequest('the patch body is empty');
  const name = request.name ?? '';
  if (type === 'apply') {
    if (!request.query.get('fieldManager')) {
      throw new ApiError(
        422,
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    }
    const exists = context.store.get(request.key, request.namespace, name) !== undefined;
    if (!exists && request.subresource === undefined) {
      if (!isObject(patch)) throw badRequest('an apply patch must be an object');
      const meta = isObject(patch.metadata) ? patch.metadata : {};
      const object = {
        ...patch,
        metadata: { ...meta, name, ...(request.def.namespaced ? { namespace: request.namespace } : {}) },
      };
      const created = await context.store.create(request.key, object, writeOptions(request));
      sendJson(request.res, 201, present(request, created));
      return;
    }
  }
  const updated = await writePatched(context, request, type, patch);
  sendJson(request.res, 200, present(request, updated));
}

async function readDeleteOptions(request: ResourceRequest): Promise<DeleteOptions> {
  const body = parseBody(await readBodyText(request.req));
  const source = isObject(body) ? body : {};
  const options: DeleteOptions = {};
  const grace = request.query.get('gracePeriodSeconds') ?? source.gracePeriodSeconds;
  if (grace !== undefined && grace !== null && grace !== '') options.gracePeriodSeconds = Number(grace);
  const policy = request.query.get('propagationPolicy') ?? source.propagationPolicy;
  if (policy === 'Background' || policy === 'Foreground' || policy === 'Orphan')
    options.propagationPolicy = policy;
  else if (source.orphanDependents === true) options.propagationPolicy = 'Orphan';
  else if (policy !== undefined && policy !== null) {
    throw badRequest(
      `propagationPolicy must be Background, Foreground or Orphan, got ${JSON.stringify(policy)}`,
    );
  }
  if (isObject(source.preconditions)) {
    const { uid, resourceVersion } = source.preconditions;
    options.preconditions = {
      ...(typeof uid === 'string' ? { uid } : {}),
      ...(typeof resourceVersion === 'string' ? { resourceVersion } : {}),
    };
  }
  if (source.dryRun !== undefined && Array.isArray(source.dryRun) && source.dryRun.includes('All')) {
    request.query.append('dryRun', 'All');
  }
  return options;
}

export async function handleDelete(context: ApiContext, request: ResourceRequest): Promise<void> {
  const options = await readDeleteOptions(request);
  if (request.name === undefined) {
    const list = context.store.list(request.key, listOptionsOf(request));
    const deleted: StoredObject[] = [];
    for (const item of list.items) {
      if (isDryRun(request)) deleted.push(item);
      else
        deleted.push(
          await context.store.delete(request.key, item.metadata.namespace, item.metadata.name, options),
        );
    }
    sendObjects(request, deleted, context.store.currentResourceVersion(), false, false);
    return;
  }
  if (isDryRun(request)) {
    sendJson(request.res, 200, present(request, getExisting(context, request, request.name)));
    return;
  }
  const removed = await context.store.delete(request.key, request.namespace, request.name, options);
  sendJson(request.res, 200, present(request, removed));
}

export function rejectVerb(request: ResourceRequest, method: string): never {
  throw methodNotAllowed(
    `${method} is not supported on ${describeResource(request.def)}${request.subresource ? `/${request.subresource}` : ''}`,
  );
}
