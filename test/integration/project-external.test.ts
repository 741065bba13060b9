// A Project's database and cache against real PostgreSQL and Redis (make services-up): the
// credentials work and are confined to their Project, deletion honours the policy, and the
// operator recovers from outages and from being killed mid-provisioning.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { PODS, SECRETS } from '../../operator/src/runtime/resources.ts';
import { ROOT } from '../support/manifests.ts';
import { eventually, kubeConfig, uniqueName } from './support/kube.ts';
import { spawnOperator, useOperatorNamespace } from './support/operator.ts';

type Obj = KubeObject & {
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  } & Record<string, unknown>;
  data?: Record<string, string>;
};

const kc = kubeConfig();
const client = new KubeClient(kc);
const services = inject('services');
const adminArgs = (namespace: string) => [
  `--postgres-admin-secret=${namespace}/pg-admin`,
  `--redis-admin-secret=${namespace}/redis-admin`,
  '--cache-check-seconds=3',
];
const ns = useOperatorNamespace('rdev-ext', adminArgs);
const admin = new pg.Pool({ connectionString: services.databaseAdminUrl, max: 2 });
admin.on('error', () => undefined); // idle connections die with the outage test's PostgreSQL
const redisAdmin = createClient({ url: services.redisAdminUrl });
redisAdmin.on('error', () => undefined);

beforeAll(async () => {
  const core = kc.makeApiClient(CoreV1Api);
  const secret = (name: string, stringData: Record<string, string>) =>
    core.createNamespacedSecret({ namespace: ns.name, body: { metadata: { name }, stringData } });
  await secret('anthropic', { ANTHROPIC_API_KEY: 'sk-test-not-real' });
  await secret('pg-admin', { DATABASE_ADMIN_URL: services.databaseAdminUrl });
  await secret('redis-admin', { REDIS_ADMIN_URL: services.redisAdminUrl });
  await redisAdmin.connect();
});
afterAll(async () => {
  await admin.end();
  await redisAdmin.quit().catch(() => undefined);
});

const createProject = (name: string, extra: Record<string, unknown> = {}) =>
  client.create(PROJECTS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name, namespace: ns.name },
    spec: {
      agent: { credentialsSecretRef: { name: 'anthropic' } },
      database: { enabled: true },
      cache: { enabled: true },
      ...extra,
    },
  });
const getProject = (name: string) => client.get<Obj>(PROJECTS, ns.name, name);
const condition = async (name: string, type: string) =>
  (await getProject(name)).status?.conditions?.find((c) => c.type === type);
const waitReady = (name: string, timeoutMs = 60_000) =>
  eventually(async () => (await getProject(name)).status?.phase === 'Ready', { timeoutMs });
const secretData = async (name: string) => {
  const s = await client.get<Obj>(SECRETS, ns.name, name);
  return Object.fromEntries(
    Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );
};
const roleExists = async (role: string) =>
  ((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount ?? 0) > 0;
const databaseExists = async (db: string) =>
  ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db])).rowCount ?? 0) > 0;
