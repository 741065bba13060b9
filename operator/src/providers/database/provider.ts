// Database provider: one database and one login role per Project, on PostgreSQL or
// CockroachDB, reached through the admin URL in the Secret the operator configuration names.
// The role's password is generated and kept by the sub-reconciler (external.ts), which writes
// the connection details observed here to the Project's `<project>-database` Secret before the
// role is created or changed with it.
// Database and role carry the owner's mark (namespace, name and uid) as their comment: a
// retained database is never adopted (nor its password reset) by a new Project of the same name.
import pg from 'pg';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import type { KubeClient } from '../../runtime/client.ts';
import { boundedName, externalName } from '../../shared/naming.ts';
import { readAdminEndpoint } from '../admin.ts';
import { ownerMarker } from '../marker.ts';
import {
  type ConnectionDetails,
  type ExternalClient,
  type ExternalContext,
  ForeignResourceError,
  passwordOf,
} from '../ports.ts';
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

/** A database or role of the Project's name exists and is not this Project's. */
export class ForeignDatabaseError extends ForeignResourceError {
  constructor(what: string, marker: string) {
    super(
      `${what} already exists and is not this Project's (its comment is not "${marker}"); rdev does ` +
        'not change or delete it: drop or rename it, or name the Project differently',
    );
    this.name = 'ForeignDatabaseError';
  }
}

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
    const role = await a.db.query<{ comment: string | null }>(a.dialect.roleExists, [ids.user]);
    const db = await a.db.query<{ owner: string; comment: string | null }>(a.dialect.databaseOwner, [
      ids.name,
    ]);
    return {
      roleExists: (role.rowCount ?? 0) > 0,
      roleComment: role.rows[0]?.comment ?? undefined,
      owner: db.rows[0]?.owner,
      databaseComment: db.rows[0]?.comment ?? undefined,
    };
  }
  type State = Awaited<ReturnType<typeof state>>;

  /**
   * Whether what exists is the Project's: marked as its own; or an unmarked database owned by its
   * marked role (a create interrupted before the database's mark); or, unmarked, recorded in its
   * status (made before marks existed). Throws ForeignDatabaseError otherwise.
   */
  function ensureOwned(a: Admin, ids: DatabaseIds, s: State, project: LiveProject, recorded: boolean): void {
    const marker = ownerMarker(project);
    const legacy = (comment: string | undefined) => recorded && !comment;
    const roleMarked = a.dialect.roleComments && s.roleComment === marker;
    if (s.roleExists && a.dialect.roleComments && !roleMarked && !legacy(s.roleComment))
      throw new ForeignDatabaseError(`role ${ids.user}`, marker);
    if (
      s.owner !== undefined &&
      s.databaseComment !== marker &&
      !(s.owner === ids.user && roleMarked && !s.databaseComment) &&
      !legacy(s.databaseComment)
    )
      throw new ForeignDatabaseError(`database ${ids.name}`, marker);
  }

  const isRecorded = (project: LiveProject, ids: DatabaseIds) =>
    project.status?.database?.name === ids.name && project.status.database.user === ids.user;

  /** The role with the password handed over: created, or (when it exists) altered; marked either way. */
  async function setRole(
    a: Admin,
    ids: DatabaseIds,
    password: string,
    exists: boolean,
    marker: string,
  ): Promise<void> {
    // Created meanwhile (an interrupted earlier attempt): set the password instead.
    if ((await execOrExists(a, a.dialect.ensureRole(ids.user, password, exists, marker))) === 'exists') {
      await exec(a, a.dialect.ensureRole(ids.user, password, true, marker));
    }
  }

  async function createDatabase(a: Admin, ids: DatabaseIds, marker: string): Promise<void> {
    if ((await execOrExists(a, a.dialect.createDatabase(ids.name, ids.user, marker))) === 'exists')
      await exec(a, a.dialect.markDatabase(ids.name, marker));
  }

  /** Creates the role and its database (observed missing), the database the role's alone. */
  async function create(ctx: ExternalContext<DatabaseIds>): Promise<DatabaseIds> {
    const ids = databaseIds(ctx.project);
    const marker = ownerMarker(ctx.project);
    return locked(await admin(ids.engine), ids, async (a) => {
      const s = await state(a, ids);
      ensureOwned(a, ids, s, ctx.project, ctx.recorded !== undefined);
      await setRole(a, ids, passwordOf(ctx), s.roleExists, marker);
      await createDatabase(a, ids, marker);
      await exec(a, a.dialect.secureDatabase(ids.name, ids.user));
      return ids;
    });
  }

  /** Alters the role's password, and makes, marks or gives back whatever part is missing or not the role's. */
  async function update(ctx: ExternalContext<DatabaseIds>): Promise<DatabaseIds> {
    const ids = databaseIds(ctx.project);
    const marker = ownerMarker(ctx.project);
    return locked(await admin(ids.engine), ids, async (a) => {
      const s = await state(a, ids);
      ensureOwned(a, ids, s, ctx.project, ctx.recorded !== undefined);
      await setRole(a, ids, passwordOf(ctx), s.roleExists, marker);
      if (s.owner === undefined) await createDatabase(a, ids, marker);
      else {
        if (s.owner !== ids.user) await exec(a, a.dialect.setOwner(ids.name, ids.user));
        if (s.databaseComment !== marker) await exec(a, a.dialect.markDatabase(ids.name, marker));
      }
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
      const s = await state(a, ids);
      ensureOwned(a, ids, s, ctx.project, ctx.recorded !== undefined);
      const marker = ownerMarker(ctx.project);
      const diff = !s.roleExists
        ? `role ${ids.user} is missing`
        : s.owner !== ids.user
          ? `database ${ids.name} is missing or not owned by ${ids.user}`
          : s.databaseComment !== marker || (a.dialect.roleComments && s.roleComment !== marker)
            ? `database ${ids.name} is not marked as the Project's`
            : undefined;
      return {
        exists: s.roleExists || s.owner !== undefined,
        upToDate: diff === undefined,
        diff,
        ids,
        connection: databaseSecretData(ids, a.host, a.port, passwordOf(ctx)),
      };
    },

    create,
    update,

    async delete(ids, ctx) {
      await locked(await admin(ids.engine), ids, async (a) => {
        try {
          ensureOwned(a, ids, await state(a, ids), ctx.project, isRecorded(ctx.project, ids));
        } catch (err) {
          // Another Project's (retained) database and role are left alone.
          if (err instanceof ForeignDatabaseError) return;
          throw err;
        }
        await exec(a, a.dialect.drop(ids.name, ids.user));
      });
    },
  };
}
