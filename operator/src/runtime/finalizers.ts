// Finalizers added and removed with JSON patches that name exactly the entry they touch: other
// controllers' finalizers are never rewritten, and a concurrent change makes the patch fail
// (the reconcile retries from fresh state) instead of clobbering it.
import type { KubeClient, KubeObject, Resource } from './client.ts';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

/** Adds `finalizer` unless present; returns the object as the API server now has it. */
export async function addFinalizer<T extends KubeObject>(
  client: KubeClient,
  resource: Resource,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  const patch = [
    { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
    obj.metadata.finalizers
      ? { op: 'add', path: '/metadata/finalizers/-', value: finalizer }
      : { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
  ];
  return client.patch<T>(resource, obj.metadata.namespace, obj.metadata.name, patch, 'json');
}

/** Removes `finalizer` if present; returns the object as the API server now has it (or gone). */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  resource: Resource,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  const index = obj.metadata.finalizers?.indexOf(finalizer) ?? -1;
  if (index < 0) return obj;
  const path = `/metadata/finalizers/${index}`;
  const patch = [
    { op: 'test', path, value: finalizer },
    { op: 'remove', path },
  ];
  return client.patch<T>(resource, obj.metadata.namespace, obj.metadata.name, patch, 'json');
}
