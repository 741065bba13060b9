// A Project's database and cache against real PostgreSQL and Redis (make services-up): the
// credentials work and are confined to their Project, deletion honours the policy, and the
// operator recovers from outages and from being killed mid-provisioning.
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { PODS, SECRETS } from '../../operator/src/runtime/resources.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { servicesComponent } from './support/hack.ts';
import {
  createAgentSecret,
  createSecret,
  eventually,
  kubeConfig,
  readSecret,
  uniqueName,
  untilGone,
} from './support/kube.ts';
import { useOperatorNamespace, useOperatorProcess } from './support/operator.ts';
import { type RdevLive, rdevKind } from './support/rdev-objects.ts';

const client = new KubeClient(kubeConfig());
const services = inject('services');
const adminArgs = (namespace: string) => [
  `--postgres-admin-secret=${namespace}/pg-admin`,
  `--redis-admin-secret=${namespace}/redis-admin`,
  '--cache-check-seconds=3',
];
// The chaos test's operators: the last one is stopped when the file ends.
const operator = useOperatorProcess(() => ns.name, adminArgs);
const ns = useOperatorNamespace('rdev-ext', adminArgs);
const projects = rdevKind(client, PROJECTS, ns, {
  spec: { ...PROJECT_SPEC, database: { enabled: true }, cache: { enabled: true } },
});
const admin = new pg.Pool({ connectionString: services.databaseAdminUrl, max: 2 });
admin.on('error', () => undefined); // idle connections die with the outage test's PostgreSQL
const redisAdmin = createClient({ url: services.redisAdminUrl });
redisAdmin.on('error', () => undefined);

beforeAll(async () => {
  await createAgentSecret(ns.name);
  await createSecret(ns.name, 'pg-admin', { DATABASE_ADMIN_URL: services.databaseAdminUrl });
  await createSecret(ns.name, 'redis-admin', { REDIS_ADMIN_URL: services.redisAdminUrl });
  await redisAdmin.connect();
});
afterAll(async () => {
  await admin.end();
  await redisAdmin.quit().catch(() => undefined);
});

const secretData = (name: string) => readSecret(ns.name, name);
const roleExists = async (role: string) =>
  ((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount ?? 0) > 0;
const databaseExists = async (db: string) =>
  ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db])).rowCount ?? 0) > 0;
