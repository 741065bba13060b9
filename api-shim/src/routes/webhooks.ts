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
import { requireNoWider, within } from '../auth/access.ts';
import { hasScope } from '../auth/scopes.ts';
import { KINDS } from '../cache.ts';
import { forbidden, invalid, notFound } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { setOf } from '../http/schemas.ts';
import { type ApiKey, keySecretName, type SecretObject } from '../keys/api-key.ts';
import type { ShimContext } from './context.ts';
import { KIND_API, projectName } from './objects.ts';
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

/**
 * A URL as the API shows it: without credentials — no userinfo, and every query parameter's
 * value replaced by "…" (tokens are often passed there) — so a subscription's URL can be read
 * back without handing out what it carries.
 */
export function redactedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '…';
  }
  parsed.username = '';
  parsed.password = '';
  const query = [...parsed.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=…`).join('&');
  parsed.search = '';
  parsed.hash = '';
  return `${parsed.toString()}${query ? `?${query}` : ''}`;
}

/**
 * The read scopes a subscription to `events` needs: that of each kind it names (`*` names them
 * all), since a delivery carries the object's spec and status.
 */
export function scopesForEvents(events: readonly string[]) {
  const kinds = new Set(
    events.flatMap((e) => {
      const kind = e === '*' ? undefined : e.split('.')[0];
      return KINDS.filter((k) => kind === undefined || k.toLowerCase() === kind);
    }),
  );
  return [...new Set([...kinds].map((k) => KIND_API[k].read))];
}

function view(secret: Pick<SecretObject, 'metadata'>, sub: Subscription) {
  const annotations = secret.metadata.annotations ?? {};
  return {
    id: sub.id,
    url: redactedUrl(sub.url),
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
  /**
   * Which subscriptions a key sees: an admin key, all; any other, those it or a key it made (and
   * so on) created, as far as they lie within its own namespaces and projects.
   */
  const sees = (viewer: ApiKey, secret: SecretObject, sub: Subscription) => {
    if (hasScope(viewer.scopes, 'admin')) return true;
    const creator = secret.metadata.annotations?.[CREATED_BY_KEY_ANNOTATION];
    if (!creator) return false;
    const maker = ctx.keys.get(creator);
    const made = creator === viewer.id || (maker !== undefined && ctx.keys.madeBy(maker, viewer.id));
    return made && within(viewer, sub);
  };
  const find = (id: string, viewer: ApiKey) => {
    const found = subscriptions().find((s) => s.sub.id === id);
    if (!found || !sees(viewer, found.secret, found.sub)) throw notFound(`webhook ${id}`);
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
      handler: async ({ principal }) =>
        subscriptions()
          .filter(({ secret, sub }) => sees(principal.key, secret, sub))
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
        for (const scope of scopesForEvents(body.events)) {
          if (!hasScope(principal.key.scopes, scope)) {
            throw forbidden(
              `the API key ${principal.key.id} lacks the scope ${scope}: a subscription to ${body.events.join(', ')} delivers objects that scope reads`,
            );
          }
        }
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
            ...(principal.key.secretUid
              ? { keySecret: { name: keySecretName(principal.key.id), uid: principal.key.secretUid } }
              : {}),
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
      handler: async ({ params, principal }) => {
        const { secret, sub } = find(params.id, principal.key);
        return view(secret, sub);
      },
    }),
    secretDeletion(ctx, 'webhooks', {
      summary: 'Delete a webhook subscription',
      params: idParams,
      reach: (id, caller) => find(id, caller).sub,
      secretName: webhookSecretName,
      what: 'webhook',
    }),
  ];
}
