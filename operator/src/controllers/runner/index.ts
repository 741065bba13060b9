// Wires the runner pool into a manager: one key per Project, woken by the Project, its runners
// (by the Project label every runner carries) and its WorkItems. It reads the informers of the
// Project and WorkItem controllers, which are registered first.
import { PROJECTS, WORK_ITEMS } from '../../api/resources.ts';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import type { Predicate } from '../../runtime/controller.ts';
import type { Manager } from '../../runtime/manager.ts';
import { PODS, type Pod, SECRETS } from '../../runtime/resources.ts';
import { PROJECT_INDEX, projectKeyOf } from '../../shared/project-index.ts';
import type { LiveWorkItem } from '../../shared/work-phases.ts';
import type { SecretView } from '../project/reconcile.ts';
import { isRunner, PROJECT_LABEL } from './names.ts';
import { runnerPoolReconciler } from './reconcile.ts';
import { holdsToken, runnerTokenReconciler } from './token.ts';

/** What of a Project its runners are made from: its spec, and what its status says is ready. */
const runnerInputs = (project: LiveProject) => {
  const status = project.status ?? {};
  return JSON.stringify([
    project.metadata.generation,
    project.metadata.deletionTimestamp,
    status.database,
    status.cache,
    status.repo,
    status.gitIdentity,
    status.conditions?.filter((c) => RUNNER_CONDITIONS.has(c.type)).map((c) => [c.type, c.status]),
  ]);
};
const RUNNER_CONDITIONS = new Set(['DatabaseReady', 'CacheReady', 'GitIdentityReady']);

/**
 * Wakes the pool for the Project changes its runners depend on only: not for each status write of
 * the Project controller (a burst of Projects would queue a pool pass for every one of them).
 */
export const runnerInputsChanged: Predicate = (e) =>
  e.type !== 'update' ||
  e.old === undefined ||
  // The Project informer holds parsed Projects (the Project controller configures it).
  runnerInputs(e.old as LiveProject) !== runnerInputs(e.obj as LiveProject);

export function registerRunnerController(manager: Manager, config: OperatorConfig): void {
  const items = manager.informer<LiveWorkItem>(WORK_ITEMS).store;
  const projectOfRunner = (pod: Pod) => {
    const project = pod.metadata.labels?.[PROJECT_LABEL];
    return isRunner(pod) && project ? [`${pod.metadata.namespace}/${project}`] : [];
  };
  manager
    .controller('runner-pool')
    .for(PROJECTS, [runnerInputsChanged])
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
