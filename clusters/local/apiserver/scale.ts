// The scale subresource (autoscaling/v1 Scale) of deployments and replicasets: `kubectl scale` patches it.

import { isObject, type StoredObject, StoreError } from '../store/index.js';
import { type ApiContext, describeResource, type ResourceRequest } from './context.js';
import { sendJson } from './http-io.js';
import { applyPatch, patchTypeOf } from './patch/index.js';
import { parseBody, readBodyText } from './request-body.js';
import { badRequest } from './status-errors.js';
import { formatSelector } from './tables/fields.js';
import { getExisting } from './resource-handlers.js';

export function buildScale(object: StoredObject) {
  const spec = isObject(object.spec) ? object.spec : {};
  const status = isObject(object.status) ? object.status : {};
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  const selector = formatSelector(spec.selector);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, ...(namespace ? { namespace } : {}), uid, resourceVersion, creationTimestamp },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 },
    status: {
      replicas: typeof status.replicas === 'number' ? status.replicas : 0,
      ...(selector !== '<none>' ? { selector } : {}),
    },
  };
}

function replicasOf(scale: unknown): number {
  const replicas = isObject(scale) && isObject(scale.spec) ? scale.spec.replicas : undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new StoreError(
      422,
      'Invalid',
      `Scale "" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      [{ field: 'spec.replicas', message: 'must be a non-negative integer', reason: 'FieldValueInvalid' }],
    );
  }
  return replicas;
}

export async function handleScale(
  context: ApiContext,
  request: ResourceRequest,
  method: string,
): Promise<void> {
  const name = request.name ?? '';
  const live = getExisting(context, request, name);
  if (method === 'GET') {
    sendJson(request.res, 200, buildScale(live));
    return;
  }
  const body = parseBody(await readBodyText(request.req));
  let wanted: unknown;
  let pinned: string | undefined;
  if (method === 'PUT') {
    wanted = body;
    const meta = isObject(body) && isObject(body.metadata) ? body.metadata : {};
    pinned =
      typeof meta.resourceVersion === 'string' && meta.resourceVersion !== ''
        ? meta.resourceVersion
        : undefined;
  } else if (method === 'PATCH') {
    wanted = applyPatch(
      patchTypeOf(request.req.headers['content-type'], request.def),
      buildScale(live),
      body,
      request.def,
    );
  } else {
    throw badRequest(
      `${method} is not supported on ${describeResource(request.def)}/scale: use GET, PUT or PATCH`,
    );
  }
  const replicas = replicasOf(wanted);
  const next = structuredClone(live);
  next.spec = { ...(isObject(next.spec) ? next.spec : {}), replicas };
  next.metadata.resourceVersion = pinned ?? live.metadata.resourceVersion;
  const updated = await context.store.update(request.key, next);
  sendJson(request.res, 200, buildScale(updated));
}