const redisUser = (user: string) => redisAdmin.sendCommand(['ACL', 'GETUSER', user]);
const services_ = (action: string, name: string) =>
  spawnSync(join(ROOT, 'hack', 'services.sh'), [action, name], { stdio: 'ignore' }).status;

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
    await createProject(a);
    await createProject(b);
    await waitReady(a);
    await waitReady(b);
    expect(await condition(a, 'DatabaseReady')).toMatchObject({ status: 'True', reason: 'Provisioned' });
    expect(await condition(a, 'CacheReady')).toMatchObject({ status: 'True', reason: 'Provisioned' });

    const db = await secretData(`${a}-database`);
    expect(Object.keys(db).sort()).toEqual([
      'DATABASE_URL',
      'PGDATABASE',
      'PGHOST',
      'PGPASSWORD',
      'PGPORT',
      'PGUSER',
    ]);
    const status = (await getProject(a)).status as {
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
      Obj & { spec: { containers: { envFrom?: { secretRef: { name: string } }[] }[] } }
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
    await createProject(gone, { database: { enabled: true, deletionPolicy: 'Delete' } }); // databases default to Retain
    await createProject(kept, {
      database: { enabled: true, deletionPolicy: 'Retain' },
      cache: { enabled: true, deletionPolicy: 'Retain' },
    });
    await waitReady(gone);
    await waitReady(kept);
    const ids = async (name: string) =>
      (await getProject(name)).status as {
        database: { name: string; user: string };
        cache: { user: string };
      };
    const [g, k] = [await ids(gone), await ids(kept)];

    await client.delete(PROJECTS, ns.name, gone);
    await client.delete(PROJECTS, ns.name, kept);
    await eventually(() =>
      client.get(PROJECTS, ns.name, gone).then(
        () => false,
        () => true,
      ),
    );
    await eventually(() =>
      client.get(PROJECTS, ns.name, kept).then(
        () => false,
        () => true,
      ),
    );

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
    await createProject(name);
    await waitReady(name);
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
      const s = (await getProject(name)).status as {
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
    await waitReady(name);
  });

  it('deletes the cache when it is disabled, using what status recorded', async () => {
    const name = uniqueName('disable');
    await createProject(name);
    await waitReady(name);
    const user = ((await getProject(name)).status as { cache: { user: string } }).cache.user;
    await client.patch(PROJECTS, ns.name, name, { spec: { cache: { enabled: false } } }, 'merge');
    await eventually(async () => (await getProject(name)).status?.cache === undefined);
    expect(await redisUser(user)).toBeNull();
    expect(await condition(name, 'CacheReady')).toBeUndefined();
    await eventually(() =>
      client.get(SECRETS, ns.name, `${name}-cache`).then(
        () => false,
        () => true,
      ),
    );
    await waitReady(name);
  });

  it('says why while PostgreSQL is down for 30 s, and becomes Ready once it is back', async () => {
    const name = uniqueName('outage');
    expect(services_('stop-component', 'postgres')).toBe(0);
    try {
      await createProject(name);
      await eventually(async () => (await condition(name, 'DatabaseReady'))?.reason === 'ProvisioningFailed');
      expect((await condition(name, 'DatabaseReady'))?.message).toMatch(/ECONNREFUSED|connect|terminat/i);
      expect((await getProject(name)).status?.phase).toBe('Provisioning');
      await new Promise((r) => setTimeout(r, 30_000));
    } finally {
      expect(services_('start-component', 'postgres')).toBe(0);
    }
    await waitReady(name, 90_000);
  });

  it('recreates Redis users that a Redis restart lost', async () => {
    const name = uniqueName('restart');
    await createProject(name);
    await waitReady(name);
    const user = ((await getProject(name)).status as { cache: { user: string } }).cache.user;
    expect(services_('stop-component', 'redis')).toBe(0);
    expect(services_('start-component', 'redis')).toBe(0);
    await eventually(async () => (await redisUser(user).catch(() => null)) === null, { timeoutMs: 10_000 });
    await eventually(async () => (await redisUser(user).catch(() => null)) !== null, { timeoutMs: 60_000 });
    await waitReady(name);
  });
});

describe('the operator killed mid-provisioning', () => {
  it('leaves no duplicate or leaked roles, databases or Redis users over 20 cycles', {
    timeout: 400_000,
  }, async () => {
    await ns.stopOperator();
    let child = spawnOperator(ns.name, adminArgs(ns.name));
    const restart = () => {
      child.kill('SIGKILL');
      child = spawnOperator(ns.name, adminArgs(ns.name));
    };
    try {
      const kept: string[] = [];
      for (let i = 0; i < 20; i++) {
        const name = `crash-${i}`;
        await createProject(name, { database: { enabled: true, deletionPolicy: 'Delete' } });
        await new Promise((r) => setTimeout(r, 200 + ((i * 337) % 1500)));
        restart();
        if (i % 5 === 4) {
          kept.push(name);
          continue;
        }
        await new Promise((r) => setTimeout(r, (i * 211) % 1200));
        await client.delete(PROJECTS, ns.name, name);
        await new Promise((r) => setTimeout(r, (i * 173) % 800));
        restart();
      }
      for (const name of kept) await waitReady(name, 90_000);
      await eventually(
        async () =>
          (await client.list(PROJECTS, ns.name)).items.filter((p) => p.metadata.name.startsWith('crash-'))
            .length === kept.length,
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
          async (name) => ((await getProject(name)).status as { database: { user: string } }).database.user,
        ),
      );
      expect(roles.map((r) => r.r).sort()).toEqual([...expected].sort());
      expect(dbs.map((d) => d.d).sort()).toEqual([...expected].sort());
      expect(users.sort()).toEqual([...expected].sort());
    } finally {
      // delete the survivors while an operator runs, then stop it
      for (const p of (await client.list(PROJECTS, ns.name)).items)
        await client.delete(PROJECTS, ns.name, p.metadata.name);
      await eventually(async () => (await client.list(PROJECTS, ns.name)).items.length === 0, {
        timeoutMs: 90_000,
      });
      child.kill('SIGKILL');
    }
  });
});
