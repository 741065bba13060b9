// The database and cache providers on their own, against the harness's real PostgreSQL and Redis:
// a tenant's Redis user reaches its own keys and channels and nothing of other tenants (not even
// their key names), an outdated ACL is brought up to date, and a retained database or cache is
// marked with its Project's uid so that a new Project of the same name cannot adopt it.
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { project as projectSchema } from '../../operator/src/api/v1alpha1/index.ts';
import { loadConfig } from '../../operator/src/config.ts';
import {
  type CacheIds,
  cacheOwnerKey,
  closeCacheClients,
} from '../../operator/src/providers/cache/provider.ts';
import type { ConnectionSecrets } from '../../operator/src/providers/credentials.ts';
import { closeDatabasePools, type DatabaseIds } from '../../operator/src/providers/database/provider.ts';
import {
  type ExternalResource,
  finalizeExternal,
  reconcileExternal,
} from '../../operator/src/providers/external.ts';
import { projectExternalResources } from '../../operator/src/providers/index.ts';
import { ownerMarker } from '../../operator/src/providers/marker.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { createSecret, kubeConfig, uniqueName, useNamespace } from './support/kube.ts';

const services = inject('services');
const ns = useNamespace('rdev-data');
const client = new KubeClient(kubeConfig());
const signal = new AbortController().signal;
const admin = new pg.Pool({ connectionString: services.databaseAdminUrl, max: 2 });
admin.on('error', () => undefined);
const redisAdmin = createClient({ url: services.redisAdminUrl });
redisAdmin.on('error', () => undefined);

/** Connection Secrets in memory, per Project uid: a Project's Secrets go with it (as the garbage collector does). */
const stored = new Map<string, Record<string, string>>();
const secrets: ConnectionSecrets = {
  read: async (p, name) => stored.get(`${p.metadata.uid}/${name}`),
  write: async (p, name, data) => void stored.set(`${p.metadata.uid}/${name}`, data),
  delete: async (p, name) => void stored.delete(`${p.metadata.uid}/${name}`),
};

let resources: { database: ExternalResource<DatabaseIds>; cache: ExternalResource<CacheIds> };

beforeAll(async () => {
  await createSecret(ns.name, 'pg-admin', { DATABASE_ADMIN_URL: services.databaseAdminUrl });
  await createSecret(ns.name, 'redis-admin', { REDIS_ADMIN_URL: services.redisAdminUrl });
  await redisAdmin.connect();
  const config = loadConfig(
    [`--postgres-admin-secret=${ns.name}/pg-admin`, `--redis-admin-secret=${ns.name}/redis-admin`],
    {},
  );
  const all = projectExternalResources(client, config);
  resources = {
    database: { ...all.database, connection: { secretName: (ids) => ids.secretName, secrets } },
    cache: { ...all.cache, connection: { secretName: (ids) => ids.secretName, secrets } },
  };
});
afterAll(async () => {
  await closeDatabasePools();
  await closeCacheClients();
  await admin.end();
  await redisAdmin.quit().catch(() => undefined);
});

let uids = 0;
function project(
  name: string,
  options: { uid?: string; retain?: boolean; status?: object } = {},
): LiveProject {
  uids += 1;
  const deletionPolicy = options.retain ? 'Retain' : 'Delete';
  return projectSchema.parse({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: {
      name,
      namespace: 'team',
      uid: options.uid ?? `7a2b3c4d-0000-4000-8000-${String(uids).padStart(12, '0')}`,
      generation: 1,
    },
    spec: {
      agent: { credentialsSecretRef: { name: 'anthropic' } },
      database: { enabled: true, deletionPolicy },
      cache: { enabled: true, deletionPolicy },
    },
    ...(options.status ? { status: options.status } : {}),
  }) as LiveProject;
}

const connection = (p: LiveProject, kind: 'database' | 'cache') => {
  const data = stored.get(`${p.metadata.uid}/${p.metadata.name}-${kind}`);
  if (!data) throw new Error(`no ${kind} connection Secret for ${p.metadata.name}`);
  return data;
};