const redisUser = (user: string) => redisAdmin.sendCommand(['ACL', 'GETUSER', user]);

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('a Project with a database and a cache', () => {
  it('becomes Ready with credentials that work and reach only its own database and keys', async () => {
    const [a, b] = [uniqueName('alpha'), uniqueName('beta')];
    await projects.create(a);
    await projects.create(b);
    await projects.phase(a, 'Ready');
    await projects.phase(b, 'Ready');
    // External resources are released by the Project's finalizer before it goes.
    expect((await projects.get(a)).metadata.finalizers).toContain('rdev.dev/project');
    expect(await projects.condition(a, 'DatabaseReady')).toMatchObject({
      status: 'True',
      reason: 'Provisioned',
    });
    expect(await projects.condition(a, 'CacheReady')).toMatchObject({
      status: 'True',
      reason: 'Provisioned',
    });

    const db = await secretData(`${a}-database`);
    expect(Object.keys(db).sort()).toEqual([
      'DATABASE_URL',
      'PGDATABASE',
      'PGHOST',
      'PGPASSWORD',
      'PGPORT',
      'PGUSER',
    ]);
    const status = (await projects.get(a)).status as {
      database: { name: string; user: string };
      cache: { user: string };
    };
    expect(status.database).toMatchObject({
      name: db.PGDATABASE,
      user: db.PGUSER,
      secretName: `${a}-database`,
    });
    const who = await withClient(db.DATABASE_URL as string, async (c) => {
      await c.query('CREATE TABLE notes (id int)');
      return (await c.query('SELECT current_user AS u, current_database() AS d')).rows[0];
    });
    expect(who).toEqual({ u: db.PGUSER, d: db.PGDATABASE });

    // a's role may not connect to b's database
    const other = await secretData(`${b}-database`);
    const intoOther = new URL(db.DATABASE_URL as string);
    intoOther.pathname = `/${other.PGDATABASE}`;
    await expect(withClient(intoOther.toString(), async () => undefined)).rejects.toThrow(
      /permission denied/,
    );

    // the workspace gets both Secrets as env
    const pod = await client.get<
      RdevLive & { spec: { containers: { envFrom?: { secretRef: { name: string } }[] }[] } }
    >(PODS, ns.name, `${a}-workspace`);
    expect(pod.spec.containers[0]?.envFrom?.map((e) => e.secretRef.name)).toEqual([
      `${a}-database`,
      `${a}-cache`,
    ]);

    const cache = await secretData(`${a}-cache`);
    const user = createClient({ url: cache.REDIS_URL });
    await user.connect();
    try {
      await user.set(`${cache.REDIS_KEY_PREFIX}x`, '1');
      expect(await user.get(`${cache.REDIS_KEY_PREFIX}x`)).toBe('1');
      await expect(user.set('other:x', '1')).rejects.toThrow(/NOPERM/);
      await expect(user.flushAll()).rejects.toThrow(/NOPERM/);
      await expect(user.configGet('maxmemory')).rejects.toThrow(/NOPERM/);
    } finally {
      await user.quit();
    }
    const acl = await redisUser(status.cache.user);
    expect(JSON.stringify(acl)).not.toContain(cache.REDIS_PASSWORD);
  });

  it('deletes database, role and Redis user with the Project, and keeps them with Retain', async () => {
    const [gone, kept] = [uniqueName('gone'), uniqueName('kept')];
    await projects.create(gone, { database: { enabled: true, deletionPolicy: 'Delete' } }); // databases default to Retain
    await projects.create(kept, {
      database: { enabled: true, deletionPolicy: 'Retain' },
      cache: { enabled: true, deletionPolicy: 'Retain' },
    });
    await projects.phase(gone, 'Ready');
    await projects.phase(kept, 'Ready');
    const ids = async (name: string) =>
      (await projects.get(name)).status as {
        database: { name: string; user: string };
        cache: { user: string };
      };
    const [g, k] = [await ids(gone), await ids(kept)];

    await projects.delete(gone);
    await projects.delete(kept);
    await projects.gone(gone);
    await projects.gone(kept);

    expect(await databaseExists(g.database.name)).toBe(false);
    expect(await roleExists(g.database.user)).toBe(false);
    expect(await redisUser(g.cache.user)).toBeNull();
    expect(await databaseExists(k.database.name)).toBe(true);
    expect(await roleExists(k.database.user)).toBe(true);
    expect(await redisUser(k.cache.user)).not.toBeNull();
    // clean up what was retained on purpose
    await admin.query(`DROP DATABASE ${pg.escapeIdentifier(k.database.name)} WITH (FORCE)`);
    await admin.query(`DROP ROLE ${pg.escapeIdentifier(k.database.user)}`);
    await redisAdmin.sendCommand(['ACL', 'DELUSER', k.cache.user]);
  });

  it('rotates the database and cache passwords on request, restarting the workspace', async () => {
    const name = uniqueName('rotate');
    await projects.create(name);
    await projects.phase(name, 'Ready');
    const [dbBefore, cacheBefore] = [await secretData(`${name}-database`), await secretData(`${name}-cache`)];
    const podBefore = await client.get(PODS, ns.name, `${name}-workspace`);

    await client.patch(
      PROJECTS,
      ns.name,
      name,
      {
        metadata: {
          annotations: { 'rdev.dev/rotate-database-password': '1', 'rdev.dev/rotate-cache-password': '1' },
        },
      },
      'merge',
    );
    await eventually(async () => {
      const s = (await projects.get(name)).status as {
        database?: { passwordRotation?: string };
        cache?: { passwordRotation?: string };
      };
      return s.database?.passwordRotation === '1' && s.cache?.passwordRotation === '1';
    });
    const [dbAfter, cacheAfter] = [await secretData(`${name}-database`), await secretData(`${name}-cache`)];
    expect(dbAfter.PGPASSWORD).not.toBe(dbBefore.PGPASSWORD);
    expect(cacheAfter.REDIS_PASSWORD).not.toBe(cacheBefore.REDIS_PASSWORD);
    await expect(withClient(dbBefore.DATABASE_URL as string, async () => undefined)).rejects.toThrow(
      /password authentication failed/,
    );
    expect(
      await withClient(
        dbAfter.DATABASE_URL as string,
        async (c) => (await c.query('SELECT 1 AS one')).rows[0],
      ),
    ).toEqual({ one: 1 });
    const fresh = createClient({ url: cacheAfter.REDIS_URL });
    await fresh.connect();
    expect(await fresh.ping()).toBe('PONG');
    await fresh.quit();
    await eventually(
      async () =>
        (await client.get(PODS, ns.name, `${name}-workspace`).catch(() => podBefore)).metadata.uid !==
        podBefore.metadata.uid,
    );
    await projects.phase(name, 'Ready');
  });

  it('deletes the cache when it is disabled, using what status recorded', async () => {
    const name = uniqueName('disable');
    await projects.create(name);
    await projects.phase(name, 'Ready');
    const user = ((await projects.get(name)).status as { cache: { user: string } }).cache.user;
    await projects.patchSpec(name, { cache: { enabled: false } });
    await eventually(async () => (await projects.get(name)).status?.cache === undefined);
    expect(await redisUser(user)).toBeNull();
    expect(await projects.condition(name, 'CacheReady')).toBeUndefined();
    await untilGone(() => client.get(SECRETS, ns.name, `${name}-cache`));
    await projects.phase(name, 'Ready');
  });

  it('says why while PostgreSQL is down for 30 s, and becomes Ready once it is back', async () => {
    const name = uniqueName('outage');
    expect(servicesComponent('stop-component', 'postgres')).toBe(0);
    try {
      await projects.create(name);
      await eventually(
        async () => (await projects.condition(name, 'DatabaseReady'))?.reason === 'ProvisioningFailed',
      );
      expect((await projects.condition(name, 'DatabaseReady'))?.message).toMatch(
        /ECONNREFUSED|connect|terminat/i,
      );
      expect((await projects.get(name)).status?.phase).toBe('Provisioning');
      await new Promise((r) => setTimeout(r, 30_000));
    } finally {
      expect(servicesComponent('start-component', 'postgres')).toBe(0);
    }
    await projects.phase(name, 'Ready', 90_000);
  });

  it('recreates Redis users that a Redis restart lost', async () => {
    const name = uniqueName('restart');
    await projects.create(name);
    await projects.phase(name, 'Ready');
    const user = ((await projects.get(name)).status as { cache: { user: string } }).cache.user;
    expect(servicesComponent('stop-component', 'redis')).toBe(0);
    expect(servicesComponent('start-component', 'redis')).toBe(0);
    await eventually(async () => (await redisUser(user).catch(() => null)) === null, { timeoutMs: 10_000 });
    await eventually(async () => (await redisUser(user).catch(() => null)) !== null, { timeoutMs: 60_000 });
    await projects.phase(name, 'Ready');
  });
});

