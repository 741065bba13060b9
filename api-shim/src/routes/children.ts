// The kinds that belong to a Project (Session, Checkout, WorkItem, Feature) share four routes: list and
// create under /projects/{project}/…, read and delete by name under /….
import { z } from 'zod';
import { PROJECTS } from '../../../operator/src/api/resources.ts';
import { isNotFound } from '../../../operator/src/runtime/client.ts';
import { requireProject } from '../auth/access.ts';
import type { Kind } from '../cache.ts';
import { forbidden, notFound } from '../http/errors.ts';
import { type Route, route } from '../http/route.ts';
import { sent, validate } from '../http/validate.ts';
import type { ShimContext } from './context.ts';
import {
  cached,
  createObject,
  deleteObject,
  deletion,
  KIND_API,
  labels,
  listQuery,
  namespaceFor,
  namespaceQuery,
  objectName,
  pageOf,
  present,
  presented,
  projectName,
  specWithout,
  visible,
} from './objects.ts';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const idParams = z.object({ id: objectName });

/** The Project must exist: from the cache, or (just created, not yet cached) from the API server. */
async function requireProjectExists(ctx: ShimContext, namespace: string, project: string): Promise<void> {
  if (ctx.cache.kinds.Project.store.get(`${namespace}/${project}`)) return;
  await ctx.client.get(PROJECTS, namespace, project).catch((err) => {
    throw isNotFound(err) ? notFound(`Project ${namespace}/${project}`) : err;
  });
}

const DEFAULT_MAX_OBJECTS_PER_PROJECT = 1000;

/**
 * Refuses (403) to create an object of `kind` for a Project that has --max-objects-per-project of
 * them already (as the cache sees them): a key may not fill etcd, nor the queue, without bound.
 */
function requireRoom(ctx: ShimContext, kind: Exclude<Kind, 'Project'>, namespace: string, project: string) {
  const max = ctx.config.maxObjectsPerProject ?? DEFAULT_MAX_OBJECTS_PER_PROJECT;
  const count = ctx.cache.kinds[kind].store
    .list()
    .filter((o) => o.metadata.namespace === namespace && o.spec.projectRef.name === project).length;
  if (count >= max) {
    throw forbidden(
      `the Project ${namespace}/${project} has ${count} ${kind}s, the most the shim creates (--max-objects-per-project=${max}); delete finished ones first`,
    );
  }
}

/**
 * The shared routes of `kind`, under `collection` (/projects/{p}/<collection>, /<collection>/{id},
 * also the routes' tag); the scopes that read and write it are those of KIND_API. `reserved`:
 * spec fields a create may not set, each with what sets them instead (spec.projectRef always:
 * the path does).
 */
export function childRoutes(
  ctx: ShimContext,
  kind: Exclude<Kind, 'Project'>,
  collection: string,
  reserved: Record<string, string> = {},
): Route[] {
  const setElsewhere: Record<string, string> = { projectRef: 'set by the path', ...reserved };
  const api = KIND_API[kind];
  const view = presented(kind);
  // What a client sends: the spec without its projectRef, which the path gives, nor the reserved fields.
  const newSpec = specWithout(
    api.spec,
    Object.fromEntries(Object.entries(setElsewhere).map(([field, why]) => [field, `${why}: leave it out`])),
  );
  // Optional when a spec of nothing but the projectRef is one.
  const specOptional = api.spec.safeParse({ projectRef: { name: 'x' } }).success;
  // The routes on a Project's objects of the kind, and those on one of them by name.
  const ofProject = {
    url: `/projects/:project/${collection}`,
    tag: collection,
    params: z.object({ project: projectName }),
  };
  const byName = { url: `/${collection}/:id`, tag: collection, params: idParams, query: namespaceQuery };
  return [
    route({
      method: 'GET',
      ...ofProject,
      summary: `List the ${kind}s of a Project`,
      scope: api.read,
      query: listQuery,
      response: z.array(view),
      handler: async ({ params, query, principal }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        requireProject(principal.key, namespace, params.project);
        await requireProjectExists(ctx, namespace, params.project);
        return pageOf(
          kind,
          visible(ctx.cache, principal.key, kind, { namespace, project: params.project }),
          query,
        );
      },
    }),
    route({
      method: 'POST',
      ...ofProject,
      summary: `Create a ${kind} of a Project (spec.projectRef comes from the path; no name: one is generated)`,
      scope: api.write,
      query: namespaceQuery,
      body: z.object({
        name: objectName.optional(),
        labels: labels.optional(),
        spec: specOptional ? newSpec.optional() : newSpec,
      }),
      response: view,
      status: 201,
      handler: async ({ params, query, body, principal, request }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        requireProject(principal.key, namespace, params.project);
        // The spec as sent, not as parsed: defaults are the API server's and the operator's to fill.
        const sentSpec = sent(request.body, 'spec');
        const spec = { ...(isRecord(sentSpec) ? sentSpec : {}), projectRef: { name: params.project } };
        validate(api.spec, spec, 'body.spec');
        await requireProjectExists(ctx, namespace, params.project);
        requireRoom(ctx, kind, namespace, params.project);
        const created = await createObject(
          ctx,
          principal.key,
          kind,
          { namespace, name: body.name, generateName: `${params.project}-`, labels: body.labels },
          spec,
        );
        return present(kind, created);
      },
    }),
    route({
      method: 'GET',
      ...byName,
      summary: `Read a ${kind}`,
      scope: api.read,
      response: view,
      handler: async ({ params, query, principal }) =>
        present(
          kind,
          cached(
            ctx.cache,
            principal.key,
            kind,
            namespaceFor(ctx, principal.key, query.namespace),
            params.id,
          ),
        ),
    }),
    route({
      method: 'DELETE',
      ...byName,
      summary: `Delete a ${kind}`,
      scope: api.write,
      status: 202,
      response: deletion,
      handler: async ({ params, query, principal }) =>
        deleteObject(ctx, principal.key, kind, namespaceFor(ctx, principal.key, query.namespace), params.id),
    }),
  ];
}
