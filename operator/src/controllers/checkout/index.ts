// Wires the Checkout controller into a manager: Checkouts, their credentials Secrets, and the
// Projects whose repository they lease (a repository appearing wakes the Checkouts waiting on it).
import { CHECKOUTS, PROJECTS } from '../../api/resources.ts';
import { type LiveProject, parseCheckout } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import type { KubeObject } from '../../runtime/client.ts';
import { anyOf, deletionStarted, generationChanged, type Predicate } from '../../runtime/controller.ts';
import type { Manager } from '../../runtime/manager.ts';
import { SECRETS } from '../../runtime/resources.ts';
import { indexByProject } from '../../shared/project-index.ts';
import { reconcilerDeps } from '../deps.ts';
import { checkoutReconciler } from './reconcile.ts';

/** Whether status records a token's name (read from any object the informer delivers). */
const recordsToken = (o: KubeObject | undefined) => {
  const status = o && 'status' in o ? o.status : undefined;
  return typeof status === 'object' && status !== null && 'token' in status && status.token !== undefined;
};

/** Passes the update that puts the token's name on record: the pass that creates the token follows. */
export const tokenRecorded: Predicate = (e) =>
  e.type === 'update' && !recordsToken(e.old) && recordsToken(e.obj);

export function registerCheckoutController(manager: Manager, config: OperatorConfig): void {
  const checkouts = indexByProject(manager, CHECKOUTS, parseCheckout);
  manager
    .controller('checkout')
    .for(CHECKOUTS, [anyOf(generationChanged, deletionStarted, tokenRecorded)])
    .owns(SECRETS)
    .watches(PROJECTS, (project) => checkouts.keysOf(project.metadata.namespace, project.metadata.name))
    .withWorkers(config.workers)
    .complete(
      checkoutReconciler({
        ...reconcilerDeps(manager, config),
        checkouts: checkouts.store,
        projects: manager.informer<LiveProject & KubeObject>(PROJECTS).store,
        secrets: manager.informer<KubeObject>(SECRETS).store,
      }),
    );
}
