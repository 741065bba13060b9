// Wires webhook delivery into a manager. Phase transitions are seen by informer handlers, which
// run on every replica; only the leader turns them into jobs, and only the leader runs the
// controller that works the jobs off (the manager starts controllers on leadership and stops
// them when it ends). Controllers are the manager's one leader-only mechanism, so delivery is
// one: its keys are jobs rather than objects, with requeueAfter as the retry timer.
import { CHECKOUTS, FEATURES, PROJECTS, SESSIONS, WORK_ITEMS } from '../api/resources.ts';
import type { OperatorConfig } from '../config.ts';
import type { KubeObject } from '../runtime/client.ts';
import type { Manager } from '../runtime/manager.ts';
import { deletion, type PhaseEvent, phaseTransition } from '../shared/transitions.ts';
import { WebhookTargets } from '../shared/webhook-targets.ts';
import { Deliveries } from './deliveries.ts';
import { ATTEMPT_TIMEOUT_MS } from './policy.ts';

const KINDS = [PROJECTS, SESSIONS, CHECKOUTS, WORK_ITEMS, FEATURES];

export function registerWebhookDelivery(manager: Manager, config: OperatorConfig): void {
  const deliveries = new Deliveries({
    client: manager.client,
    namespace: config.shimNamespace,
    backoffSeconds: config.webhooks.backoffSeconds,
    maxAttempts: config.webhooks.maxAttempts,
    targets: new WebhookTargets(config.webhooks.allowCIDRs),
    log: manager.log,
  });
  const builder = manager.controller('webhook-delivery');
  // The builder wants a source of keys; ours come from the handlers below, so these map to none.
  for (const kind of KINDS) builder.watches(kind, () => []);
  const controller = builder
    .withWorkers(config.workers)
    // An attempt, plus reading and annotating its subscription.
    .withTimeout(ATTEMPT_TIMEOUT_MS + 60_000)
    .complete(deliveries.reconcile);
  deliveries.bind((key) => controller.queue.add(key));

  const offer = (event: PhaseEvent | undefined) => {
    // A standby sees the same changes; the queue is shut down once leadership ends.
    if (event && manager.isLeader && !controller.queue.isShuttingDown) deliveries.offer(event);
  };
  for (const resource of KINDS) {
    const informer = manager.informer<KubeObject>(resource);
    informer.on({
      // The first list replays every object: those are not transitions (a restart would repeat them).
      add: (obj) => informer.hasSynced && offer(phaseTransition(resource.kind, undefined, obj)),
      update: (old, obj) => offer(phaseTransition(resource.kind, old, obj)),
      delete: (obj) => offer(deletion(resource.kind, obj)),
    });
  }
}
