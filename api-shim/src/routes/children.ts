// The kinds that belong to a Project (Session, Checkout, WorkItem) share four routes: list and
// create under /projects/{project}/…, read and delete by name under /….
import { z } from 'zod';
import { PROJECTS } from '../../../operator/src/api/resources.ts';
import { isNotFound } from '../../../operator/src/runtime/client.ts';
import { requireProject } from '../auth/access.ts';
import type { Scope } from '../auth/scopes.ts';
import type { Kind } from '../cache.ts';
import { invalid, notFound } from '../http/errors.ts';
import { type Route, route } from '../http/route.ts';
import { validate } from '../http/validate.ts';
import type { ShimContext } from './context.ts';
import {
  cached,
  createObject,
  current,
  deleteObject,
  labels,
  listQuery,
  namespaceFor,
  namespaceQuery,
  objectName,
  pageOf,
  present,
  presented,
  projectName,
  visible,
} from './objects.ts';

export interface ChildKind {
  kind: Exclude<Kind, 'Project'>;
  /** Path segment: /projects/{p}/<collection>, /<collection>/{id}. */
  collection: string;
  tag: string;
  read: Scope;
  write: Scope;
  spec: z.ZodType;
  status: z.ZodType;
}

export const idParams = z.object({ id: objectName });

/** The Project must exist: from the cache, or (just created, not yet cached) from the API server. */
async function requireProjectExists(ctx: ShimContext, namespace: string, project: string): Promise<void> {
  if (ctx.cache.kinds.Project.store.get(`${namespace}/${project}`)) return;
  await ctx.client.get(PROJECTS, namespace, project).catch((err) => {
    throw isNotFound(err) ? notFound(`Project ${namespace}/${project}`) : err;
  });
}

export function childRoutes(ctx: ShimContext, c: ChildKind): Route[] {
  const view = presented(c.spec, c.status);
  const projectParams = z.object({ project: projectName });
  return [
    route({
      method: 'GET',
      url: `/projects/:project/${c.collection}`,
      summary: `List the ${c.kind}s of a Project`,
      tag: c.tag,
      scope: c.read,
      params: projectParams,
      query: listQuery,
      response: z.array(view),
      handler: async ({ params, query, principal }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        requireProject(principal.key, namespace, params.project);
        return pageOf(
          c.kind,
          visible(ctx.cache, principal.key, c.kind, { namespace, project: params.project }),
          query,
        );
      },
    }),
    route({
      method: 'POST',
      url: `/projects/:project/${c.collection}`,
      summary: `Create a ${c.kind} of a Project (spec.projectRef comes from the path; no name: one is generated)`,
      tag: c.tag,
      scope: c.write,
      params: projectParams,
      query: namespaceQuery,
      body: z.object({
        name: objectName.optional(),
        labels: labels.optional(),
        spec: z.record(z.string(), z.unknown()).optional(),
      }),
      response: view,
      status: 201,
      handler: async ({ params, query, body, principal }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        requireProject(principal.key, namespace, params.project);
        if (body.spec && 'projectRef' in body.spec) {
          throw invalid('body.spec.projectRef: set by the path, leave it out', [
            { path: 'body.spec.projectRef', message: 'set by the path' },
          ]);
        }
        const spec = { ...(body.spec ?? {}), projectRef: { name: params.project } };
        validate(c.spec, spec, 'body.spec');
        await requireProjectExists(ctx, namespace, params.project);
        const created = await createObject(
          ctx.client,
          principal.key,
          c.kind,
          { namespace, name: body.name, generateName: `${params.project}-`, labels: body.labels },
          spec,
        );
        return present(c.kind, created);
      },
    }),
    route({
      method: 'GET',
      url: `/${c.collection}/:id`,
      summary: `Read a ${c.kind}`,
      tag: c.tag,
      scope: c.read,
      params: idParams,
      query: namespaceQuery,
      response: view,
      handler: async ({ params, query, principal }) =>
        present(
          c.kind,
          cached(
            ctx.cache,
            principal.key,
            c.kind,
            namespaceFor(ctx, principal.key, query.namespace),
            params.id,
          ),
        ),
    }),
    route({
      method: 'DELETE',
      url: `/${c.collection}/:id`,
      summary: `Delete a ${c.kind}`,
      tag: c.tag,
      scope: c.write,
      params: idParams,
      query: namespaceQuery,
      status: 202,
      response: z.object({ name: z.string(), namespace: z.string(), deleting: z.boolean() }),
      handler: async ({ params, query, principal }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        await current(ctx, principal.key, c.kind, namespace, params.id);
        await deleteObject(ctx.client, c.kind, namespace, params.id);
        return { name: params.id, namespace, deleting: true };
      },
    }),
  ];
}
