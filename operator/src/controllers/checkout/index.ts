// Wires the Checkout controller into a manager: Checkouts, their credentials Secrets, and the
// Projects whose repository they lease (a repository appearing wakes the Checkouts waiting on it).
import { CHECKOUTS, PROJECTS } from '../../api/resources.ts';
import type { LiveCheckout, LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import type { KubeObject } from '../../runtime/client.ts';
import { anyOf, deletionStarted, generationChanged } from '../../runtime/controller.ts';
import type { Manager } from '../../runtime/manager.ts';
import { SECRETS } from '../../runtime/resources.ts';
import { checkoutReconciler } from './reconcile.ts';

const PROJECT_INDEX = 'project';

export function registerCheckoutController(manager: Manager, config: OperatorConfig): void {
  manager.configureInformer(CHECKOUTS, {
    indexers: {
      [PROJECT_INDEX]: (o) => [
        `${o.metadata.namespace}/${(o as unknown as LiveCheckout).spec?.projectRef?.name}`,
      ],
    },
  });
  const checkouts = manager.informer<LiveCheckout & KubeObject>(CHECKOUTS);
  manager
    .controller('checkout')
    .for(CHECKOUTS, [anyOf(generationChanged, deletionStarted)])
    .owns(SECRETS)
    .watches(PROJECTS, (project) =>
      checkouts.store
        .byIndex(PROJECT_INDEX, `${project.metadata.namespace}/${project.metadata.name}`)
        .map((c) => `${c.metadata.namespace}/${c.metadata.name}`),
    )
    .withWorkers(config.workers)
    .complete(
      checkoutReconciler({
        client: manager.client,
        events: manager.events,
        config,
        checkouts: checkouts.store,
        projects: manager.informer<LiveProject & KubeObject>(PROJECTS).store,
        secrets: manager.informer<KubeObject>(SECRETS).store,
      }),
    );
}
