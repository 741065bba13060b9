// Wires the runner pool into a manager: one key per Project, woken by the Project, its runners
// (by the Project label every runner carries) and its WorkItems. It reads the informers of the
// Project and WorkItem controllers, which are registered first.
import { PROJECTS, WORK_ITEMS } from '../../api/resources.ts';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import type { Manager } from '../../runtime/manager.ts';
import { PODS, type Pod, SECRETS } from '../../runtime/resources.ts';
import { PROJECT_INDEX, projectKeyOf } from '../../shared/project-index.ts';
import type { LiveWorkItem } from '../../shared/work-phases.ts';
import type { SecretView } from '../project/reconcile.ts';
import { isRunner, PROJECT_LABEL } from './names.ts';
import { runnerPoolReconciler } from './reconcile.ts';
import { holdsToken, runnerTokenReconciler } from './token.ts';

export function registerRunnerController(manager: Manager, config: OperatorConfig): void {
  const items = manager.informer<LiveWorkItem>(WORK_ITEMS).store;
  const projectOfRunner = (pod: Pod) => {
    const project = pod.metadata.labels?.[PROJECT_LABEL];
    return isRunner(pod) && project ? [`${pod.metadata.namespace}/${project}`] : [];
  };
  manager
    .controller('runner-pool')
    .for(PROJECTS)
    .watches(PODS, projectOfRunner)
    .watches<LiveWorkItem>(WORK_ITEMS, (item) => [projectKeyOf(item)])
    .withWorkers(config.workers)
    .complete(
      runnerPoolReconciler({
        client: manager.client,
        config,
        projects: manager.informer<LiveProject>(PROJECTS).store,
        pods: manager.informer<Pod>(PODS).store,
        secrets: manager.informer<SecretView>(SECRETS).store,
        itemsOf: (key) => items.byIndex(PROJECT_INDEX, key),
      }),
    );
  manager
    .controller('runner-token')
    .for(PODS, [(e) => holdsToken(e.obj)])
    .withWorkers(config.workers)
    .complete(
      runnerTokenReconciler({
        client: manager.client,
        config,
        projects: manager.informer<LiveProject>(PROJECTS).store,
        pods: manager.informer<Pod>(PODS).store,
        secrets: manager.informer<SecretView>(SECRETS).store,
      }),
    );
}
