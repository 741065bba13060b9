// The objects of a kind that name a Project in spec.projectRef (Sessions, Checkouts), indexed by
// it: a change to a Project concerns them, and a controller's watches() maps the Project to their
// keys through this index rather than by listing.
import type { KubeObject, Resource } from '../runtime/client.ts';
import type { Manager } from '../runtime/manager.ts';
import { keyOf, type Store } from '../runtime/store.ts';

const PROJECT_INDEX = 'project';

/** spec.projectRef.name of `obj`, read without trusting its shape (the index sees every object). */
export function projectRefOf(obj: KubeObject): string | undefined {
  const spec = 'spec' in obj ? obj.spec : undefined;
  if (typeof spec !== 'object' || spec === null || !('projectRef' in spec)) return undefined;
  const ref = spec.projectRef;
  if (typeof ref !== 'object' || ref === null || !('name' in ref)) return undefined;
  return typeof ref.name === 'string' ? ref.name : undefined;
}

export interface ProjectIndex<T extends KubeObject> {
  store: Store<T>;
  /** Keys of the objects whose spec.projectRef names `project` in `namespace` (none without one). */
  keysOf(namespace: string | undefined, project: string | undefined): string[];
}

/** Configures the informer of `resource` with the index; call before anything else uses it. */
export function indexByProject<T extends KubeObject>(manager: Manager, resource: Resource): ProjectIndex<T> {
  manager.configureInformer(resource, {
    indexers: {
      [PROJECT_INDEX]: (o) => {
        const project = projectRefOf(o);
        return project ? [`${o.metadata.namespace}/${project}`] : [];
      },
    },
  });
  const { store } = manager.informer<T>(resource);
  return {
    store,
    keysOf: (namespace, project) =>
      project ? store.byIndex(PROJECT_INDEX, `${namespace}/${project}`).map(keyOf) : [],
  };
}
