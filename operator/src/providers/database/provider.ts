// Database provider: one database and one login role per Project, on PostgreSQL or
// CockroachDB, reached through the admin URL in the Secret the operator configuration names.
// The role's password lives in the Project's `<project>-database` Secret, written before the
// role is created or changed.
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { isNotFound, type KubeClient } from '../../runtime/client.ts';
import { SECRETS } from '../../runtime/resources.ts';
import { boundedName, externalName } from '../../shared/naming.ts';
import { readAdminSecret } from '../admin.ts';
import { ensureCredentials, readOwnedSecret } from '../credentials.ts';
import type { ExternalClient, ExternalContext, Observation } from '../ports.ts';
import { DIALECTS, type Dialect } from './dialect.ts';

export interface DatabaseIds {
  engine: 'postgres' | 'cockroachdb';
  name: string;
  user: string;
  secretName: string;
}

interface Admin {
  pool: pg.Pool;
  dialect: Dialect;
  host: string;
  port: string;
}

const pools = new Map<string, pg.Pool>();

function poolFor(url: string): pg.Pool {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 10_000,
      query_timeout: 20_000,
    });
    // An idle client's connection dropping (the server restarting) must not crash the process.
    pool.on('error', () => undefined);
    pools.set(url, pool);
  }
  return pool;
}

/** Closes every admin connection pool (on shutdown and in tests). */
export async function closeDatabasePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.end().catch(() => undefined)));
}

export const databaseIds = (project: LiveProject): DatabaseIds => {
  const name = externalName('rdev', project.metadata.namespace, project.metadata.name);
  return {
    engine: project.spec.database.engine,
    name,
    user: name,
    secretName: boundedName(project.metadata.name, 'database', 253),
  };
};

/** The Secret the workspace reads: the standard libpq variables and a URL. */
export function databaseSecretData(
  ids: DatabaseIds,
  host: string,
  port: string,
  password: string,
): Record<string, string> {
  const url = `postgresql://${encodeURIComponent(ids.user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(ids.name)}`;
  return {
    DATABASE_URL: url,
    PGHOST: host,
    PGPORT: port,
    PGUSER: ids.user,
    PGPASSWORD: password,
    PGDATABASE: ids.name,
  };
}

export function databaseProvider(client: KubeClient, config: OperatorConfig): ExternalClient<DatabaseIds> {
  async function admin(engine: DatabaseIds['engine']): Promise<Admin> {
    const flag = engine === 'postgres' ? 'postgres-admin-secret' : 'cockroachdb-admin-secret';
    const ref = engine === 'postgres' ? config.postgresAdminSecret : config.cockroachdbAdminSecret;
    const secret = await readAdminSecret(client, ref, `${engine} admin connection`, flag);
    const url = secret.DATABASE_ADMIN_URL;
    if (!url) throw new Error(`the Secret ${ref} has no DATABASE_ADMIN_URL key`);
    const parsed = new URL(url);
    return {
      pool: poolFor(url),
      dialect: DIALECTS[engine],
      host: secret.DATABASE_HOST || parsed.hostname,
      port: secret.DATABASE_PORT || parsed.port || '5432',
    };
  }

  async function exec(a: Admin, statements: string[]): Promise<void> {
    for (const sql of statements) await a.pool.query(sql);
  }

  async function state(a: Admin, ids: DatabaseIds) {
    const role = await a.pool.query(a.dialect.roleExists, [ids.user]);
    const db = await a.pool.query<{ owner: string }>(a.dialect.databaseOwner, [ids.name]);
    return { roleExists: (role.rowCount ?? 0) > 0, owner: db.rows[0]?.owner };
  }

  async function ensure(ctx: ExternalContext<DatabaseIds>): Promise<DatabaseIds> {
    const ids = databaseIds(ctx.project);
    const a = await admin(ids.engine);
    const { password } = await ensureCredentials(
      client,
      ctx.project,
      ids.secretName,
      'PGPASSWORD',
      (pw) => databaseSecretData(ids, a.host, a.port, pw),
      ctx.rotatePassword,
    );
    const { roleExists, owner } = await state(a, ids);
    try {
      await exec(a, a.dialect.ensureRole(ids.user, password, roleExists));
    } catch (err) {
      // Created meanwhile (an interrupted earlier attempt): set the password instead.
      if (!a.dialect.duplicateCodes.includes((err as { code?: string }).code ?? '')) throw err;
      await exec(a, a.dialect.ensureRole(ids.user, password, true));
    }
    if (owner === undefined) {
      await exec(a, a.dialect.createDatabase(ids.name, ids.user)).catch((err) => {
        if (!a.dialect.duplicateCodes.includes((err as { code?: string }).code ?? '')) throw err;
      });
    }
    await exec(a, a.dialect.secureDatabase(ids.name, ids.user));
    return ids;
  }

  return {
    ids: databaseIds,

    async observe(ctx): Promise<Observation> {
      const ids = databaseIds(ctx.project);
      const a = await admin(ids.engine);
      const { roleExists, owner } = await state(a, ids);
      const secret = await readOwnedSecret(client, ctx.project, ids.secretName);
      const password = secret?.PGPASSWORD;
      const secretCurrent =
        password !== undefined &&
        isDeepStrictEqual(secret, databaseSecretData(ids, a.host, a.port, password));
      const diff = !roleExists
        ? `role ${ids.user} is missing`
        : owner !== ids.user
          ? `database ${ids.name} is missing or not owned by ${ids.user}`
          : !secretCurrent
            ? `Secret ${ids.secretName} is missing or outdated`
            : undefined;
      return { exists: roleExists || owner !== undefined, upToDate: diff === undefined, diff };
    },

    create: ensure,
    update: ensure,

    async delete(ids, ctx) {
      const a = await admin(ids.engine);
      await exec(a, a.dialect.drop(ids.name, ids.user));
      await client.delete(SECRETS, ctx.project.metadata.namespace, ids.secretName).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    },
  };
}
