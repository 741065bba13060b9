// /events: phase transitions of the objects the key can see, as server-sent events named by
// their type (e.g. workitem.succeeded). A client that reconnects with Last-Event-ID gets what it
// missed, or a `reset` event when this replica no longer holds it (re-read, then carry on).
import { z } from 'zod';
import { canReachProject } from '../auth/access.ts';
import { hasScope } from '../auth/scopes.ts';
import { KINDS } from '../cache.ts';
import type { PhaseEvent } from '../events/feed.ts';
import { route } from '../http/route.ts';
import { EventStream } from '../http/sse.ts';
import type { ShimContext } from './context.ts';
import { KIND_API, projectName } from './objects.ts';

/** The data of a phase event, as sent (what the feed's PhaseEvent holds). */
const phaseEventData: z.ZodType<PhaseEvent> = z.object({
  id: z.string().describe('the object’s resourceVersion (also the event’s id)'),
  type: z.string().describe('<kind>.<phase> or <kind>.deleted, in lower case'),
  kind: z.enum(KINDS),
  namespace: z.string(),
  name: z.string(),
  project: z.string().optional(),
  phase: z.string().optional(),
  previousPhase: z.string().optional(),
  at: z.string().describe('when the shim saw the transition'),
});

const KIND = KINDS.join('|');
/** A comma-separated list of kinds, spaces allowed around each. */
const KIND_LIST = new RegExp(`^ *(${KIND}) *(, *(${KIND}) *)*$`);

export function eventRoutes(ctx: ShimContext) {
  return [
    route({
      method: 'GET',
      url: '/events',
      summary:
        'Phase transitions as server-sent events (event: <kind>.<phase> or <kind>.deleted; id: a resourceVersion); resumable with Last-Event-ID',
      tag: 'events',
      scope: ['projects:read', 'sessions:read', 'work:read', 'features:read'],
      query: z.object({
        kind: z
          .string()
          .max(100)
          .regex(KIND_LIST, `a comma-separated list of kinds: ${KINDS.join(', ')}`)
          .optional()
          .describe('comma-separated kinds (default: all the key may read)'),
        project: projectName.optional(),
        namespace: projectName.optional(),
        lastEventId: z
          .string()
          .max(32)
          .optional()
          .describe('the Last-Event-ID header, for clients that cannot set it'),
      }),
      stream: {
        '<kind>.<phase>': {
          description: 'an object the key can see entered a phase (e.g. workitem.succeeded)',
          data: phaseEventData,
          id: 'the object’s resourceVersion',
        },
        '<kind>.deleted': {
          description: 'an object the key can see was deleted',
          data: phaseEventData,
          id: 'the object’s resourceVersion',
        },
        reset: {
          description:
            'sent on reconnecting when this replica no longer holds the events after Last-Event-ID: re-read the state',
          data: z.object({ message: z.string() }),
        },
      },
      handler: async ({ query, principal, request, reply }) => {
        // The query's schema admits only known kinds.
        const asked: string[] = query.kind ? query.kind.split(',').map((k) => k.trim()) : [...KINDS];
        const kinds = new Set(
          KINDS.filter((k) => asked.includes(k) && hasScope(principal.key.scopes, KIND_API[k].read)),
        );
        const wanted = (e: PhaseEvent) =>
          kinds.has(e.kind) &&
          (!query.project || e.project === query.project) &&
          (!query.namespace || e.namespace === query.namespace) &&
          canReachProject(principal.key, e.namespace, e.project);
        const header = request.headers['last-event-id'];
        const lastEventId = (typeof header === 'string' ? header : undefined) ?? query.lastEventId;
        const stream = new EventStream(request, reply);
        stream.retry(2000);
        const send = (e: PhaseEvent) => {
          if (wanted(e)) stream.send(e.type, e, e.id);
        };
        if (lastEventId !== undefined) {
          const missed = ctx.feed.since(lastEventId);
          if (missed) for (const e of missed) send(e);
          else
            stream.send('reset', {
              message: 'events after this id are no longer held here: re-read the state',
            });
        }
        const stop = ctx.feed.onPhase(send);
        stream.signal.addEventListener(
          'abort',
          () => {
            stop();
            stream.end();
          },
          { once: true },
        );
      },
    }),
  ];
}
