// Every controller of the operator, registered on a manager in the order their informers depend on
// (the Project's first: the others read its caches). The operator's command and the tests use it.
import type { OperatorConfig } from '../config.ts';
import type { Manager } from '../runtime/manager.ts';
import { registerWebhookDelivery } from '../webhooks/index.ts';
import { registerCheckoutController } from './checkout/index.ts';
import { registerFeatureController } from './feature/index.ts';
import { registerProjectController } from './project/index.ts';
import { registerSessionController } from './session/index.ts';
import { registerWorkControllers } from './workitem/index.ts';

export function registerControllers(manager: Manager, config: OperatorConfig): void {
  registerProjectController(manager, config);
  registerWorkControllers(manager, config);
  registerCheckoutController(manager, config);
  registerSessionController(manager, config);
  registerFeatureController(manager, config);
  registerWebhookDelivery(manager, config);
}
