// API keys and webhook subscriptions are Secrets in the shim's own namespace, touched on behalf
// of a key that must reach at least as far as they do.
import { z } from 'zod';
import { isNotFound } from '../../../operator/src/runtime/client.ts';
import { SECRETS } from '../../../operator/src/runtime/resources.ts';
import { requireNoWider } from '../auth/access.ts';
import { notFound } from '../http/errors.ts';
import { type Route, route } from '../http/route.ts';
import type { ApiKey } from '../keys/api-key.ts';
import type { ShimContext } from './context.ts';

/**
 * DELETE /<collection>/{id} of what the shim keeps as a Secret: `reach` finds it (or answers 404),
 * the caller's key must reach as far as it does, and its Secret is deleted (404 when it is gone).
 */
export function secretDeletion(
  ctx: ShimContext,
  collection: 'keys' | 'webhooks',
  spec: {
    summary: string;
    params: z.ZodType<{ id: string }>;
    /** How far it reaches; throws a 404 when `caller` may not see it. */
    reach: (id: string, caller: ApiKey) => Parameters<typeof requireNoWider>[1];
    secretName: (id: string) => string;
    /** The ids deleted with it, first (revoking a key revokes those it made). */
    cascade?: (id: string) => string[];
    /** What it is, for the 404: "API key", "webhook". */
    what: string;
  },
): Route {
  return route({
    method: 'DELETE',
    url: `/${collection}/:id`,
    summary: spec.summary,
    tag: collection,
    scope: `${collection}:write`,
    params: spec.params,
    status: 202,
    response: z.object({ id: z.string(), deleting: z.boolean() }),
    handler: async ({ params, principal }) => {
      requireNoWider(principal.key, spec.reach(params.id, principal.key));
      for (const id of spec.cascade?.(params.id) ?? []) {
        await ctx.client.delete(SECRETS, ctx.config.namespace, spec.secretName(id)).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      }
      await ctx.client.delete(SECRETS, ctx.config.namespace, spec.secretName(params.id)).catch((err) => {
        throw isNotFound(err) ? notFound(`${spec.what} ${params.id}`) : err;
      });
      return { id: params.id, deleting: true };
    },
  });
}
