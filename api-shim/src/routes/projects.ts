// /projects: list, create, get, patch and delete Projects.
import { z } from 'zod';
import { projectSpec } from '../../../operator/src/api/v1alpha1/index.ts';
import { requireNoWider, requireProject, requireWritableNamespace } from '../auth/access.ts';
import { invalid } from '../http/errors.ts';
import { mergePatch } from '../http/merge-patch.ts';
import { route } from '../http/route.ts';
import { sent, validate } from '../http/validate.ts';
import type { ShimContext } from './context.ts';
import {
  cached,
  createObject,
  current,
  deleteObject,
  deletion,
  labels,
  listQuery,
  namespaceFor,
  namespaceQuery,
  pageOf,
  patchObject,
  present,
  presented,
  projectName,
  visible,
} from './objects.ts';
import { requireUsableBy } from './project-secrets.ts';

const projectView = presented('Project');
const projectParams = z.object({ project: projectName });

export function projectRoutes(ctx: ShimContext) {
  return [
    route({
      method: 'GET',
      url: '/projects',
      summary: 'List the Projects the key can see (all its namespaces unless ?namespace= is given)',
      tag: 'projects',
      scope: 'projects:read',
      query: listQuery,
      response: z.array(projectView),
      handler: async ({ query, principal }) =>
        pageOf(
          'Project',
          visible(ctx.cache, principal.key, 'Project', { namespace: query.namespace }),
          query,
        ),
    }),
    route({
      method: 'POST',
      url: '/projects',
      summary: 'Create a Project',
      tag: 'projects',
      scope: 'projects:write',
      query: namespaceQuery,
      body: z.object({ name: projectName, labels: labels.optional(), spec: projectSpec }),
      response: projectView,
      status: 201,
      handler: async ({ query, body, principal, request }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        requireNoWider(principal.key, { namespaces: [namespace], projects: [body.name] });
        // The spec as sent, not as parsed: defaults are the API server's and the operator's to fill.
        const spec = sent(request.body, 'spec');
        requireWritableNamespace(ctx.config, namespace);
        await requireUsableBy(ctx, principal.key, namespace, body.name, spec);
        const created = await createObject(
          ctx,
          principal.key,
          'Project',
          { namespace, name: body.name, labels: body.labels },
          spec,
        );
        return present('Project', created);
      },
    }),
    route({
      method: 'GET',
      url: '/projects/:project',
      summary: 'Read a Project',
      tag: 'projects',
      scope: 'projects:read',
      params: projectParams,
      query: namespaceQuery,
      response: projectView,
      handler: async ({ params, query, principal }) =>
        present(
          'Project',
          cached(
            ctx.cache,
            principal.key,
            'Project',
            namespaceFor(ctx, principal.key, query.namespace),
            params.project,
          ),
        ),
    }),
    route({
      method: 'PATCH',
      url: '/projects/:project',
      summary: 'Change a Project (a JSON merge patch of its labels and spec; null removes a field)',
      tag: 'projects',
      scope: 'projects:write',
      params: projectParams,
      query: namespaceQuery,
      body: z.object({
        labels: z.record(z.string(), z.string().nullable()).optional(),
        spec: z.record(z.string(), z.unknown()).optional(),
      }),
      response: projectView,
      handler: async ({ params, query, body: raw, principal }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        const existing = await current(ctx, principal.key, 'Project', namespace, params.project);
        if (!raw.labels && !raw.spec) {
          throw invalid('nothing to change: give labels or spec', [
            { path: 'body', message: 'give labels or spec' },
          ]);
        }
        if (raw.spec) {
          const merged = mergePatch(existing.spec, raw.spec);
          validate(projectSpec, merged, 'body.spec');
          // Every Secret the patch names is in the merge (a merge patch replaces lists whole), so
          // a cache behind the API server cannot hide one; those it keeps were vetted before, or
          // set through kubectl, whose RBAC is its own boundary.
          requireWritableNamespace(ctx.config, namespace);
          await requireUsableBy(ctx, principal.key, namespace, params.project, merged);
        }
        if (raw.labels) {
          const kept = Object.fromEntries(Object.entries(raw.labels).filter(([, v]) => v !== null));
          validate(labels, kept, 'body.labels');
        }
        const patch = {
          ...(raw.spec ? { spec: raw.spec } : {}),
          ...(raw.labels ? { metadata: { labels: raw.labels } } : {}),
        };
        return present(
          'Project',
          await patchObject(ctx, principal.key, 'Project', namespace, params.project, patch),
        );
      },
    }),
    route({
      method: 'DELETE',
      url: '/projects/:project',
      summary:
        'Delete a Project (its finalizer removes its repository, database, cache and DNS first, per their deletion policies)',
      tag: 'projects',
      scope: 'projects:write',
      params: projectParams,
      query: namespaceQuery,
      status: 202,
      response: deletion,
      handler: async ({ params, query, principal }) => {
        const namespace = namespaceFor(ctx, principal.key, query.namespace);
        requireProject(principal.key, namespace, params.project);
        return deleteObject(ctx, principal.key, 'Project', namespace, params.project);
      },
    }),
  ];
}
