// /webhooks: subscriptions to phase transitions, kept as labelled Secrets in the shim's
// namespace and delivered by the operator (signed with HMAC-SHA256, retried with backoff). A
// subscription reaches no further than the key that made it.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SECRETS } from '../../../operator/src/runtime/resources.ts';
import {
  CREATED_BY_KEY_ANNOTATION,
  DELIVERIES_ANNOTATION,
  deliveryRecord,
  EVENT_PATTERN,
  ID_PATTERN,
  newWebhookId,
  parseDeliveries,
  type Subscription,
  subscriptionFromSecret,
  subscriptionSecret,
  webhookSecretName,
} from '../../../operator/src/shared/webhook-subscription.ts';
import { requireNoWider } from '../auth/access.ts';
import { invalid, notFound } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { setOf } from '../http/schemas.ts';
import type { SecretObject } from '../keys/api-key.ts';
import type { ShimContext } from './context.ts';
import { projectName } from './objects.ts';
import { secretDeletion } from './own-secrets.ts';

const webhookView = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  namespaces: z.array(z.string()),
  projects: z.array(z.string()),
  createdBy: z.string().optional(),
  createdAt: z.string().optional(),
  deliveries: z.array(deliveryRecord).describe('the last deliveries, newest first'),
});
const idParams = z.object({ id: z.string().regex(ID_PATTERN, 'not a webhook id') });

function view(secret: Pick<SecretObject, 'metadata'>, sub: Subscription) {
  const annotations = secret.metadata.annotations ?? {};
  return {
    id: sub.id,
    url: sub.url,
    events: sub.events,
    namespaces: sub.namespaces,
    projects: sub.projects,
    createdBy: annotations[CREATED_BY_KEY_ANNOTATION],
    createdAt: secret.metadata.creationTimestamp,
    deliveries: parseDeliveries(annotations[DELIVERIES_ANNOTATION]),
  };
}

export function webhookRoutes(ctx: ShimContext) {
  const subscriptions = () =>
    ctx.cache.webhooks.store.list().flatMap((secret) => {
      const sub = subscriptionFromSecret(secret);
      return typeof sub === 'string' ? [] : [{ secret, sub }];
    });
  const find = (id: string) => {
    const found = subscriptions().find((s) => s.sub.id === id);
    if (!found) throw notFound(`webhook ${id}`);
    return found;
  };
  return [
    route({
      method: 'GET',
      url: '/webhooks',
      summary: 'List the webhook subscriptions and their last deliveries',
      tag: 'webhooks',
      scope: 'webhooks:write',
      response: z.array(webhookView),
      handler: async () =>
        subscriptions()
          .map(({ secret, sub }) => view(secret, sub))
          .sort((a, b) => a.id.localeCompare(b.id)),
    }),
    route({
      method: 'POST',
      url: '/webhooks',
      summary:
        'Subscribe a URL to phase transitions; deliveries are POSTs signed with x-rdev-signature: sha256=HMAC(secret, "<x-rdev-timestamp>.<body>")',
      tag: 'webhooks',
      scope: 'webhooks:write',
      body: z.object({
        url: z
          .url({ protocol: /^https?$/ })
          .max(2048)
          .describe(
            'where deliveries are POSTed; private, loopback and link-local addresses and cluster-internal names are refused',
          ),
        events: setOf(
          z.string().regex(EVENT_PATTERN, 'an event is *, <kind>.* or <kind>.<phase>, lower case'),
        )
          .min(1)
          .max(50)
          .describe('e.g. ["workitem.succeeded", "project.*"]'),
        secret: z
          .string()
          .min(16)
          .max(256)
          .optional()
          .describe('the HMAC key (default: generated, shown once)'),
        namespaces: setOf(projectName).max(100).default([]),
        projects: setOf(projectName).max(1000).default([]),
      }),
      status: 201,
      response: webhookView.extend({ secret: z.string().optional() }),
      handler: async ({ body, principal }) => {
        // The operator checks every address again at delivery (DNS answers change); this refuses
        // what is plainly internal before anything is stored.
        const problem = ctx.webhookTargets.urlProblem(body.url);
        if (problem) throw invalid(`body.url: ${problem}`, [{ path: 'body.url', message: problem }]);
        const namespaces = body.namespaces.length ? body.namespaces : principal.key.namespaces;
        const projects = body.projects.length ? body.projects : principal.key.projects;
        requireNoWider(principal.key, { namespaces, projects });
        const secret = body.secret ?? randomBytes(24).toString('base64url');
        const created = await ctx.client.create(
          SECRETS,
          subscriptionSecret({
            id: newWebhookId(),
            namespace: ctx.config.namespace,
            url: body.url,
            secret,
            events: body.events,
            namespaces,
            projects,
            createdByKey: principal.key.id,
          }),
        );
        const sub = subscriptionFromSecret(created);
        if (typeof sub === 'string') throw new Error(sub);
        return { ...view(created, sub), ...(body.secret ? {} : { secret }) };
      },
    }),
    route({
      method: 'GET',
      url: '/webhooks/:id',
      summary: 'Read a webhook subscription and its last deliveries',
      tag: 'webhooks',
      scope: 'webhooks:write',
      params: idParams,
      response: webhookView,
      handler: async ({ params }) => {
        const { secret, sub } = find(params.id);
        return view(secret, sub);
      },
    }),
    secretDeletion(ctx, 'webhooks', {
      summary: 'Delete a webhook subscription',
      params: idParams,
      reach: (id) => find(id).sub,
      secretName: webhookSecretName,
      what: 'webhook',
    }),
  ];
}
