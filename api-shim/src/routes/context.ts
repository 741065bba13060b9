// What route handlers are given: the cluster, the caches and the shim's settings.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeClient } from '../../../operator/src/runtime/client.ts';
import type { WebhookTargets } from '../../../operator/src/shared/webhook-targets.ts';
import type { WorkerPool } from '../../../operator/src/shared/worker-pool.ts';
import type { ShimCache } from '../cache.ts';
import type { ShimConfig } from '../config.ts';
import type { EventFeed } from '../events/feed.ts';
import type { KeyStore } from '../keys/key-store.ts';

export interface ShimContext {
  client: KubeClient;
  kubeConfig: KubeConfig;
  cache: ShimCache;
  keys: KeyStore;
  feed: EventFeed;
  pool: WorkerPool;
  /** Where webhook subscriptions may point (--webhook-allow-cidrs). */
  webhookTargets: WebhookTargets;
  config: Pick<
    ShimConfig,
    'namespace' | 'namespaces' | 'defaultNamespace' | 'workerNamespace' | 'workerOutputTokenFile'
  > &
    /**
     * Image patterns a Project's workspace may name (--allowed-images; empty or unset: any), and
     * the caps on its Pods' CPU and memory (--max-workspace-cpu/-memory; unset: none).
     */
    Partial<Pick<ShimConfig, 'allowedImages' | 'workspaceCaps'>> &
    /** How many objects of one kind a Project may have for the shim to create another (default 1000). */
    Partial<Pick<ShimConfig, 'maxObjectsPerProject'>>;
}
