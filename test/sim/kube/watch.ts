import type { IncomingMessage, ServerResponse } from 'node:http';
import { gone } from './errors.js';
import type { ResourceInfo } from './resources.js';
import { includeObjectOf, listOptions } from './rest-handlers.js';
import type { KubeStore, StoreEvent, StoreEventType } from './store.js';
import { toTable } from './tables.js';
import type { KubeObject } from './types.js';

/**
 * `?watch=true`: a stream of `{"type","object"}` lines, one per change. Without a
 * resourceVersion (or with "0") the stream opens with an ADDED for every current object, as
 * the API server does; with one, it replays the changes after it, or answers 410 Expired
 * once they have left the store's history. An object that stops (starts) matching the
 * selectors is reported DELETED (ADDED), as the watch cache does.
 */
export function serveWatch(
  store: KubeStore,
  info: ResourceInfo,
  request: { namespace?: string; query: URLSearchParams; table: boolean },
  req: IncomingMessage,
  res: ServerResponse,
  open: Set<() => void>,
): void {
  const matches = store.matcher(info.name, listOptions(request)); // throws BadRequest before anything is written
  const include = includeObjectOf(request.query);
  let first = true;

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();

  const send = (type: StoreEventType | 'ERROR', object: unknown): void => {
    const body =
      request.table && type !== 'ERROR'
        ? toTable(info, [object as KubeObject], { now: store.clock.now(), resourceVersion: (object as KubeObject).metadata.resourceVersion ?? '', include, withColumns: first })
        : object;
    first = false;
    res.write(`${JSON.stringify({ type, object: body })}\n`);
  };

  const forward = (event: StoreEvent): void => {
    if (event.resource !== info.name) return;
    const now = matches(event.object);
    const before = event.oldObject ? matches(event.oldObject) : false;
    if (event.type === 'ADDED' && now) send('ADDED', event.object);
    else if (event.type === 'DELETED' && (before || now)) send('DELETED', event.object);
    else if (event.type === 'MODIFIED') {
      if (now && before) send('MODIFIED', event.object);
      else if (now) send('ADDED', event.object);
      else if (before) send('DELETED', event.object);
    }
  };

  let unsubscribe = (): void => {};
  const close = (): void => {
    unsubscribe();
    clearTimeout(timer);
    open.delete(close);
    if (!res.writableEnded) res.end();
  };
  const timeoutSeconds = Number(request.query.get('timeoutSeconds') ?? '0');
  const timer = timeoutSeconds > 0 ? setTimeout(close, timeoutSeconds * 1000).unref() : undefined;
  open.add(close);
  req.on('close', close);

  const from = request.query.get('resourceVersion');
  if (!from || from === '0') {
    for (const object of store.list(info.name, listOptions(request))) send('ADDED', object);
  } else {
    const changes = store.changesSince(Number(from));
    if (!changes) {
      send('ERROR', gone(`too old resource version: ${from} (${store.resourceVersion})`).status);
      close();
      return;
    }
    for (const change of changes) forward(change);
  }
  unsubscribe = store.on(forward);
}
