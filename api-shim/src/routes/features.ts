// /features: the shared child routes, and the human decisions on a Feature's artifacts —
// approve and reject (bound to the artifact's current digest) and waive. Each appends to the
// Feature's spec with a write conditional on the resourceVersion it read, retried on a conflict,
// so that decisions made at the same time are all kept; a decision already recorded is not
// written again. Who decided is the API key (decidedBy); a create may not set decisions itself.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { FEATURES } from '../../../operator/src/api/resources.ts';
import type { LiveFeature } from '../../../operator/src/api/v1alpha1/index.ts';
import { isConflict, isNotFound } from '../../../operator/src/runtime/client.ts';
import { PARSE } from '../cache.ts';
import {
  artifactField,
  type DecisionList,
  decidedBy,
  decisionReasonField,
  digestField,
  digestMismatch,
  waiverReasonField,
  withDecision,
  withWaiver,
} from '../features/decisions.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { type Route, route } from '../http/route.ts';
import type { ApiKey } from '../keys/api-key.ts';
import { childRoutes, idParams } from './children.ts';
import type { ShimContext } from './context.ts';
import { namespaceFor, namespaceQuery, patchObject, present, presented, requireSeen } from './objects.ts';

/**
 * Writes of a Feature's spec tried before a 409. Each conflict means someone else's write went
 * through meanwhile, so n decisions made at once all land within n attempts; the short random
 * wait between attempts keeps them from colliding in step.
 */
export const CAS_ATTEMPTS = 8;
const CAS_BACKOFF_MS = 20;

const decisionBody = z.object({
  artifact: artifactField,
  digest: digestField.describe('the git blob SHA of the artifact as judged: its current digest'),
  reason: decisionReasonField,
});
const waiverBody = z.object({ artifact: artifactField, reason: waiverReasonField });

/** The Feature as the API server holds it now (not the cache: a decision is checked against the latest). */
async function latest(ctx: ShimContext, key: ApiKey, namespace: string, name: string): Promise<LiveFeature> {
  const feature = PARSE.Feature(
    await ctx.client.get(FEATURES, namespace, name).catch((err) => {
      throw isNotFound(err) ? notFound(`Feature ${namespace}/${name}`) : err;
    }),
  );
  requireSeen(key, 'Feature', namespace, name, feature);
  return feature;
}

/**
 * Changes a Feature's spec: `change` is given the latest Feature and returns the spec fields to
 * write (a merge patch), or undefined when there is nothing to write; the write holds only if
 * nobody wrote the Feature since it was read, else it is read and tried again.
 */
export async function changeSpec(
  ctx: ShimContext,
  key: ApiKey,
  namespace: string,
  name: string,
  change: (feature: LiveFeature) => Record<string, unknown> | undefined,
): Promise<LiveFeature> {
  for (let attempt = 1; ; attempt++) {
    const feature = await latest(ctx, key, namespace, name);
    const spec = change(feature);
    if (!spec) return feature;
    try {
      return await patchObject(ctx, key, 'Feature', namespace, name, {
        spec,
        metadata: { resourceVersion: feature.metadata.resourceVersion },
      });
    } catch (err) {
      if (!isConflict(err)) throw err;
      if (attempt >= CAS_ATTEMPTS) {
        throw new HttpError(
          409,
          `Feature ${namespace}/${name} changed ${attempt} times while this was being written: try again`,
        );
      }
      await sleep(Math.random() * CAS_BACKOFF_MS * attempt);
    }
  }
}

const decisionRoute = (ctx: ShimContext, verb: 'approve' | 'reject', list: DecisionList): Route =>
  route({
    method: 'POST',
    url: `/features/:id/${verb}`,
    summary:
      verb === 'approve'
        ? 'Approve an artifact of a Feature at its current digest (appended to spec.approvals, by the key; the same approval again changes nothing)'
        : 'Reject an artifact of a Feature at its current digest (appended to spec.rejections, by the key; the same rejection again changes nothing)',
    tag: 'features',
    scope: 'features:write',
    params: idParams,
    query: namespaceQuery,
    body: decisionBody,
    response: presented('Feature'),
    // The digest is not the artifact's current one (or it does not exist yet), or the Feature
    // kept changing while the decision was being written.
    errors: [409],
    handler: async ({ params, query, body, principal }) => {
      const namespace = namespaceFor(ctx, principal.key, query.namespace);
      const entry = {
        artifact: body.artifact,
        digest: body.digest,
        by: decidedBy(principal.key),
        ...(body.reason ? { reason: body.reason } : {}),
      };
      const feature = await changeSpec(ctx, principal.key, namespace, params.id, (current) => {
        const why = digestMismatch(current, body.artifact, body.digest);
        if (why) throw new HttpError(409, `Feature ${namespace}/${params.id}: ${why}`);
        const next = withDecision(current.spec[list], entry);
        return next && { [list]: next };
      });
      return present('Feature', feature);
    },
  });

export function featureRoutes(ctx: ShimContext): Route[] {
  const decided = 'recorded by POST /features/{id}/approve, /reject or /waive';
  return [
    ...childRoutes(ctx, 'Feature', 'features', {
      approvals: decided,
      rejections: decided,
      waivers: decided,
    }),
    decisionRoute(ctx, 'approve', 'approvals'),
    decisionRoute(ctx, 'reject', 'rejections'),
    route({
      method: 'POST',
      url: '/features/:id/waive',
      summary:
        'Waive an artifact of a Feature: satisfied without being written or approved (appended to spec.waivers, by the key; once per artifact)',
      tag: 'features',
      scope: 'features:write',
      params: idParams,
      query: namespaceQuery,
      body: waiverBody,
      response: presented('Feature'),
      // The Feature kept changing while the waiver was being written.
      errors: [409],
      handler: async ({ params, query, body, principal }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        const entry = { artifact: body.artifact, by: decidedBy(principal.key), reason: body.reason };
        const feature = await changeSpec(ctx, principal.key, namespace, params.id, (current) => {
          const next = withWaiver(current.spec.waivers, entry);
          return next && { waivers: next };
        });
        return present('Feature', feature);
      },
    }),
  ];
}
