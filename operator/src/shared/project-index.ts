// The objects of a kind that name a Project in spec.projectRef (Sessions, Checkouts), indexed by
// it: a change to a Project concerns them, and a controller's watches() maps the Project to their
// keys through this index rather than by listing.
import type { KubeObject, Resource } from '../runtime/client.ts';
import type { Manager } from '../runtime/manager.ts';
import { keyOf, type Store } from '../runtime/store.ts';

export const PROJECT_INDEX = 'project';

/** An object that belongs to a Project, as its kind's parse makes it. */
export type OfProject = KubeObject & { spec: { projectRef: { name: string } } };

/** Its Project's key, namespace/name: the value of PROJECT_INDEX. */
export const projectKeyOf = (o: OfProject) => `${o.metadata.namespace}/${o.spec.projectRef.name}`;

export interface ProjectIndex<T extends KubeObject> {
  store: Store<T>;
  /** Keys of the objects whose spec.projectRef names `project` in `namespace` (none without one). */
  keysOf(namespace: string | undefined, project: string | undefined): string[];
}

/**
 * Configures the informer of `resource` with its kind's parse and the index; call before anything
 * else uses it.
 */
export function indexByProject<T extends OfProject>(
  manager: Manager,
  resource: Resource,
  parse: (obj: unknown) => T,
): ProjectIndex<T> {
  const { store } = manager.configureInformer(resource, {
    parse,
    indexers: { [PROJECT_INDEX]: (o) => [projectKeyOf(o)] },
  });
  return {
    store,
    keysOf: (namespace, project) =>
      project ? store.byIndex(PROJECT_INDEX, `${namespace}/${project}`).map(keyOf) : [],
  };
}
