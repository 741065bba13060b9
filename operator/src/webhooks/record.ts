// Writes a delivery's outcome into its subscription Secret's rdev.dev/deliveries annotation, so
// that the shim can show recent deliveries without a store of its own. A conditional merge patch
// (with the resourceVersion read) keeps concurrent records from overwriting each other; a
// conflict re-reads, a bounded number of times. The record is informational: failures are logged.
import type { Logger } from 'pino';
import { isConflict, isNotFound, type KubeClient } from '../runtime/client.ts';
import { SECRETS, type Secret } from '../runtime/resources.ts';
import { DELIVERIES_ANNOTATION, type DeliveryRecord, withDelivery } from '../shared/webhook-subscription.ts';

const RECORD_TRIES = 5;

export type SecretObject = Secret;

export async function recordDelivery(
  client: KubeClient,
  secret: SecretObject,
  record: DeliveryRecord,
  log: Logger,
): Promise<void> {
  const { name, namespace } = secret.metadata;
  let current = secret;
  for (let tries = 1; ; tries++) {
    const patch = {
      metadata: {
        resourceVersion: current.metadata.resourceVersion,
        annotations: {
          [DELIVERIES_ANNOTATION]: withDelivery(
            current.metadata.annotations?.[DELIVERIES_ANNOTATION],
            record,
          ),
        },
      },
    };
    try {
      await client.patch(SECRETS, namespace, name, patch, 'merge');
      return;
    } catch (err) {
      if (isNotFound(err)) return; // the subscription is gone, and its history with it
      if (!isConflict(err) || tries >= RECORD_TRIES) {
        log.warn({ err, tries }, 'could not record the webhook delivery on its subscription');
        return;
      }
    }
    try {
      current = await client.get<SecretObject>(SECRETS, namespace, name);
    } catch (err) {
      if (!isNotFound(err)) log.warn({ err }, 'could not record the webhook delivery on its subscription');
      return;
    }
  }
}
