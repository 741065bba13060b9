// What every resource route shares: names in paths, the presented form of an object, reading
// from the cache with the key's reach checked, and writes annotated with the key that made them.
import { z } from 'zod';
import {
  API_VERSION,
  checkoutSpec,
  checkoutStatus,
  featureSpec,
  featureStatus,
  projectSpec,
  projectStatus,
  sessionSpec,
  sessionStatus,
  workItemSpec,
  workItemStatus,
} from '../../../operator/src/api/v1alpha1/index.ts';
import { isNotFound } from '../../../operator/src/runtime/client.ts';
import {
  canReachNamespace,
  canReachProject,
  requestNamespace,
  requireProject,
  requireWritableNamespace,
} from '../auth/access.ts';
import type { Scope } from '../auth/scopes.ts';
import type { Kind, KindObjects, RdevObject, ShimCache } from '../cache.ts';
import { KIND_RESOURCES, PARSE } from '../cache.ts';
import { notFound } from '../http/errors.ts';
import { Page, pageQuery, paginate } from '../http/page.ts';
import { named } from '../http/schemas.ts';
import type { ApiKey } from '../keys/api-key.ts';
import type { ShimContext } from './context.ts';

export const CREATED_BY_ANNOTATION = 'rdev.dev/created-by-key';
export const UPDATED_BY_ANNOTATION = 'rdev.dev/updated-by-key';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const projectName = z
  .string()
  .max(63)
  .regex(DNS_LABEL, 'must be a DNS label: lower-case letters, digits and "-", at most 63')
  .describe('Project name');
export const objectName = z
  .string()
  .max(253)
  .regex(SUBDOMAIN, 'must be a DNS subdomain: lower-case letters, digits, "-" and "."')
  .describe('object name');
export const namespaceQuery = z.object({
  namespace: projectName.optional().describe('namespace (default: the key’s only one, else the shim’s)'),
});
/** The namespace a request means: ?namespace=, else the key's only one, else the shim's default. */
export const namespaceFor = (ctx: ShimContext, key: ApiKey, asked?: string) =>
  requestNamespace(key, asked, ctx.config.defaultNamespace);

/** A list's query: the namespace, and paging. */
export const listQuery = namespaceQuery.extend(pageQuery);

/** The page of `objects` (sorted by namespace and name) that `query` asks for, presented. */
export function pageOf(kind: Kind, objects: RdevObject[], query: { limit?: number; continue?: string }) {
  const { items, next } = paginate(objects, (o) => `${o.metadata.namespace}/${o.metadata.name}`, query);
  return new Page(
    items.map((o) => present(kind, o)),
    next,
  );
}

export const labels = z
  .record(
    z
      .string()
      .max(316)
      .regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'not a label key'),
    z
      .string()
      .max(63)
      .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'not a label value'),
  )
  .describe('labels of the object');

/** The project an object belongs to: a Project is its own. */
export const projectOf = (obj: RdevObject): string =>
  obj.kind === 'Project' ? obj.metadata.name : obj.spec.projectRef.name;

/** An object as the API shows it. */
export function present(kind: Kind, obj: RdevObject) {
  const m = obj.metadata;
  return {
    kind,
    name: m.name,
    namespace: m.namespace ?? '',
    project: projectOf(obj),
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    generation: m.generation,
    createdAt: m.creationTimestamp,
    deletingSince: m.deletionTimestamp,
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
    spec: obj.spec,
    status: obj.status ?? {},
  };
}

/**
 * How the API serves each kind: its spec and status (what writes are validated against, what
 * answers show) and the scopes that read and write it.
 */
export const KIND_API: Record<Kind, { spec: z.ZodType; status: z.ZodType; read: Scope; write: Scope }> = {
  Project: {
    ...schemasOf('Project', projectSpec, projectStatus),
    read: 'projects:read',
    write: 'projects:write',
  },
  Session: {
    ...schemasOf('Session', sessionSpec, sessionStatus),
    read: 'sessions:read',
    write: 'sessions:execute',
  },
  Checkout: {
    ...schemasOf('Checkout', checkoutSpec, checkoutStatus),
    read: 'projects:read',
    write: 'projects:execute',
  },
  WorkItem: {
    ...schemasOf('WorkItem', workItemSpec, workItemStatus),
    read: 'work:read',
    write: 'work:write',
  },
  Feature: {
    ...schemasOf('Feature', featureSpec, featureStatus),
    read: 'features:read',
    write: 'features:write',
  },
};

/** A kind's spec and status, named for the OpenAPI document (<Kind>Spec, <Kind>Status). */
function schemasOf(kind: Kind, spec: z.ZodType, status: z.ZodType) {
  return { spec: named(`${kind}Spec`, spec), status: named(`${kind}Status`, status) };
}

/**
 * A spec without the fields of `fields` (its rules kept: none may read them), which are set
 * otherwise: there, any value sent for one is refused with what `fields` says of it.
 */
export function specWithout(spec: z.ZodType, fields: Record<string, string>): z.ZodType {
  const names = Object.keys(fields).join(', ');
  if (!(spec instanceof z.ZodObject)) throw new TypeError(`a spec with ${names} must be an object`);
  const checks = (spec._zod.def.checks ?? []) as unknown as z.core.$ZodCheck<Record<string, unknown>>[];
  const refused = Object.fromEntries(
    Object.entries(fields).map(([field, why]) => [field, z.never({ error: why }).optional().describe(why)]),
  );
  return z
    .object({ ...spec.shape, ...refused })
    .check(...checks)
    .meta(spec.meta() ?? {});
}

