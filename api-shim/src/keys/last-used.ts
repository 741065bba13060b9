// Records when each key was last used, as an annotation on its Secret: at most once a minute per
// key, so that a busy key does not turn every request into a write.
import type { Logger } from 'pino';
import type { KubeClient } from '../../../operator/src/runtime/client.ts';
import { SECRETS } from '../../../operator/src/runtime/resources.ts';
import { type ApiKey, keySecretName, LAST_USED_ANNOTATION } from './api-key.ts';
import { BOOTSTRAP_KEY_ID } from './key-store.ts';

export class LastUsedRecorder {
  private readonly written = new Map<string, number>();
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly log: Logger;
  private readonly intervalMs: number;

  constructor(client: KubeClient, namespace: string, log: Logger, intervalMs = 60_000) {
    this.client = client;
    this.namespace = namespace;
    this.log = log;
    this.intervalMs = intervalMs;
  }

  used(key: ApiKey, now = Date.now()): void {
    if (key.id === BOOTSTRAP_KEY_ID) return;
    if (now - (this.written.get(key.id) ?? 0) < this.intervalMs) return;
    this.written.set(key.id, now);
    const patch = { metadata: { annotations: { [LAST_USED_ANNOTATION]: new Date(now).toISOString() } } };
    this.client
      .patch(SECRETS, this.namespace, keySecretName(key.id), patch, 'merge', { fieldManager: 'rdev-shim' })
      .catch((err) => this.log.warn({ err, keyId: key.id }, 'could not record the last use of an API key'));
  }
}
