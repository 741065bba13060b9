// The external resources a Project can have: adding one is a provider file and a line here.

import type { OperatorConfig } from '../config.ts';
import type { KubeClient } from '../runtime/client.ts';
import type { CacheIds } from './cache/provider.ts';
import { cacheProvider } from './cache/provider.ts';
import type { DatabaseIds } from './database/provider.ts';
import { databaseProvider } from './database/provider.ts';
import type { ExternalResource } from './external.ts';

/** Set (or change) these annotations on a Project to have a new password generated. */
export const ROTATE_DATABASE_PASSWORD = 'rdev.dev/rotate-database-password';
export const ROTATE_CACHE_PASSWORD = 'rdev.dev/rotate-cache-password';

export function projectExternalResources(client: KubeClient, config: OperatorConfig) {
  const database: ExternalResource<DatabaseIds> = {
    name: 'database',
    condition: 'DatabaseReady',
    enabled: (p) => p.spec.database.enabled,
    deletionPolicy: (p) => p.spec.database.deletionPolicy,
    recorded: (p) => {
      const d = p.status?.database;
      return d?.name && d.user && d.secretName
        ? {
            engine: (d.engine ?? p.spec.database.engine) as DatabaseIds['engine'],
            name: d.name,
            user: d.user,
            secretName: d.secretName,
          }
        : undefined;
    },
    rotation: (p) => ({
      requested: p.metadata.annotations?.[ROTATE_DATABASE_PASSWORD],
      done: p.status?.database?.passwordRotation,
    }),
    envSecret: (ids) => ids.secretName,
    describe: (ids) => `${ids.engine} database ${ids.name}`,
    client: databaseProvider(client, config),
  };
  const cache: ExternalResource<CacheIds> = {
    name: 'cache',
    condition: 'CacheReady',
    enabled: (p) => p.spec.cache.enabled,
    deletionPolicy: (p) => p.spec.cache.deletionPolicy,
    recorded: (p) => {
      const c = p.status?.cache;
      return c?.user && c.prefix && c.secretName
        ? { user: c.user, prefix: c.prefix, secretName: c.secretName }
        : undefined;
    },
    rotation: (p) => ({
      requested: p.metadata.annotations?.[ROTATE_CACHE_PASSWORD],
      done: p.status?.cache?.passwordRotation,
    }),
    envSecret: (ids) => ids.secretName,
    describe: (ids) => `Redis user ${ids.user} (keys ${ids.prefix}:*)`,
    client: cacheProvider(client, config),
    resyncMs: config.cacheCheckSeconds * 1000,
  };
  return { database, cache };
}
