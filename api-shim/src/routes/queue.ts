// /queue and /workers/pool: the waiting WorkItems in the order the scheduler weighs them, and
// the workers as their heartbeat Leases show them.
import { z } from 'zod';
import { isBound, isWaiting } from '../../../operator/src/shared/work-phases.ts';
import { poolStatus } from '../../../operator/src/shared/worker-pool.ts';
import { route } from '../http/route.ts';
import type { ShimContext } from './context.ts';
import { projectName, visible } from './objects.ts';

export function queueRoutes(ctx: ShimContext) {
  return [
    route({
      method: 'GET',
      url: '/queue',
      summary: 'The WorkItems waiting for a worker, highest priority first, then oldest',
      tag: 'work',
      scope: 'work:read',
      query: z.object({ namespace: projectName.optional(), project: projectName.optional() }),
      response: z.object({
        waiting: z.number(),
        items: z.array(
          z.object({
            name: z.string(),
            namespace: z.string(),
            project: z.string().optional(),
            type: z.string(),
            priority: z.number(),
            attempts: z.number(),
            nextAttemptAt: z.string().optional(),
            createdAt: z.string().optional(),
          }),
        ),
      }),
      handler: async ({ query, principal }) => {
        const items = visible(ctx.cache, principal.key, 'WorkItem', query)
          .filter((o) => isWaiting(o) && !o.spec.cancel && !o.metadata.deletionTimestamp)
          .map((o) => ({
            name: o.metadata.name,
            namespace: o.metadata.namespace,
            project: o.spec.projectRef.name,
            type: o.spec.type,
            priority: o.spec.priority,
            attempts: o.status?.attempts ?? 0,
            nextAttemptAt: o.status?.nextAttemptAt,
            createdAt: o.metadata.creationTimestamp,
          }))
          .sort((a, b) => b.priority - a.priority || String(a.createdAt).localeCompare(String(b.createdAt)));
        return { waiting: items.length, items };
      },
    }),
    route({
      method: 'GET',
      url: '/workers/pool',
      summary:
        'The live workers: capacity, busy and idle slots, and how many WorkItems wait (counting only the WorkItems the key reaches)',
      tag: 'work',
      scope: 'work:read',
      response: z.object({
        workers: z.number(),
        capacity: z.number(),
        busy: z.number(),
        idle: z.number(),
        queued: z.number(),
        members: z.array(z.object({ name: z.string(), capacity: z.number(), busy: z.number() })),
      }),
      handler: async ({ principal }) => {
        // Only what the key reaches is counted: other tenants' work is not its business, not
        // even how much of it there is.
        const items = visible(ctx.cache, principal.key, 'WorkItem');
        const bound = new Map<string, number>();
        for (const item of items) {
          const worker = item.status?.worker;
          if (worker && isBound(item)) bound.set(worker, (bound.get(worker) ?? 0) + 1);
        }
        const queued = items.filter((o) => isWaiting(o) && !o.spec.cancel).length;
        const alive = ctx.pool.alive();
        return {
          ...poolStatus(alive, bound, queued),
          members: alive
            .map((w) => ({
              name: w.name,
              capacity: w.capacity,
              busy: Math.min(w.capacity, bound.get(w.name) ?? 0),
            }))
            .sort((a, b) => a.name.localeCompare(b.name)),
        };
      },
    }),
  ];
}
