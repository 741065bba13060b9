// /checkouts: the shared child routes, and checkin — set spec.checkin, which revokes the
// credentials and opens a pull request.
import { z } from 'zod';
import { HttpError } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { childRoutes, idParams } from './children.ts';
import type { ShimContext } from './context.ts';
import { current, namespaceFor, namespaceQuery, patchObject, present, presented } from './objects.ts';

export function checkoutRoutes(ctx: ShimContext) {
  return [
    ...childRoutes(ctx, 'Checkout', 'checkouts'),
    route({
      method: 'POST',
      url: '/checkouts/:id/checkin',
      summary: 'Check the work in: revokes the credentials and opens a pull request to the base branch',
      tag: 'checkouts',
      scope: 'projects:execute',
      params: idParams,
      query: namespaceQuery,
      body: z.object({
        title: z.string().min(1).max(255).describe('title of the pull request'),
        body: z.string().max(65536).optional().describe('description of the pull request'),
      }),
      response: presented('Checkout'),
      handler: async ({ params, query, body, principal }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        const checkout = await current(ctx, principal.key, 'Checkout', namespace, params.id);
        if (checkout.spec.checkin)
          throw new HttpError(409, `Checkout ${namespace}/${params.id} is already checked in`);
        const phase = checkout.status?.phase;
        if (phase && phase !== 'Active' && phase !== 'Pending') {
          throw new HttpError(409, `Checkout ${namespace}/${params.id} is ${phase}: nothing to check in`);
        }
        const patched = await patchObject(ctx, principal.key, 'Checkout', namespace, params.id, {
          spec: { checkin: { title: body.title, body: body.body ?? '' } },
        });
        return present('Checkout', patched);
      },
    }),
  ];
}
