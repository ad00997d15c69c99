// Watch streams: newline-delimited JSON events, synthetic ADDED for the current state when no resourceVersion
// is given, resume from a resourceVersion, BOOKMARKs, timeoutSeconds, Table events for `kubectl get -w`.

import { type StoredObject, StoreError, type WatchEvent } from '../store/index.js';
import { type ApiContext, isTrue, present, type ResourceRequest } from './context.js';
import { buildStatus } from './status-errors.js';
import { buildTable, TABLE_CONTENT_TYPE, wantsTable } from './tables/index.js';

/** Real servers pick 30–60 min; a long watch is fine here since clients reconnect anyway. */
const DEFAULT_TIMEOUT_SECONDS = 1800;
const BOOKMARK_INTERVAL_MS = 10_000;

export function serveWatch(context: ApiContext, request: ResourceRequest): void {
  const { store } = context;
  const { res, query, def } = request;
  const table = wantsTable(request.req.headers.accept);
  const options = {
    ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
    ...(query.get('labelSelector') ? { labelSelector: query.get('labelSelector') ?? '' } : {}),
    ...(query.get('fieldSelector') ? { fieldSelector: query.get('fieldSelector') ?? '' } : {}),
  };
  const requested = query.get('resourceVersion') ?? '';
  const fromNow = requested === '' || requested === '0';
  // Parse the selectors before answering 200, so a bad one is a 400 rather than a broken stream.
  const initial = fromNow ? store.list(request.key, options) : undefined;

  res.writeHead(200, {
    'Content-Type': table ? TABLE_CONTENT_TYPE : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  context.streams.add(res);

  let headersSent = false;
  let lastRv = initial?.resourceVersion ?? requested;
  const write = (type: string, object: StoredObject): void => {
    let payload: unknown = present(request, object);
    if (table) {
      payload = buildTable(def, [object], {
        includeObject: query.get('includeObject') ?? undefined,
        resourceVersion: object.metadata.resourceVersion,
        noHeaders: headersSent,
      });
      headersSent = true;
    }
    lastRv = object.metadata.resourceVersion;
    res.write(`${JSON.stringify({ type, object: payload })}\n`);
  };

  let watch: { stop(): void } | undefined;
  const timers: NodeJS.Timeout[] = [];
  const finish = (): void => {
    watch?.stop();
    for (const t of timers) clearInterval(t);
    context.streams.delete(res);
    if (!res.writableEnded) res.end();
  };
  // The request's 'close' fires when its (empty) body ends; only the response's means the client left.
  res.on('close', finish);

  try {
    for (const item of initial?.items ?? []) write('ADDED', item);
    watch = store.watch(
      request.key,
      {
        ...options,
        ...(fromNow
          ? { sinceResourceVersion: initial?.resourceVersion }
          : { sinceResourceVersion: requested }),
      },
      (event: WatchEvent) => {
        if (!res.writableEnded) write(event.type, event.object);
      },
    );
  } catch (error) {
    const status =
      error instanceof StoreError && error.code === 410
        ? buildStatus(410, 'Expired', error.message)
        : buildStatus(500, 'InternalError', error instanceof Error ? error.message : String(error));
    res.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    finish();
    return;
  }

  const timeoutSeconds = Number(query.get('timeoutSeconds') ?? DEFAULT_TIMEOUT_SECONDS);
  const timeout = setTimeout(finish, Math.max(0, timeoutSeconds) * 1000);
  timers.push(timeout);
  if (isTrue(query.get('allowWatchBookmarks'))) {
    const bookmark = setInterval(() => {
      const object = { apiVersion: '', kind: def.kind, metadata: { resourceVersion: lastRv } };
      res.write(
        `${JSON.stringify({ type: 'BOOKMARK', object: present(request, object as unknown as StoredObject) })}\n`,
      );
    }, BOOKMARK_INTERVAL_MS);
    bookmark.unref();
    timers.push(bookmark);
  }
}
