// /work: the shared child routes, cancel, and logs — the item's output as server-sent events
// (output {data}, phase {phase}), ending with end {phase, exitCode} once the item finishes; see
// work-logs.ts for where the output comes from.
import { z } from 'zod';
import { WORK_PHASES } from '../../../operator/src/api/v1alpha1/index.ts';
import { OUTPUT_STREAMS, parseOutputEventId } from '../../../operator/src/shared/live-output.ts';
import { isFinished } from '../../../operator/src/shared/work-phases.ts';
import { HttpError } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { EventStream } from '../http/sse.ts';
import { childRoutes, idParams } from './children.ts';
import type { ShimContext } from './context.ts';
import { cached, current, namespaceFor, namespaceQuery, patchObject, present, presented } from './objects.ts';
import { WorkLogs } from './work-logs.ts';

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
        const patched = await patchObject(ctx, principal.key, 'WorkItem', namespace, params.id, {
          spec: { cancel: true },
        });
        return present('WorkItem', patched);
      },
    }),
    route({
      method: 'GET',
      url: '/work/:id/logs',
      summary:
        'Stream a WorkItem’s output: server-sent events output ({data}; lines relayed live from its worker add stream and the id <attempt>:<seq>, resumable with Last-Event-ID) and phase ({phase}), then end ({phase, exitCode}) when it finishes',
      tag: 'work',
      scope: 'work:read',
      params: idParams,
      query: namespaceQuery.extend({
        lastEventId: z
          .string()
          .max(32)
          .optional()
          .describe('the Last-Event-ID header, for clients that cannot set it'),
      }),
      stream: {
        output: {
          description:
            'output of the item: relayed live from its worker (with stream, and an id to resume after), or what status.outputTail added (no id)',
          data: z.object({ data: z.string(), stream: z.enum(OUTPUT_STREAMS).optional() }),
          id: '<attempt>:<seq>, on lines relayed live from the worker',
        },
        phase: { description: 'the item entered a phase', data: z.object({ phase: z.enum(WORK_PHASES) }) },
        end: {
          description: 'the item finished (phase Deleted: it was deleted); the last event',
          data: z.object({
            phase: z.enum([...WORK_PHASES, 'Deleted']).optional(),
            exitCode: z.number().int().optional(),
          }),
        },
      },
      handler: async ({ params, query, principal, request, reply, log }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        const first = cached(ctx.cache, principal.key, 'WorkItem', namespace, params.id);
        const header = request.headers['last-event-id'];
        const resume = parseOutputEventId(
          (typeof header === 'string' ? header : undefined) ?? query.lastEventId,
        );
        const stream = new EventStream(request, reply);
        const logs = new WorkLogs({ ctx, stream, namespace, name: params.id, resume, log });
        const stop = ctx.feed.onChange((_kind, obj, deleted) => {
          if (
            obj.kind === 'WorkItem' &&
            obj.metadata.namespace === namespace &&
            obj.metadata.name === params.id
          ) {
            logs.show(obj, deleted);
          }
        });
        stream.signal.addEventListener('abort', stop, { once: true });
        logs.show(first, false);
        if (stream.closed) stop();
      },
    }),
  ];
}
