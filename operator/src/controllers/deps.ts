// What every controller's reconciler is given besides the stores it reads: the API client, the
// recorder of Kubernetes Events, the operator configuration and (for tests) a clock.
import type { OperatorConfig } from '../config.ts';
import type { KubeClient } from '../runtime/client.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { Manager } from '../runtime/manager.ts';

export interface ReconcilerDeps {
  client: KubeClient;
  events: EventRecorder;
  config: OperatorConfig;
  now?: () => Date;
}

/** The manager's client and event recorder, with the operator configuration. */
export const reconcilerDeps = (manager: Manager, config: OperatorConfig): ReconcilerDeps => ({
  client: manager.client,
  events: manager.events,
  config,
});
