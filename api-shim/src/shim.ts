// Assembles a running shim: caches, key store, event feed, worker pool view and the HTTP server.
// The CLI, the tests and the benchmarks all start it through here.
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { WebhookTargets } from '../../operator/src/shared/webhook-targets.ts';
import { WorkerPool } from '../../operator/src/shared/worker-pool.ts';
import type { WorkspaceCaps } from '../../operator/src/shared/workspace-caps.ts';
import { ShimCache } from './cache.ts';
import { parseTrustProxy, type ShimConfig } from './config.ts';
import { EventFeed } from './events/feed.ts';
import { KeyStore } from './keys/key-store.ts';
import type { ShimContext } from './routes/context.ts';
import { buildServer } from './server.ts';

const { version } = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')));

type Tunable =
  | 'requestTimeoutSeconds'
  | 'connectionTimeoutSeconds'
  | 'maxStreamsPerKey'
  | 'maxObjectsPerProject';

export type ShimSettings = Omit<
  ShimConfig,
  'kubeconfig' | 'logLevel' | 'listen' | 'webhookAllowCIDRs' | 'allowedImages' | 'workspaceCaps' | Tunable
> &
  Partial<Pick<ShimConfig, Tunable>> & {
    /** The bootstrap admin key itself (e.g. from $RDEV_BOOTSTRAP_KEY). */
    bootstrapKey?: string;
    /** Blocked ranges webhook URLs may point into nonetheless (default: none). */
    webhookAllowCIDRs?: string[];
    /** Image patterns a Project's workspace may name (default: any image). */
    allowedImages?: string[];
    /** Caps on a Project Pod's CPU and memory (default: none). */
    workspaceCaps?: WorkspaceCaps;
  };

export interface RunningShim {
  app: ReturnType<typeof buildServer>;
  context: ShimContext;
  /** Stops serving, then the informers and the connections. */
  close(): Promise<void>;
}

/** Builds the shim and starts its informers; `app` is ready to listen or inject (readiness waits for the caches). */
export async function createShim(
  kubeConfig: KubeConfig,
  settings: ShimSettings,
  log: Logger,
): Promise<RunningShim> {
  const client = new KubeClient(kubeConfig);
  const cache = new ShimCache(client, {
    namespace: settings.namespace,
    namespaces: settings.namespaces,
    workerNamespace: settings.workerNamespace,
    // The environment's bootstrap key wins; else the one of --bootstrap-key-secret, followed.
    bootstrapKeySecret: settings.bootstrapKey ? undefined : settings.bootstrapKeySecret,
    log,
  });
  const keys = new KeyStore(cache.keys, log);
  keys.setBootstrapKey(settings.bootstrapKey);
  if (cache.bootstrap && settings.bootstrapKeySecret) {
    keys.followBootstrapSecret(cache.bootstrap, settings.bootstrapKeySecret);
  }
  const feed = new EventFeed(cache.kinds);
  const pool = new WorkerPool();
  cache.leases.on({
    add: (l) => pool.observe(l),
    update: (_, l) => pool.observe(l),
    delete: (l) => pool.forget(l),
  });
  const webhookTargets = new WebhookTargets(settings.webhookAllowCIDRs ?? []);
  const context: ShimContext = {
    client,
    kubeConfig,
    cache,
    keys,
    feed,
    pool,
    webhookTargets,
    config: {
      ...settings,
      allowedImages: settings.allowedImages ?? [],
      workspaceCaps: settings.workspaceCaps ?? {},
    },
  };
  const app = buildServer(context, {
    log,
    version,
    rateLimit: settings.rateLimit,
    rateBurst: settings.rateBurst,
    bodyLimit: settings.bodyLimit,
    trustProxy: parseTrustProxy(settings.trustProxy) ?? false,
    requestTimeoutSeconds: settings.requestTimeoutSeconds,
    connectionTimeoutSeconds: settings.connectionTimeoutSeconds,
    maxStreamsPerKey: settings.maxStreamsPerKey,
  });
  cache.start(log);
  return {
    app,
    context,
    async close() {
      await app.close();
      cache.close();
      await client.close();
    },
  };
}
