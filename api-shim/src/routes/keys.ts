// /keys: API keys. A key is shown once, when it is made; afterwards only its hash exists. A key
// can hand on no more than it holds: scopes it has, namespaces and projects it reaches, client
// addresses it is accepted from, and time it has left.
import { z } from 'zod';
import { DURATION_PATTERN, durationMs, parseDuration } from '../../../operator/src/api/v1alpha1/duration.ts';
import { SECRETS } from '../../../operator/src/runtime/resources.ts';
import { requireNoWider, within } from '../auth/access.ts';
import { hasScope, SCOPES } from '../auth/scopes.ts';
import { HttpError, invalid, notFound } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { setOf } from '../http/schemas.ts';
import {
  type ApiKey,
  apiKeySecret,
  generateKey,
  generateKeyId,
  hashKey,
  isCidr,
  keySecretName,
  publicKey,
} from '../keys/api-key.ts';
import { BOOTSTRAP_KEY_ID } from '../keys/key-store.ts';
import type { ShimContext } from './context.ts';
import { projectName } from './objects.ts';
import { secretDeletion } from './own-secrets.ts';

const keyView = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  namespaces: z.array(z.string()),
  projects: z.array(z.string()),
  cidrs: z.array(z.string()),
  expiresAt: z.string().optional(),
  createdAt: z.string().optional(),
  lastUsedAt: z.string().optional(),
  createdBy: z.string().optional(),
});
const idParams = z.object({ id: z.string().regex(/^[a-z0-9]{1,32}$/, 'not a key id') });

export const createKeyBody = z.object({
  name: z.string().min(1).max(63).describe('what the key is for'),
  scopes: setOf(z.enum(SCOPES)).min(1).max(SCOPES.length),
  namespaces: setOf(projectName)
    .max(100)
    .default([])
    .describe('namespaces it reaches (empty: all the creator reaches)'),
  projects: setOf(projectName).max(1000).default([]).describe('projects it reaches (empty: all)'),
  cidrs: setOf(z.string().max(64).refine(isCidr, 'not a CIDR'))
    .max(100)
    .default([])
    .describe('client addresses it is accepted from (empty: any); within the creator’s'),
  expiresAt: z.iso
    .datetime({ offset: true })
    // Checked when the request arrives: a key expired on its first use is a mistake, not a key.
    .refine((t) => Date.parse(t) > Date.now(), 'in the past: a key must expire later than now')
    .optional()
    .describe('when it stops working; no later than the creator’s expiry'),
  expiresIn: z
    .string()
    .max(32)
    .regex(new RegExp(DURATION_PATTERN), 'not a duration such as 720h or 30m')
    .refine((d) => (parseDuration(d) ?? 1) > 0, 'must be longer than zero')
    .optional()
    .describe('or: how long it works from now'),
});

export function keyRoutes(ctx: ShimContext) {
  /**
   * Which keys a key sees: an admin key, all of them (the bootstrap key included); any other, itself
   * and the keys it made, and the keys those made, as far as they lie within its own namespaces
   * and projects. Keys made by others are not its business, not even their names.
   */
  const sees = (viewer: ApiKey, key: ApiKey) =>
    hasScope(viewer.scopes, 'admin') ||
    ((key.id === viewer.id || ctx.keys.madeBy(key, viewer.id)) && within(viewer, key));
  const find = (id: string, viewer: ApiKey) => {
    const key = ctx.keys.get(id);
    if (!key || !sees(viewer, key)) throw notFound(`API key ${id}`);
    return key;
  };
  return [
    route({
      method: 'GET',
      url: '/keys',
      summary: 'List the API keys (never the keys themselves)',
      tag: 'keys',
      scope: 'keys:read',
      response: z.array(keyView),
      handler: async ({ principal }) =>
        ctx.keys
          .list()
          .filter((k) => sees(principal.key, k))
          .map(publicKey),
    }),
    route({
      method: 'POST',
      url: '/keys',
      summary: 'Create an API key; the answer holds the key, shown this once',
      tag: 'keys',
      scope: 'keys:write',
      body: createKeyBody,
      status: 201,
      response: keyView.extend({ key: z.string() }),
      handler: async ({ body, principal }) => {
        if (body.expiresAt && body.expiresIn) {
          throw invalid('give expiresAt or expiresIn, not both', [
            { path: 'body.expiresIn', message: 'give expiresAt or expiresIn, not both' },
          ]);
        }
        const namespaces = body.namespaces.length ? body.namespaces : principal.key.namespaces;
        const projects = body.projects.length ? body.projects : principal.key.projects;
        const expiresAt =
          body.expiresAt ??
          (body.expiresIn ? new Date(Date.now() + durationMs(body.expiresIn)).toISOString() : undefined);
        requireNoWider(principal.key, {
          scopes: body.scopes,
          namespaces,
          projects,
          cidrs: body.cidrs,
          expiresAt,
        });
        const key = generateKey();
        const record = {
          id: generateKeyId(),
          name: body.name,
          hash: hashKey(key),
          scopes: body.scopes,
          namespaces,
          projects,
          cidrs: body.cidrs,
          expiresAt,
          createdBy: principal.key.id,
        };
        const secret = await ctx.client.create(SECRETS, apiKeySecret(ctx.config.namespace, record));
        return { key, ...publicKey({ ...record, createdAt: secret.metadata.creationTimestamp }) };
      },
    }),
    route({
      method: 'GET',
      url: '/keys/:id',
      summary: 'Read an API key’s settings and last use',
      tag: 'keys',
      scope: 'keys:read',
      params: idParams,
      response: keyView,
      handler: async ({ params, principal }) => publicKey(find(params.id, principal.key)),
    }),
    secretDeletion(ctx, 'keys', {
      summary: 'Revoke an API key (it stops working within a second)',
      params: idParams,
      // Revoking takes power away: the revoker must reach as far as the key, but its own client
      // addresses and expiry need not cover the key's (a short-lived key may revoke a long-lived one).
      reach: (id, caller) => {
        const { scopes, namespaces, projects } = find(id, caller);
        if (id === BOOTSTRAP_KEY_ID) {
          throw new HttpError(
            409,
            'the bootstrap key is revoked by deleting its Secret (--bootstrap-key-secret) or unsetting $RDEV_BOOTSTRAP_KEY',
          );
        }
        return { scopes, namespaces, projects };
      },
      secretName: keySecretName,
      // The keys it made go first, deepest first; were this cut short, they are refused all the
      // same while their creator's Secret is gone (see KeyStore.standing).
      cascade: (id) => ctx.keys.descendants(id).map((k) => k.id),
      what: 'API key',
    }),
  ];
}
