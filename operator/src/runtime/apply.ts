// Server-side apply and owner references: the controller states the fields it owns, the API
// server merges them, and a controller ownerReference lets the garbage collector remove
// children with their owner.
import {
  apiVersionOf,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type Live,
  type Manifest,
  type OwnerReference,
  type Resource,
} from './client.ts';

/** What can carry a controller reference: any object, built or read. */
type Ownable = Manifest & { metadata?: { ownerReferences?: OwnerReference[] } };

export interface ApplyOptions {
  fieldManager: string;
  /** Take over fields another manager owns (controllers do: they are the authority). */
  force?: boolean;
  dryRun?: boolean;
}

/** Server-side applies `obj` (its apiVersion and kind default to the resource's); returns the result. */
export function applyObject<T extends Manifest>(
  client: KubeClient,
  resource: Resource,
  obj: T,
  options: ApplyOptions,
): Promise<Live<T>> {
  const { name, namespace } = obj.metadata ?? {};
  if (!name) throw new Error(`cannot apply a ${resource.kind} without metadata.name`);
  return client.patch<Live<T>>(resource, namespace, name, withTypeMeta(resource, obj), 'apply', {
    fieldManager: options.fieldManager,
    force: options.force ?? true,
    dryRun: options.dryRun ? 'All' : undefined,
  });
}

/** Server-side applies the status subresource: only `status` of `obj` is sent. */
export function applyStatus<T extends KubeObject>(
  client: KubeClient,
  resource: Resource,
  obj: Pick<KubeObject, 'metadata'> & { status: unknown },
  options: ApplyOptions,
): Promise<T> {
  const body = {
    apiVersion: apiVersionOf(resource),
    kind: resource.kind,
    metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace },
    status: obj.status,
  };
  return client.patch<T>(
    resource,
    obj.metadata.namespace,
    obj.metadata.name,
    body,
    'apply',
    { fieldManager: options.fieldManager, force: options.force ?? true },
    'status',
  );
}

function withTypeMeta<T extends Manifest>(resource: Resource, obj: T): T {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(resource), kind: obj.kind ?? resource.kind };
}

export class AlreadyOwnedError extends Error {
  constructor(child: Manifest, owner: OwnerReference) {
    super(
      `${child.kind ?? 'object'} ${child.metadata?.name} is already controlled by ${owner.kind} ${owner.name}`,
    );
    this.name = 'AlreadyOwnedError';
  }
}

/**
 * An object of a child's name exists and is not controlled by the owner: applying would take it
 * over (server-side apply with force), so it is left alone and the owner says why.
 */
export class ChildNameTakenError extends Error {
  readonly reason = 'ChildNameTaken';

  constructor(kind: string, name: string, ownerKind: string, controller: OwnerReference | undefined) {
    super(
      `${kind} ${name} already exists and is not controlled by this ${ownerKind}` +
        `${controller ? ` (its controller is ${controller.kind} ${controller.name})` : ''}; ` +
        'rdev does not take it over: delete or rename it',
    );
    this.name = 'ChildNameTakenError';
  }
}

/**
 * Server-side applies a child that carries its owner's controller reference, unless an object of
 * its name exists that the owner does not control (ChildNameTakenError). `current` is what a
 * cache holds of it; a cache that does not hold it (filtered, or behind) is checked by a GET.
 */
export async function applyChild<T extends Manifest>(
  client: KubeClient,
  resource: Resource,
  child: T & { metadata?: { ownerReferences?: OwnerReference[] } },
  options: ApplyOptions & { current?: Ownable },
): Promise<Live<T>> {
  const owner = controllerOf(child);
  if (!owner) throw new Error(`${resource.kind} ${child.metadata?.name} has no controller reference`);
  const { name, namespace } = child.metadata ?? {};
  let existing = options.current;
  if (!existing && name) {
    // From the API server's watch cache (resourceVersion 0), not a quorum read of etcd: as fresh
    // as the caller's own cache, which had no such object, and far cheaper in a burst.
    existing = await client
      .get<KubeObject>(resource, namespace, name, { resourceVersion: '0' })
      .catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
  }
  if (existing && controllerOf(existing)?.uid !== owner.uid)
    throw new ChildNameTakenError(resource.kind, name ?? '', owner.kind, controllerOf(existing));
  return applyObject(client, resource, child, options);
}

/** The controller owner reference of `obj`, if any. */
export function controllerOf(obj: Ownable): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((o) => o.controller);
}

/**
 * Returns `child` with a controller reference to `owner` (blockOwnerDeletion, so foreground
 * deletion waits for it). Refuses a child that another object already controls.
 */
export function setControllerReference<T extends Ownable>(
  owner: KubeObject & { apiVersion: string; kind: string },
  child: T,
): T {
  const uid = owner.metadata.uid;
  if (!uid) throw new Error(`owner ${owner.kind} ${owner.metadata.name} has no uid yet`);
  const existing = controllerOf(child);
  if (existing && existing.uid !== uid) throw new AlreadyOwnedError(child, existing);
  const ref: OwnerReference = {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  const others = (child.metadata?.ownerReferences ?? []).filter((o) => o.uid !== uid);
  return { ...child, metadata: { ...child.metadata, ownerReferences: [...others, ref] } };
}
