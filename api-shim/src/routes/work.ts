// /work: the shared child routes, cancel, and logs — the item's output as server-sent events
// (output {data}, phase {phase}), ending with end {phase, exitCode} once the item finishes.
import { isFinished, type LiveWorkItem } from '../../../operator/src/shared/work-phases.ts';
import { HttpError } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { EventStream } from '../http/sse.ts';
import { childRoutes, idParams } from './children.ts';
import type { ShimContext } from './context.ts';
import { cached, current, namespaceFor, namespaceQuery, patchObject, present, presented } from './objects.ts';
import { appendedText } from './output.ts';

export function workRoutes(ctx: ShimContext) {
  return [
    ...childRoutes(ctx, 'WorkItem', 'work'),
    route({
      method: 'POST',
      url: '/work/:id/cancel',
      summary: 'Cancel a WorkItem (a running attempt is stopped)',
      tag: 'work',
      scope: 'work:write',
      params: idParams,
      query: namespaceQuery,
      response: presented('WorkItem'),
      handler: async ({ params, query, principal }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        const item = await current(ctx, principal.key, 'WorkItem', namespace, params.id);
        const phase = item.status?.phase ?? '';
        if (isFinished(item)) throw new HttpError(409, `WorkItem ${namespace}/${params.id} already ${phase}`);
        const patched = await patchObject(ctx.client, principal.key, 'WorkItem', namespace, params.id, {
          spec: { cancel: true },
        });
        return present('WorkItem', patched);
      },
    }),
    route({
      method: 'GET',
      url: '/work/:id/logs',
      summary:
        'Stream a WorkItem’s output: server-sent events output ({data}) and phase ({phase}), then end ({phase, exitCode}) when it finishes',
      tag: 'work',
      scope: 'work:read',
      params: idParams,
      query: namespaceQuery,
      stream: true,
      handler: async ({ params, query, principal, request, reply }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        const first = cached(ctx.cache, principal.key, 'WorkItem', namespace, params.id);
        const stream = new EventStream(request, reply);
        let tail = '';
        let phase: string | undefined;
        let uid = first.metadata.uid;
        const show = (item: LiveWorkItem, deleted: boolean) => {
          const next = item.status?.outputTail ?? '';
          // A new attempt starts a new output.
          const added =
            item.metadata.uid === uid && next.length >= tail.length ? appendedText(tail, next) : next;
          uid = item.metadata.uid;
          if (added) stream.send('output', { data: added });
          tail = next;
          const now = item.status?.phase;
          if (now && now !== phase) stream.send('phase', { phase: now });
          phase = now;
          if (deleted || isFinished(item)) {
            stream.send('end', { phase: deleted ? 'Deleted' : now, exitCode: item.status?.exitCode });
            stream.end();
          }
        };
        const stop = ctx.feed.onChange((_kind, obj, deleted) => {
          if (
            obj.kind === 'WorkItem' &&
            obj.metadata.namespace === namespace &&
            obj.metadata.name === params.id
          ) {
            show(obj, deleted);
          }
        });
        stream.signal.addEventListener('abort', stop, { once: true });
        show(first, false);
        if (stream.closed) stop();
      },
    }),
  ];
}
