// Server-side apply and owner references: the controller states the fields it owns, the API
// server merges them, and a controller ownerReference lets the garbage collector remove
// children with their owner.
import {
  apiVersionOf,
  type KubeClient,
  type KubeObject,
  type OwnerReference,
  type Resource,
} from './client.ts';

export interface ApplyOptions {
  fieldManager: string;
  /** Take over fields another manager owns (controllers do: they are the authority). */
  force?: boolean;
  dryRun?: boolean;
}

/** Server-side applies `obj` (which must carry apiVersion and kind) and returns the result. */
export function applyObject<T extends KubeObject>(
  client: KubeClient,
  resource: Resource,
  obj: T,
  options: ApplyOptions,
): Promise<T> {
  return client.patch<T>(
    resource,
    obj.metadata.namespace,
    obj.metadata.name,
    withTypeMeta(resource, obj),
    'apply',
    {
      fieldManager: options.fieldManager,
      force: options.force ?? true,
      dryRun: options.dryRun ? 'All' : undefined,
    },
  );
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

function withTypeMeta<T extends KubeObject>(resource: Resource, obj: T): T {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(resource), kind: obj.kind ?? resource.kind };
}

export class AlreadyOwnedError extends Error {
  constructor(child: KubeObject, owner: OwnerReference) {
    super(
      `${child.kind ?? 'object'} ${child.metadata.name} is already controlled by ${owner.kind} ${owner.name}`,
    );
    this.name = 'AlreadyOwnedError';
  }
}

/** The controller owner reference of `obj`, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((o) => o.controller);
}

/**
 * Returns `child` with a controller reference to `owner` (blockOwnerDeletion, so foreground
 * deletion waits for it). Refuses a child that another object already controls.
 */
export function setControllerReference<T extends KubeObject>(
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
  const others = (child.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid);
  return { ...child, metadata: { ...child.metadata, ownerReferences: [...others, ref] } };
}
