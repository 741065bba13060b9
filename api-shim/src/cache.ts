// What the shim reads from: informers on the four kinds (in the served namespaces), on the
// API-key and webhook Secrets of its own namespace, and on the workers' Leases. Every read
// route answers from these stores; only writes reach the API server.
import type { Logger } from 'pino';
import { CHECKOUTS, PROJECTS, SESSIONS, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import type { KubeClient, KubeObject, Resource } from '../../operator/src/runtime/client.ts';
import { Informer } from '../../operator/src/runtime/informer.ts';
import { LEASES, SECRETS } from '../../operator/src/runtime/resources.ts';
import { WEBHOOK_LABEL } from '../../operator/src/shared/webhook-subscription.ts';
import { WORKER_LEASE_SELECTOR } from '../../operator/src/shared/worker-names.ts';
import type { LeaseObject } from '../../operator/src/shared/worker-pool.ts';
import { API_KEY_LABEL, type SecretObject } from './keys/api-key.ts';

export type Kind = 'Project' | 'Session' | 'Checkout' | 'WorkItem';

export const KIND_RESOURCES: Record<Kind, Resource> = {
  Project: PROJECTS,
  Session: SESSIONS,
  Checkout: CHECKOUTS,
  WorkItem: WORK_ITEMS,
};

/** A cached rdev object, of any of the four kinds. */
export type RdevObject = KubeObject & {
  spec?: Record<string, unknown> & { projectRef?: { name: string } };
  status?: Record<string, unknown> & { phase?: string };
};

export class ShimCache {
  readonly kinds: Record<Kind, Informer<RdevObject>>;
  readonly keys: Informer<SecretObject>;
  readonly webhooks: Informer<SecretObject>;
  readonly leases: Informer<LeaseObject>;
  private readonly stop = new AbortController();

  constructor(
    client: KubeClient,
    options: { namespace: string; namespaces: string[]; workerNamespace: string; log: Logger },
  ) {
    const common = { log: options.log, namespaces: options.namespaces };
    const kind = (k: Kind) => Informer.forResource<RdevObject>(client, KIND_RESOURCES[k], common);
    this.kinds = {
      Project: kind('Project'),
      Session: kind('Session'),
      Checkout: kind('Checkout'),
      WorkItem: kind('WorkItem'),
    };
    const own = { log: options.log, namespaces: [options.namespace] };
    this.keys = Informer.forResource(client, SECRETS, { ...own, labelSelector: `${API_KEY_LABEL}=true` });
    this.webhooks = Informer.forResource(client, SECRETS, { ...own, labelSelector: `${WEBHOOK_LABEL}=true` });
    this.leases = Informer.forResource(client, LEASES, {
      log: options.log,
      namespaces: [options.workerNamespace],
      labelSelector: WORKER_LEASE_SELECTOR,
    });
  }

  private get all(): Informer<KubeObject>[] {
    return [...Object.values(this.kinds), this.keys, this.webhooks, this.leases] as Informer<KubeObject>[];
  }

  start(log: Logger): void {
    for (const informer of this.all) {
      informer.run(this.stop.signal).catch((err) => log.error({ err }, 'informer stopped'));
    }
  }

  get synced(): boolean {
    return this.all.every((i) => i.hasSynced);
  }

  waitForSync(): Promise<void> {
    return Promise.all(this.all.map((i) => i.waitForSync())).then(() => undefined);
  }

  close(): void {
    this.stop.abort(new Error('shim stopped'));
  }
}
