// What the shim reads from: informers on the five kinds (in the served namespaces), on the
// API-key and webhook Secrets of its own namespace, and on the workers' Leases. Every read
// route answers from these stores; only writes reach the API server. The kinds' objects are
// parsed by their schemas as they arrive, so routes read them typed and with their defaults.
import type { Logger } from 'pino';
import { CHECKOUTS, FEATURES, PROJECTS, SESSIONS, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import {
  type LiveCheckout,
  type LiveFeature,
  type LiveObject,
  type LiveProject,
  type LiveSession,
  type LiveWorkItem,
  parseCheckout,
  parseFeature,
  parseProject,
  parseSession,
  parseWorkItem,
} from '../../operator/src/api/v1alpha1/index.ts';
import type { KubeClient, Resource } from '../../operator/src/runtime/client.ts';
import { Informer } from '../../operator/src/runtime/informer.ts';
import { LEASES, SECRETS, type Secret } from '../../operator/src/runtime/resources.ts';
import { WEBHOOK_LABEL } from '../../operator/src/shared/webhook-subscription.ts';
import { WORKER_LEASE_SELECTOR } from '../../operator/src/shared/worker-names.ts';
import type { LeaseObject } from '../../operator/src/shared/worker-pool.ts';
import { API_KEY_LABEL } from './keys/api-key.ts';

export const KINDS = ['Project', 'Session', 'Checkout', 'WorkItem', 'Feature'] as const;
export type Kind = (typeof KINDS)[number];

/** The object of each kind, as the caches hold it. */
export interface KindObjects {
  Project: LiveProject;
  Session: LiveSession;
  Checkout: LiveCheckout;
  WorkItem: LiveWorkItem;
  Feature: LiveFeature;
}

/** A cached rdev object, of any of the kinds (`kind` tells which). */
export type RdevObject = LiveObject;

export const KIND_RESOURCES: Record<Kind, Resource> = {
  Project: PROJECTS,
  Session: SESSIONS,
  Checkout: CHECKOUTS,
  WorkItem: WORK_ITEMS,
  Feature: FEATURES,
};

/** Each kind's parse: what the API server sends, validated and with its defaults. */
export const PARSE: { [K in Kind]: (obj: unknown) => KindObjects[K] } = {
  Project: parseProject,
  Session: parseSession,
  Checkout: parseCheckout,
  WorkItem: parseWorkItem,
  Feature: parseFeature,
};

export type KindInformers = { [K in Kind]: Informer<KindObjects[K]> };

export class ShimCache {
  readonly kinds: KindInformers;
  readonly keys: Informer<Secret>;
  readonly webhooks: Informer<Secret>;
  readonly leases: Informer<LeaseObject>;
  /** The bootstrap key's Secret (--bootstrap-key-secret), watched by name. */
  readonly bootstrap: Informer<Secret> | undefined;
  private readonly stop = new AbortController();

  constructor(
    client: KubeClient,
    options: {
      namespace: string;
      namespaces: string[];
      workerNamespace: string;
      bootstrapKeySecret?: string;
      log: Logger;
    },
  ) {
    const common = { log: options.log, namespaces: options.namespaces };
    this.kinds = {
      Project: Informer.forResource(client, PROJECTS, { ...common, parse: parseProject }),
      Session: Informer.forResource(client, SESSIONS, { ...common, parse: parseSession }),
      Checkout: Informer.forResource(client, CHECKOUTS, { ...common, parse: parseCheckout }),
      WorkItem: Informer.forResource(client, WORK_ITEMS, { ...common, parse: parseWorkItem }),
      Feature: Informer.forResource(client, FEATURES, { ...common, parse: parseFeature }),
    };
    const own = { log: options.log, namespaces: [options.namespace] };
    this.keys = Informer.forResource(client, SECRETS, { ...own, labelSelector: `${API_KEY_LABEL}=true` });
    this.webhooks = Informer.forResource(client, SECRETS, { ...own, labelSelector: `${WEBHOOK_LABEL}=true` });
    this.leases = Informer.forResource(client, LEASES, {
      log: options.log,
      namespaces: [options.workerNamespace],
      labelSelector: WORKER_LEASE_SELECTOR,
    });
    this.bootstrap = options.bootstrapKeySecret
      ? Informer.forResource(client, SECRETS, {
          ...own,
          fieldSelector: `metadata.name=${options.bootstrapKeySecret}`,
        })
      : undefined;
  }

  private get all(): Pick<Informer<RdevObject>, 'run' | 'hasSynced' | 'waitForSync'>[] {
    const all = [...Object.values(this.kinds), this.keys, this.webhooks, this.leases];
    return this.bootstrap ? [...all, this.bootstrap] : all;
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
