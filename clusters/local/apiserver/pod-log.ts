// pods/log: plain text from the pod runtime, with container, tailLines, previous, sinceSeconds, timestamps and
// follow (streamed until the container stops or the client leaves).

import type { LogOptions } from '../pod-runtime.js';
import { type ApiContext, isTrue, type ResourceRequest } from './context.js';
import { resolveContainer } from './pod-containers.js';
import { getExisting } from './resource-handlers.js';
import { badRequest } from './status-errors.js';

function integerParam(request: ResourceRequest, name: string): number | undefined {
  const raw = request.query.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw badRequest(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

export function handlePodLog(context: ApiContext, request: ResourceRequest): void {
  const pod = getExisting(context, request, request.name ?? '');
  const container = resolveContainer(pod, request.query.get('container'));
  const runtime = context.runtime;
  if (!runtime)
    throw badRequest(
      `pod ${pod.metadata.name} has no node to read logs from: this API server has no pod runtime`,
    );
  const tailLines = integerParam(request, 'tailLines');
  const sinceSeconds = integerParam(request, 'sinceSeconds');
  const options: LogOptions = {
    container,
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
    ...(isTrue(request.query.get('previous')) ? { previous: true } : {}),
    ...(isTrue(request.query.get('timestamps')) ? { timestamps: true } : {}),
  };
  const namespace = pod.metadata.namespace ?? '';
  const { res } = request;
  if (!isTrue(request.query.get('follow'))) {
    const text = runtime.readLog(namespace, pod.metadata.name, options);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  const follow = runtime.followLog(namespace, pod.metadata.name, options);
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache',
  });
  res.flushHeaders();
  context.streams.add(res);
  if (follow.initial !== '') res.write(follow.initial);
  let unsubscribe: (() => void) | undefined;
  const end = (): void => {
    unsubscribe?.();
    context.streams.delete(res);
    if (!res.writableEnded) res.end();
  };
  res.on('close', end);
  unsubscribe = follow.subscribe((chunk) => {
    if (!res.writableEnded) res.write(chunk);
  }, end);
}
