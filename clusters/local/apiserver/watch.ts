// Watch streams: newline-delimited JSON events, synthetic ADDED for the current state when no resourceVersion
// is given, resume from a resourceVersion, BOOKMARKs, timeoutSeconds, Table events for `kubectl get -w`.

import { type StoredObject, StoreError, type WatchEvent } from '../store/index.js';
import { type ApiContext, isTrue, present, type ResourceRequest } from './context.js';
import { buildStatus } from './status-errors.js';
import { buildTable, TABLE_CONTENT_TYPE, wantsTable } from './tables/index.js';

/** Real servers pick 30–60 min; a long watch is fine here since clients reconnect anyway. */
const DEFAULT_TIMEOUT_SECONDS = 1800;
const BOOKMARK_INTERVAL_MS = 10_000;

/** One watch response's state: what it has sent so far and what to release when it ends. */
interface WatchStream {
  context: ApiContext;
  request: ResourceRequest;
  table: boolean;
  /** Table events carry column headers only in the first event. */
  headersSent: boolean;
  /** The resourceVersion of the last event sent: a BOOKMARK repeats it. */
  lastRv: string;
  watch: { stop(): void } | undefined;
  timers: NodeJS.Timeout[];
}

function listOptionsOf(request: ResourceRequest) {
  const { query } = request;
  return {
    ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
    ...(query.get('labelSelector') ? { labelSelector: query.get('labelSelector') ?? '' } : {}),
    ...(query.get('fieldSelector') ? { fieldSelector: query.get('fieldSelector') ?? '' } : {}),
  };
}

function writeEvent(stream: WatchStream, type: string, object: StoredObject): void {
  const { request } = stream;
  let payload: unknown = present(request, object);
  if (stream.table) {
    payload = buildTable(request.def, [object], {
      includeObject: request.query.get('includeObject') ?? undefined,
      resourceVersion: object.metadata.resourceVersion,
      noHeaders: stream.headersSent,
    });
    stream.headersSent = true;
  }
  stream.lastRv = object.metadata.resourceVersion;
  request.res.write(`${JSON.stringify({ type, object: payload })}\n`);
}

function finishStream(stream: WatchStream): void {
  const { res } = stream.request;
  stream.watch?.stop();
  for (const t of stream.timers) clearInterval(t);
  stream.context.streams.delete(res);
  if (!res.writableEnded) res.end();
}

/** A store error (410 Expired for a resourceVersion out of the window) as the stream's ERROR event. */
function writeWatchError(stream: WatchStream, error: unknown): void {
  const status =
    error instanceof StoreError && error.code === 410
      ? buildStatus(410, 'Expired', error.message)
      : buildStatus(500, 'InternalError', error instanceof Error ? error.message : String(error));
  stream.request.res.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
}

/** Ends the stream after timeoutSeconds and, when the client allows them, sends periodic BOOKMARKs. */
function armTimers(stream: WatchStream): void {
  const { request } = stream;
  const { query, res, def } = request;
  const timeoutSeconds = Number(query.get('timeoutSeconds') ?? DEFAULT_TIMEOUT_SECONDS);
  const timeout = setTimeout(() => finishStream(stream), Math.max(0, timeoutSeconds) * 1000);
  stream.timers.push(timeout);
  if (isTrue(query.get('allowWatchBookmarks'))) {
    const bookmark = setInterval(() => {
      const object = { apiVersion: '', kind: def.kind, metadata: { resourceVersion: stream.lastRv } };
      res.write(
        `${JSON.stringify({ type: 'BOOKMARK', object: present(request, object as unknown as StoredObject) })}\n`,
      );
    }, BOOKMARK_INTERVAL_MS);
    bookmark.unref();
    stream.timers.push(bookmark);
  }
}

export function serveWatch(context: ApiContext, request: ResourceRequest): void {
  const { store } = context;
  const { res, query } = request;
  const table = wantsTable(request.req.headers.accept);
  const options = listOptionsOf(request);
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

  const stream: WatchStream = {
    context,
    request,
    table,
    headersSent: false,
    lastRv: initial?.resourceVersion ?? requested,
    watch: undefined,
    timers: [],
  };
  // The request's 'close' fires when its (empty) body ends; only the response's means the client left.
  res.on('close', () => finishStream(stream));

  try {
    for (const item of initial?.items ?? []) writeEvent(stream, 'ADDED', item);
    const sinceResourceVersion = fromNow ? initial?.resourceVersion : requested;
    stream.watch = store.watch(request.key, { ...options, sinceResourceVersion }, (event: WatchEvent) => {
      if (!res.writableEnded) writeEvent(stream, event.type, event.object);
    });
  } catch (error) {
    writeWatchError(stream, error);
    finishStream(stream);
    return;
  }
  armTimers(stream);
}