describe('the operator killed mid-provisioning', () => {
  it('leaves no duplicate or leaked roles, databases or Redis users over 20 cycles', {
    timeout: 400_000,
  }, async () => {
    await ns.stopOperator();
    operator.restart();
    try {
      const kept: string[] = [];
      for (let i = 0; i < 20; i++) {
        const name = `crash-${i}`;
        await projects.create(name, { database: { enabled: true, deletionPolicy: 'Delete' } });
        await new Promise((r) => setTimeout(r, 200 + ((i * 337) % 1500)));
        operator.restart();
        if (i % 5 === 4) {
          kept.push(name);
          continue;
        }
        await new Promise((r) => setTimeout(r, (i * 211) % 1200));
        await projects.delete(name);
        await new Promise((r) => setTimeout(r, (i * 173) % 800));
        operator.restart();
      }
      for (const name of kept) await projects.phase(name, 'Ready', 90_000);
      await eventually(
        async () =>
          (await projects.list()).filter((p) => p.metadata.name.startsWith('crash-')).length === kept.length,
        { timeoutMs: 90_000 },
      );

      const prefix = `rdev_${ns.name.replace(/-/g, '_')}_crash_`;
      const roles = (
        await admin.query<{ r: string }>('SELECT rolname AS r FROM pg_roles WHERE starts_with(rolname, $1)', [
          prefix,
        ])
      ).rows;
      const dbs = (
        await admin.query<{ d: string }>(
          'SELECT datname AS d FROM pg_database WHERE starts_with(datname, $1)',
          [prefix],
        )
      ).rows;
      const users = ((await redisAdmin.sendCommand(['ACL', 'USERS'])) as string[]).filter((u) =>
        u.startsWith(prefix),
      );
      const expected = await Promise.all(
        kept.map(
          async (name) => ((await projects.get(name)).status as { database: { user: string } }).database.user,
        ),
      );
      expect(roles.map((r) => r.r).sort()).toEqual([...expected].sort());
      expect(dbs.map((d) => d.d).sort()).toEqual([...expected].sort());
      expect(users.sort()).toEqual([...expected].sort());
    } finally {
      // delete the survivors while an operator runs, then stop it
      for (const p of await projects.list()) await projects.delete(p.metadata.name);
      await eventually(async () => (await projects.list()).length === 0, {
        timeoutMs: 90_000,
      });
      operator.kill();
    }
  });
});