async function ready<Ids>(resource: ExternalResource<Ids>, p: LiveProject) {
  const outcome = await reconcileExternal(resource, p, signal);
  expect(outcome.condition, String(outcome.error)).toMatchObject({ status: 'True', reason: 'Provisioned' });
  return outcome;
}

async function redisAs(p: LiveProject) {
  const c = createClient({ url: connection(p, 'cache').REDIS_URL });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

const comment = async (kind: 'pg_database' | 'pg_authid', name: string) => {
  const table = kind === 'pg_database' ? 'pg_database WHERE datname' : 'pg_roles WHERE rolname';
  const rows = await admin.query<{ c: string | null }>(
    `SELECT shobj_description(oid, '${kind}') AS c FROM ${table} = $1`,
    [name],
  );
  return rows.rows[0]?.c;
};

async function canLogIn(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe('a tenant of the shared Redis', () => {
  const alpha = project(uniqueName('alpha'));
  const beta = project(uniqueName('beta'));

  beforeAll(async () => {
    await ready(resources.cache, alpha);
    await ready(resources.cache, beta);
  });
  afterAll(async () => {
    await finalizeExternal(resources.cache, alpha, signal);
    await finalizeExternal(resources.cache, beta, signal);
  });

  it('cannot list, count or see the key names of other tenants, nor run server-wide commands', async () => {
    const b = await redisAs(beta);
    const betaPrefix = connection(beta, 'cache').REDIS_KEY_PREFIX;
    await b.set(`${betaPrefix}secret-name`, 'v');
    await b.quit();

    const a = await redisAs(alpha);
    try {
      const denied: string[][] = [
        ['SCAN', '0'],
        ['SCAN', '0', 'MATCH', `${betaPrefix}*`],
        ['RANDOMKEY'],
        ['KEYS', '*'],
        ['DBSIZE'],
        ['FUNCTION', 'LIST'],
        ['FUNCTION', 'FLUSH'],
        ['FCALL', 'f', '0'],
        ['SCRIPT', 'FLUSH'],
        ['SCRIPT', 'KILL'],
        ['PUBSUB', 'CHANNELS'],
        ['PUBSUB', 'NUMPAT'],
        ['PUBSUB', 'SHARDCHANNELS'],
        ['PUBSUB', 'NUMSUB', `${betaPrefix}news`],
        ['FLUSHALL'],
        ['FLUSHDB'],
        ['SWAPDB', '0', '1'],
        ['SELECT', '1'],
        ['MOVE', `${betaPrefix}secret-name`, '1'],
        ['OBJECT', 'ENCODING', `${betaPrefix}secret-name`],
        ['OBJECT', 'FREQ', `${betaPrefix}secret-name`],
        ['DEBUG', 'OBJECT', `${betaPrefix}secret-name`],
        ['MIGRATE', '127.0.0.1', '1', `${betaPrefix}secret-name`, '0', '1000'],
        ['MEMORY', 'STATS'],
        ['CLIENT', 'TRACKING', 'ON', 'BCAST'],
        ['CLIENT', 'LIST'],
        ['INFO', 'keyspace'],
        ['GET', `${betaPrefix}secret-name`],
        ['EXISTS', `${betaPrefix}secret-name`],
      ];
      for (const command of denied) {
        // DEBUG may be refused by the server's configuration before the ACL is asked.
        await expect(a.sendCommand(command), command.join(' ')).rejects.toThrow(
          /NOPERM|DEBUG command not allowed/,
        );
      }
    } finally {
      await a.quit();
    }
  });

  it('still uses its own keys: strings, hashes, expiry, transactions, scripts and its channels', async () => {
    const a = await redisAs(alpha);
    const prefix = connection(alpha, 'cache').REDIS_KEY_PREFIX;
    try {
      await a.set(`${prefix}s`, '1');
      expect(await a.get(`${prefix}s`)).toBe('1');
      await a.hSet(`${prefix}h`, { f: 'v' });
      expect(await a.hGetAll(`${prefix}h`)).toEqual({ f: 'v' });
      expect(await a.expire(`${prefix}h`, 60)).toBe(1);
      expect(await a.ttl(`${prefix}h`)).toBeGreaterThan(0);
      const results = await a.multi().incr(`${prefix}n`).incr(`${prefix}n`).exec();
      expect(results).toEqual([1, 2]);
      expect(await a.sendCommand(['MEMORY', 'USAGE', `${prefix}s`])).toBeGreaterThan(0);
      expect(await a.eval("return redis.call('GET', KEYS[1])", { keys: [`${prefix}s`] })).toBe('1');
      // A script is held to the same key patterns.
      await expect(a.eval("return redis.call('SCAN', '0')", { keys: [`${prefix}s`] })).rejects.toThrow(
        /can.t run this command/,
      );

      const sub = a.duplicate();
      sub.on('error', () => undefined);
      await sub.connect();
      const got: string[] = [];
      await sub.subscribe(`${prefix}news`, (m) => got.push(m));
      await a.publish(`${prefix}news`, 'hello');
      await expect.poll(() => got).toEqual(['hello']);
      await expect(sub.subscribe('elsewhere', () => undefined)).rejects.toThrow(/NOPERM/);
      await sub.quit();
    } finally {
      await a.quit();
    }
  });

  it('has an outdated ACL (made before these rules) brought up to date on the next reconcile', async () => {
    const ids = resources.cache.client.ids(alpha);
    const password = connection(alpha, 'cache').REDIS_PASSWORD as string;
    // The rules an older operator set: SCAN and friends allowed.
    await redisAdmin.sendCommand([
      'ACL',
      'SETUSER',
      ids.user,
      'reset',
      'on',
      `>${password}`,
      `~${ids.prefix}:*`,
      `&${ids.prefix}:*`,
      '+@all',
      '-@admin',
      '-@dangerous',
    ]);
    const observed = await resources.cache.client.observe({
      project: alpha,
      recorded: ids,
      rotatePassword: false,
      password,
      signal,
    });
    expect(observed).toMatchObject({ exists: true, upToDate: false });
    expect(observed.diff).toMatch(/commands/);
    await ready(resources.cache, alpha);
    const a = await redisAs(alpha);
    try {
      await expect(a.sendCommand(['SCAN', '0'])).rejects.toThrow(/NOPERM/);
    } finally {
      await a.quit();
    }
  });
});

describe('a retained database or cache', () => {
  it('is refused to a new Project of the same name, which never touches it', async () => {
    const name = uniqueName('kept');
    const first = project(name, { retain: true });
    await ready(resources.database, first);
    await ready(resources.cache, first);
    const ids = resources.database.client.ids(first);
    const cacheIds = resources.cache.client.ids(first);
    expect(await comment('pg_database', ids.name)).toBe(ownerMarker(first));
    expect(await comment('pg_authid', ids.user)).toBe(ownerMarker(first));
    expect(await redisAdmin.get(cacheOwnerKey(cacheIds))).toBe(ownerMarker(first));
    const oldDatabaseUrl = connection(first, 'database').DATABASE_URL as string;
    const oldCache = await redisAs(first);
    await oldCache.set(`${cacheIds.prefix}:kept`, 'mine');
    await oldCache.quit();

    // The Project is deleted with Retain: both stay.
    await finalizeExternal(resources.database, first, signal);
    await finalizeExternal(resources.cache, first, signal);

    const second = project(name, { retain: false });
    for (const resource of [resources.database, resources.cache] as ExternalResource<unknown>[]) {
      const outcome = await reconcileExternal(resource, second, signal);
      expect(outcome.condition).toMatchObject({ status: 'False', reason: 'ProvisioningFailed' });
      expect(outcome.condition?.message).toMatch(/is not this Project's/);
      expect(outcome.condition?.message).toContain(ownerMarker(second));
      // Nothing recorded: its deletion must not reach what it was refused.
      expect(outcome.ids).toBeUndefined();
      await finalizeExternal(resource, second, signal);
    }

    // Untouched: the old credentials work, the data is there, the marks are the first Project's.
    expect(await canLogIn(oldDatabaseUrl)).toBe(true);
    expect(await comment('pg_database', ids.name)).toBe(ownerMarker(first));
    const again = await redisAs(first);
    expect(await again.get(`${cacheIds.prefix}:kept`)).toBe('mine');
    await again.quit();

    // Its owner (same uid) still adopts and deletes them.
    const owner = project(name, { uid: first.metadata.uid });
    await ready(resources.database, owner);
    await ready(resources.cache, owner);
    await finalizeExternal(resources.database, owner, signal);
    await finalizeExternal(resources.cache, owner, signal);
    expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [ids.name])).rowCount).toBe(0);
    expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [ids.user])).rowCount).toBe(0);
    expect(await redisAdmin.get(cacheOwnerKey(cacheIds))).toBeNull();
    expect(await redisAdmin.exists(`${cacheIds.prefix}:kept`)).toBe(0);
  });

  it('is adopted after an interrupted create of the same Project', async () => {
    const p = project(uniqueName('resumed'));
    const ids = resources.database.client.ids(p);
    // What a create killed after the role (marked in the same transaction) leaves: no database yet.
    await admin.query(
      `CREATE ROLE ${pg.escapeIdentifier(ids.user)} LOGIN PASSWORD 'x'; COMMENT ON ROLE ${pg.escapeIdentifier(ids.user)} IS ${pg.escapeLiteral(ownerMarker(p))}`,
    );
    await ready(resources.database, p);
    expect(await canLogIn(connection(p, 'database').DATABASE_URL as string)).toBe(true);
    // ...and one killed after CREATE DATABASE, before its comment: the owner role is ours.
    await admin.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(ids.name)} IS NULL`);
    await ready(resources.database, p);
    expect(await comment('pg_database', ids.name)).toBe(ownerMarker(p));

    // A cache whose owner key was written before the user was made.
    const cacheIds = resources.cache.client.ids(p);
    await redisAdmin.set(cacheOwnerKey(cacheIds), ownerMarker(p));
    await ready(resources.cache, p);
    await finalizeExternal(resources.database, p, signal);
    await finalizeExternal(resources.cache, p, signal);
  });

  it('made before marks existed is adopted by the Project that recorded it, and refused to others', async () => {
    const name = uniqueName('legacy');
    const p = project(name);
    const ids = resources.database.client.ids(p);
    const cacheIds = resources.cache.client.ids(p);
    await ready(resources.database, p);
    await ready(resources.cache, p);
    // Strip the marks, as an older operator left them.
    await admin.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(ids.name)} IS NULL`);
    await admin.query(`COMMENT ON ROLE ${pg.escapeIdentifier(ids.user)} IS NULL`);
    await redisAdmin.del(cacheOwnerKey(cacheIds));

    const stranger = project(name);
    for (const resource of [resources.database, resources.cache] as ExternalResource<unknown>[]) {
      const outcome = await reconcileExternal(resource, stranger, signal);
      expect(outcome.condition?.message).toMatch(/is not this Project's/);
    }

    const recorded = project(name, {
      uid: p.metadata.uid,
      status: { database: { ...ids }, cache: { ...cacheIds } },
    });
    await ready(resources.database, recorded);
    await ready(resources.cache, recorded);
    expect(await comment('pg_database', ids.name)).toBe(ownerMarker(p));
    expect(await comment('pg_authid', ids.user)).toBe(ownerMarker(p));
    expect(await redisAdmin.get(cacheOwnerKey(cacheIds))).toBe(ownerMarker(p));
    await finalizeExternal(resources.database, recorded, signal);
    await finalizeExternal(resources.cache, recorded, signal);
  });
});
