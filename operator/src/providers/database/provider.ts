// Database provider: one database and one login role per Project, on PostgreSQL or
// CockroachDB, reached through the admin URL in the Secret the operator configuration names.
// The role's password is generated and kept by the sub-reconciler (external.ts), which writes
// the connection details observed here to the Project's `<project>-database` Secret before the
// role is created or changed with it.
import pg from 'pg';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import type { KubeClient } from '../../runtime/client.ts';
import { boundedName, externalName } from '../../shared/naming.ts';
import { readAdminEndpoint } from '../admin.ts';
import { type ConnectionDetails, type ExternalClient, type ExternalContext, passwordOf } from '../ports.ts';
import { DIALECTS, type Dialect } from './dialect.ts';

export interface DatabaseIds {
  engine: 'postgres' | 'cockroachdb';
  name: string;
  user: string;
  secretName: string;
}

interface Admin {
  pool: pg.Pool;
  /** Where statements run: the pool, or one connection of it holding the resource's lock. */
  db: pg.Pool | pg.PoolClient;
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

/** The connection details the workspace gets: the standard libpq variables and a URL. */
export function databaseSecretData(
  ids: DatabaseIds,
  host: string,
  port: string,
  password: string,
): ConnectionDetails {
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
    const postgres = engine === 'postgres';
    const endpoint = await readAdminEndpoint(
      client,
      postgres ? config.postgresAdminSecret : config.cockroachdbAdminSecret,
      `${engine} admin connection`,
      postgres ? 'postgres-admin-secret' : 'cockroachdb-admin-secret',
      'DATABASE',
      '5432',
    );
    const pool = poolFor(endpoint.url);
    return {
      pool,
      db: pool,
      dialect: DIALECTS[engine],
      host: endpoint.host,
      port: endpoint.port,
    };
  }

  async function exec(a: Admin, statements: string[]): Promise<void> {
    for (const sql of statements) await a.db.query(sql);
  }

  /** Runs `work` on one connection holding the database's lock, where the engine has one. */
  async function locked<T>(a: Admin, ids: DatabaseIds, work: (a: Admin) => Promise<T>): Promise<T> {
    const lock = a.dialect.lock;
    if (!lock) return work(a);
    const conn = await a.pool.connect();
    let broken = false;
    try {
      await conn.query(lock.take, [ids.name]);
      try {
        return await work({ ...a, db: conn });
      } finally {
        // A failed unlock ends the session instead, which releases the lock as well.
        await conn.query(lock.release, [ids.name]).catch(() => {
          broken = true;
        });
      }
    } finally {
      conn.release(broken);
    }
  }

  /** Runs statements that may meet what a concurrent or interrupted attempt made ("already exists"). */
  async function execOrExists(a: Admin, statements: string[]): Promise<'done' | 'exists'> {
    try {
      await exec(a, statements);
      return 'done';
    } catch (err) {
      if (err instanceof pg.DatabaseError && a.dialect.duplicateCodes.includes(err.code ?? ''))
        return 'exists';
      throw err;
    }
  }

  async function state(a: Admin, ids: DatabaseIds) {
    const role = await a.db.query(a.dialect.roleExists, [ids.user]);
    const db = await a.db.query<{ owner: string }>(a.dialect.databaseOwner, [ids.name]);
    return { roleExists: (role.rowCount ?? 0) > 0, owner: db.rows[0]?.owner };
  }

  /** The role with the password handed over: created, or (when it exists) altered. */
  async function setRole(a: Admin, ids: DatabaseIds, password: string, exists: boolean): Promise<void> {
    // Created meanwhile (an interrupted earlier attempt): set the password instead.
    if ((await execOrExists(a, a.dialect.ensureRole(ids.user, password, exists))) === 'exists') {
      await exec(a, a.dialect.ensureRole(ids.user, password, true));
    }
  }

  /** Creates the role and its database (observed missing), the database the role's alone. */
  async function create(ctx: ExternalContext<DatabaseIds>): Promise<DatabaseIds> {
    const ids = databaseIds(ctx.project);
    return locked(await admin(ids.engine), ids, async (a) => {
      await setRole(a, ids, passwordOf(ctx), false);
      await execOrExists(a, a.dialect.createDatabase(ids.name, ids.user));
      await exec(a, a.dialect.secureDatabase(ids.name, ids.user));
      return ids;
    });
  }

  /** Alters the role's password, and makes or gives back whatever part is missing or not the role's. */
  async function update(ctx: ExternalContext<DatabaseIds>): Promise<DatabaseIds> {
    const ids = databaseIds(ctx.project);
    return locked(await admin(ids.engine), ids, async (a) => {
      const { roleExists, owner } = await state(a, ids);
      await setRole(a, ids, passwordOf(ctx), roleExists);
      if (owner === undefined) await execOrExists(a, a.dialect.createDatabase(ids.name, ids.user));
      else if (owner !== ids.user) await exec(a, a.dialect.setOwner(ids.name, ids.user));
      await exec(a, a.dialect.secureDatabase(ids.name, ids.user));
      return ids;
    });
  }

  return {
    ids: databaseIds,
    passwordKey: 'PGPASSWORD',

    async observe(ctx) {
      const ids = databaseIds(ctx.project);
      const a = await admin(ids.engine);
      const { roleExists, owner } = await state(a, ids);
      const diff = !roleExists
        ? `role ${ids.user} is missing`
        : owner !== ids.user
          ? `database ${ids.name} is missing or not owned by ${ids.user}`
          : undefined;
      return {
        exists: roleExists || owner !== undefined,
        upToDate: diff === undefined,
        diff,
        ids,
        connection: databaseSecretData(ids, a.host, a.port, passwordOf(ctx)),
      };
    },

    create,
    update,

    async delete(ids) {
      await locked(await admin(ids.engine), ids, (a) => exec(a, a.dialect.drop(ids.name, ids.user)));
    },
  };
}
