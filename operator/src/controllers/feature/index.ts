// Wires the Feature controller into a manager: Features, the WorkItems they own (an action ending
// brings the next pass), their Projects (a repository and identity appearing), and the Features
// they depend on (one released frees those waiting on it). The merge phase is polled.
import { FEATURES, PROJECTS, WORK_ITEMS } from '../../api/resources.ts';
import { type LiveFeature, type LiveProject, parseFeature } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { anyOf, deletionStarted, generationChanged } from '../../runtime/controller.ts';
import type { Manager } from '../../runtime/manager.ts';
import { CONTROLLER_UID_INDEX } from '../../runtime/store.ts';
import { indexByProject } from '../../shared/project-index.ts';
import type { LiveWorkItem } from '../../shared/work-phases.ts';
import { reconcilerDeps } from '../deps.ts';
import { featureReconciler } from './reconcile.ts';

export function registerFeatureController(manager: Manager, config: OperatorConfig): void {
  const features = indexByProject(manager, FEATURES, parseFeature);
  const items = manager.informer<LiveWorkItem>(WORK_ITEMS).store;
  const keyOf = (f: LiveFeature) => `${f.metadata.namespace}/${f.metadata.name}`;
  /** The Features of the namespace that depend on `feature`. */
  const dependents = (feature: LiveFeature) =>
    features.store
      .list()
      .filter(
        (f) =>
          f.metadata.namespace === feature.metadata.namespace &&
          f.spec.dependsOn.includes(feature.metadata.name),
      )
      .map(keyOf);
  manager
    .controller('feature')
    .for(FEATURES, [anyOf(generationChanged, deletionStarted)])
    .owns(WORK_ITEMS)
    .watches<LiveFeature>(FEATURES, dependents)
    .watches(PROJECTS, (project) => features.keysOf(project.metadata.namespace, project.metadata.name))
    .withWorkers(config.workers)
    .complete(
      featureReconciler({
        ...reconcilerDeps(manager, config),
        features: features.store,
        projects: manager.informer<LiveProject>(PROJECTS).store,
        itemsOf: (uid) => items.byIndex(CONTROLLER_UID_INDEX, uid),
      }),
    );
}
