// The SQL each engine needs, as pure functions (unit-tested on what they emit). Identifiers and
// literals go through the pg driver's escapeIdentifier/escapeLiteral, never raw concatenation.
// PostgreSQL has no IF NOT EXISTS for roles and databases and cannot CREATE/DROP DATABASE in a
// transaction; CockroachDB has IF NOT EXISTS, CASCADE and CANCEL SESSIONS instead.
// The owner's mark (providers/marker.ts) is a comment: on the role and the database in
// PostgreSQL, on the database alone in CockroachDB (which has no COMMENT ON ROLE). Each is made
// in the same transaction as what it marks where the engine allows it, so that an interrupted
// create never leaves an unmarked object behind (a multi-statement query is one transaction).
import pg from 'pg';

const id = (name: string) => pg.escapeIdentifier(name);
const lit = (value: string) => pg.escapeLiteral(value);

export interface Dialect {
  engine: 'postgres' | 'cockroachdb';
  /** Statements that create the role marked as `marker`'s, or set its password and mark when it exists. */
  ensureRole(role: string, password: string, exists: boolean, marker: string): string[];
  /** Statements that create the database owned by the role and marked as `marker`'s, when missing. */
  createDatabase(database: string, role: string, marker: string): string[];
  /** Statements that mark the database as `marker`'s. */
  markDatabase(database: string, marker: string): string[];
  /** Whether roles carry comments (the owner's mark). */
  roleComments: boolean;
  /** Statements that give an existing database to the role. */
  setOwner(database: string, role: string): string[];
  /** Statements that make the database the role's alone (others may not connect). */
  secureDatabase(database: string, role: string): string[];
  /** Statements that end sessions and drop the database and the role (idempotent). */
  drop(database: string, role: string): string[];
  /** Query (one parameter: the role): a row when the role exists, with its comment as `comment`. */
  roleExists: string;
  /** Query (one parameter: the database) returning its owner as `owner` and its comment as `comment`. */
  databaseOwner: string;
  /** Error codes meaning "already exists" (a concurrent or interrupted create). */
  duplicateCodes: string[];
  /**
   * A session-level lock per database name (one parameter: the name), taken around create,
   * update and delete. A statement of an operator killed mid-create runs on in the server, which
   * holds that session's lock until the statement ends: a delete waits for it instead of dropping
   * first and leaving what the statement then makes. Undefined where the engine has none.
   */
  lock?: { take: string; release: string };
}

export const postgres: Dialect = {
  engine: 'postgres',
  ensureRole: (role, password, exists, marker) => {
    const set = `${exists ? 'ALTER' : 'CREATE'} ROLE ${id(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD ${lit(password)}`;
    const mark = `COMMENT ON ROLE ${id(role)} IS ${lit(marker)}`;
    // A new role and its mark in one transaction; an existing one is checked as ours first.
    return exists ? [set, mark] : [`${set}; ${mark}`];
  },
  // CREATE DATABASE cannot run in a transaction: its mark follows (an unmarked database owned by
  // the Project's marked role is the Project's).
  createDatabase: (database, role, marker) => [
    `CREATE DATABASE ${id(database)} OWNER ${id(role)}`,
    `COMMENT ON DATABASE ${id(database)} IS ${lit(marker)}`,
  ],
  markDatabase: (database, marker) => [`COMMENT ON DATABASE ${id(database)} IS ${lit(marker)}`],
  roleComments: true,
  setOwner: (database, role) => [`ALTER DATABASE ${id(database)} OWNER TO ${id(role)}`],
  secureDatabase: (database, role) => [
    `REVOKE ALL ON DATABASE ${id(database)} FROM PUBLIC`,
    `GRANT ALL PRIVILEGES ON DATABASE ${id(database)} TO ${id(role)}`,
  ],
  drop: (database, role) => [
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ${lit(role)} OR datname = ${lit(database)}`,
    `DROP DATABASE IF EXISTS ${id(database)} WITH (FORCE)`,
    `DROP ROLE IF EXISTS ${id(role)}`,
  ],
  roleExists: "SELECT shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1",
  databaseOwner:
    "SELECT pg_get_userbyid(datdba) AS owner, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
  duplicateCodes: ['42710', '42P04', '23505'],
  lock: {
    take: 'SELECT pg_advisory_lock(hashtext($1))',
    release: 'SELECT pg_advisory_unlock(hashtext($1))',
  },
};

export const cockroachdb: Dialect = {
  engine: 'cockroachdb',
  ensureRole: (role, password, exists) => [
    exists
      ? `ALTER USER ${id(role)} WITH LOGIN PASSWORD ${lit(password)}`
      : `CREATE USER IF NOT EXISTS ${id(role)} WITH LOGIN PASSWORD ${lit(password)}`,
  ],
  // One implicit transaction: the database is never there without its mark.
  createDatabase: (database, role, marker) => [
    [
      `CREATE DATABASE IF NOT EXISTS ${id(database)}`,
      `ALTER DATABASE ${id(database)} OWNER TO ${id(role)}`,
      `COMMENT ON DATABASE ${id(database)} IS ${lit(marker)}`,
    ].join('; '),
  ],
  markDatabase: (database, marker) => [`COMMENT ON DATABASE ${id(database)} IS ${lit(marker)}`],
  roleComments: false,
  setOwner: (database, role) => [`ALTER DATABASE ${id(database)} OWNER TO ${id(role)}`],
  secureDatabase: (database, role) => [
    `REVOKE CONNECT ON DATABASE ${id(database)} FROM public`,
    `GRANT ALL ON DATABASE ${id(database)} TO ${id(role)}`,
  ],
  drop: (database, role) => [
    `CANCEL SESSIONS (SELECT session_id FROM [SHOW CLUSTER SESSIONS] WHERE user_name = ${lit(role)})`,
    `DROP DATABASE IF EXISTS ${id(database)} CASCADE`,
    `DROP USER IF EXISTS ${id(role)}`,
  ],
  roleExists: 'SELECT NULL::STRING AS comment FROM pg_catalog.pg_roles WHERE rolname = $1',
  databaseOwner:
    "SELECT pg_catalog.pg_get_userbyid(datdba) AS owner, pg_catalog.shobj_description(oid, 'pg_database') AS comment FROM pg_catalog.pg_database WHERE datname = $1",
  duplicateCodes: ['42710', '42P04', '23505'],
};

export const DIALECTS = { postgres, cockroachdb } as const;