/** An object of `kind` as the API shows it (the schema of what present() returns). */
export const presented = (kind: Kind) =>
  named(
    kind,
    z.object({
      kind: z.string(),
      name: z.string(),
      namespace: z.string(),
      project: z.string().optional(),
      uid: z.string().optional(),
      resourceVersion: z.string().optional(),
      generation: z.number().optional(),
      createdAt: z.string().optional(),
      deletingSince: z.string().optional(),
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()),
      spec: KIND_API[kind].spec,
      status: KIND_API[kind].status,
    }),
  );

// Plain code-unit order: names are ASCII, and localeCompare would cost more than the rest of a list.
const byNamespaceAndName = (a: RdevObject, b: RdevObject): number => {
  const [x, y] = [`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`];
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * Checks that the key reaches an object the request named by namespace and name: a namespace it
 * does not reach is a 403 (the caller named it); an object of a project it does not reach is a
 * 404, like one that does not exist, so that its existence and project are not given away.
 */
export function requireSeen(key: ApiKey, kind: Kind, namespace: string, name: string, obj: RdevObject): void {
  if (!canReachNamespace(key, namespace)) requireProject(key, namespace, projectOf(obj));
  if (!canReachProject(key, namespace, projectOf(obj))) throw notFound(`${kind} ${namespace}/${name}`);
}

/** A cached object the key may see, or 404/403. */
export function cached<K extends Kind>(
  cache: ShimCache,
  key: ApiKey,
  kind: K,
  namespace: string,
  name: string,
): KindObjects[K] {
  const obj = cache.kinds[kind].store.get(`${namespace}/${name}`);
  if (!obj) throw notFound(`${kind} ${namespace}/${name}`);
  requireSeen(key, kind, namespace, name, obj);
  return obj;
}

/**
 * The object a write acts on, with the key's reach checked: from the cache, or, when the cache
 * does not show it yet (a client that just created it), from the API server. Reads are served
 * from the cache; a write must not answer 404 for what its caller made a moment ago.
 */
export async function current<K extends Kind>(
  ctx: ShimContext,
  key: ApiKey,
  kind: K,
  namespace: string,
  name: string,
): Promise<KindObjects[K]> {
  const hit = ctx.cache.kinds[kind].store.get(`${namespace}/${name}`);
  const obj =
    hit ??
    PARSE[kind](
      await ctx.client.get(KIND_RESOURCES[kind], namespace, name).catch((err) => {
        throw isNotFound(err) ? notFound(`${kind} ${namespace}/${name}`) : err;
      }),
    );
  requireSeen(key, kind, namespace, name, obj);
  return obj;
}

/** The cached objects of `kind` the key may see, optionally of one namespace and project. */
export function visible<K extends Kind>(
  cache: ShimCache,
  key: ApiKey,
  kind: K,
  filter: { namespace?: string; project?: string } = {},
): KindObjects[K][] {
  return cache.kinds[kind].store
    .list()
    .filter((o) => {
      const ns = o.metadata.namespace;
      const project = projectOf(o);
      return (
        (!filter.namespace || ns === filter.namespace) &&
        (!filter.project || project === filter.project) &&
        canReachProject(key, ns, project)
      );
    })
    .sort(byNamespaceAndName);
}

/**
 * Creates an object, annotated with the key; `name` unset: the API server picks one from
 * `generateName`. Resolves with the object as stored (parsed, like the cache's).
 */
export async function createObject<K extends Kind>(
  ctx: ShimContext,
  key: ApiKey,
  kind: K,
  target: { namespace: string; name?: string; generateName?: string; labels?: Record<string, string> },
  spec: unknown,
): Promise<KindObjects[K]> {
  requireWritableNamespace(ctx.config, target.namespace);
  const created = await ctx.client.create(
    KIND_RESOURCES[kind],
    {
      apiVersion: API_VERSION,
      kind,
      metadata: {
        ...(target.name ? { name: target.name } : { generateName: target.generateName }),
        namespace: target.namespace,
        labels: target.labels,
        annotations: { [CREATED_BY_ANNOTATION]: key.id },
      },
      spec,
    },
    { fieldManager: 'rdev-shim' },
  );
  return PARSE[kind](created);
}

/**
 * A JSON merge patch of an object, annotated with the key; resolves with the object as stored.
 * With metadata.resourceVersion, the API server applies it only to that version (409 otherwise).
 */
export async function patchObject<K extends Kind>(
  ctx: ShimContext,
  key: ApiKey,
  kind: K,
  namespace: string,
  name: string,
  patch: {
    spec?: Record<string, unknown>;
    metadata?: { labels?: Record<string, string | null>; resourceVersion?: string };
  },
): Promise<KindObjects[K]> {
  requireWritableNamespace(ctx.config, namespace);
  const metadata = { ...patch.metadata, annotations: { [UPDATED_BY_ANNOTATION]: key.id } };
  const patched = await ctx.client.patch(
    KIND_RESOURCES[kind],
    namespace,
    name,
    { ...patch, metadata },
    'merge',
    {
      fieldManager: 'rdev-shim',
    },
  );
  return PARSE[kind](patched);
}

/** What a DELETE answers: the object's coordinates, and that its deletion has begun. */
export const deletion = z.object({ name: z.string(), namespace: z.string(), deleting: z.boolean() });

/** Deletes a cached object the key may see (404/403 otherwise); answers as `deletion` says. */
export async function deleteObject(
  ctx: ShimContext,
  key: ApiKey,
  kind: Kind,
  namespace: string,
  name: string,
) {
  requireWritableNamespace(ctx.config, namespace);
  await current(ctx, key, kind, namespace, name);
  await ctx.client.delete(KIND_RESOURCES[kind], namespace, name, { propagationPolicy: 'Background' });
  return { name, namespace, deleting: true };
}
