import { describe, expect, it } from 'vitest';
import { aclRules, cacheIds, cacheSecretData } from '../../operator/src/providers/cache/provider.ts';
import { cockroachdb, postgres } from '../../operator/src/providers/database/dialect.ts';
import { databaseIds, databaseSecretData } from '../../operator/src/providers/database/provider.ts';
import { externalName } from '../../operator/src/shared/naming.ts';
import { liveProject } from './providers/support.ts';

const project = (namespace: string, name: string, engine: 'postgres' | 'cockroachdb' = 'postgres') =>
  liveProject({ database: { engine } }, { namespace, name });

describe('external names', () => {
  it('are deterministic, bounded and never shared by different namespace/project pairs', () => {
    expect(externalName('rdev', 'team', 'shop')).toMatch(/^rdev_team_shop_[0-9a-f]{8}$/);
    expect(externalName('rdev', 'a-b', 'c')).not.toBe(externalName('rdev', 'a', 'b-c'));
    const long = externalName('rdev', 'n'.repeat(63), 'p'.repeat(63));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toBe(externalName('rdev', 'n'.repeat(63), 'p'.repeat(63)));
    expect(long).not.toBe(externalName('rdev', 'n'.repeat(63), `${'p'.repeat(62)}q`));
  });
});

describe('postgres dialect', () => {
  it('creates a login role without privileges, escaping identifiers and literals', () => {
    expect(postgres.ensureRole('rdev_x', "pa'ss", false, 'rdev:t/x uid=1')).toEqual([
      `CREATE ROLE "rdev_x" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD 'pa''ss'; COMMENT ON ROLE "rdev_x" IS 'rdev:t/x uid=1'`,
    ]);
    expect(postgres.ensureRole('we"ird', 'p', true, 'm')[0]).toMatch(/^ALTER ROLE "we""ird" WITH LOGIN/);
    expect(postgres.ensureRole('we"ird', 'p', true, "o'k")[1]).toBe(`COMMENT ON ROLE "we""ird" IS 'o''k'`);
  });

  it('marks the database as its Project’s, reading marks back with the owner', () => {
    expect(postgres.createDatabase('d', 'r', 'm')).toEqual([
      'CREATE DATABASE "d" OWNER "r"',
      `COMMENT ON DATABASE "d" IS 'm'`,
    ]);
    expect(postgres.markDatabase('d', "it's")).toEqual([`COMMENT ON DATABASE "d" IS 'it''s'`]);
    expect(postgres.databaseOwner).toContain("shobj_description(oid, 'pg_database') AS comment");
    expect(postgres.roleExists).toContain("shobj_description(oid, 'pg_authid') AS comment");
  });

  it('makes the database its owner’s alone, and drops sessions, database and role', () => {
    expect(postgres.setOwner('d', 'r')).toEqual(['ALTER DATABASE "d" OWNER TO "r"']);
    expect(postgres.secureDatabase('d', 'r')).toEqual([
      'REVOKE ALL ON DATABASE "d" FROM PUBLIC',
      'GRANT ALL PRIVILEGES ON DATABASE "d" TO "r"',
    ]);
    expect(postgres.drop('d', 'r')).toEqual([
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'r' OR datname = 'd'`,
      'DROP DATABASE IF EXISTS "d" WITH (FORCE)',
      'DROP ROLE IF EXISTS "r"',
    ]);
  });
});

describe('the lock around create, update and delete', () => {
  it('is a session advisory lock per database on PostgreSQL, where a killed statement holds it', () => {
    expect(postgres.lock).toEqual({
      take: 'SELECT pg_advisory_lock(hashtext($1))',
      release: 'SELECT pg_advisory_unlock(hashtext($1))',
    });
  });

  it('is absent on CockroachDB, which has no advisory locks', () => {
    expect(cockroachdb.lock).toBeUndefined();
  });
});

describe('cockroachdb dialect', () => {
  it('uses IF NOT EXISTS, users, owners and grants', () => {
    expect(cockroachdb.ensureRole('r', 'p', false, 'm')).toEqual([
      `CREATE USER IF NOT EXISTS "r" WITH LOGIN PASSWORD 'p'`,
    ]);
    expect(cockroachdb.ensureRole('r', 'p', true, 'm')).toEqual([`ALTER USER "r" WITH LOGIN PASSWORD 'p'`]);
    // No COMMENT ON ROLE in CockroachDB: the database carries the mark, made in one transaction.
    expect(cockroachdb.roleComments).toBe(false);
    expect(cockroachdb.createDatabase('d', 'r', 'm')).toEqual([
      `CREATE DATABASE IF NOT EXISTS "d"; ALTER DATABASE "d" OWNER TO "r"; COMMENT ON DATABASE "d" IS 'm'`,
    ]);
    expect(cockroachdb.markDatabase('d', 'm')).toEqual([`COMMENT ON DATABASE "d" IS 'm'`]);
    expect(cockroachdb.setOwner('d', 'r')).toEqual(['ALTER DATABASE "d" OWNER TO "r"']);
    expect(cockroachdb.secureDatabase('d', 'r')).toEqual([
      'REVOKE CONNECT ON DATABASE "d" FROM public',
      'GRANT ALL ON DATABASE "d" TO "r"',
    ]);
  });

  it('cancels sessions and drops with CASCADE, no TEMPLATE, TABLESPACE or SUPERUSER anywhere', () => {
    const all = [
      ...cockroachdb.ensureRole('r', 'p', false, 'm'),
      ...cockroachdb.createDatabase('d', 'r', 'm'),
      ...cockroachdb.secureDatabase('d', 'r'),
      ...cockroachdb.drop('d', 'r'),
    ].join('\n');
    expect(cockroachdb.drop('d', 'r')).toEqual([
      `CANCEL SESSIONS (SELECT session_id FROM [SHOW CLUSTER SESSIONS] WHERE user_name = 'r')`,
      'DROP DATABASE IF EXISTS "d" CASCADE',
      'DROP USER IF EXISTS "r"',
    ]);
    expect(all).not.toMatch(/TEMPLATE|TABLESPACE|SUPERUSER|WITH \(FORCE\)/);
  });
});

describe('credentials', () => {
  it('give the workspace libpq variables and a URL with the password encoded', () => {
    const ids = databaseIds(project('team', 'shop'));
    expect(ids.secretName).toBe('shop-database');
    expect(databaseSecretData(ids, 'db.internal', '5432', 'p@ss/w')).toEqual({
      DATABASE_URL: `postgresql://${ids.user}:p%40ss%2Fw@db.internal:5432/${ids.name}`,
      PGHOST: 'db.internal',
      PGPORT: '5432',
      PGUSER: ids.user,
      PGPASSWORD: 'p@ss/w',
      PGDATABASE: ids.name,
    });
  });

  it('confine the Redis user to its prefix, without admin or dangerous commands, password hashed', () => {
    const ids = cacheIds(project('team', 'shop'));
    expect(ids.prefix).toBe('rdev:team:shop');
    const rules = aclRules(ids, 'secret');
    expect(rules.slice(0, 10)).toEqual([
      'reset',
      'on',
      '#2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b',
      'resetkeys',
      '~rdev:team:shop:*',
      'resetchannels',
      '&rdev:team:shop:*',
      '+@all',
      '-@admin',
      '-@dangerous',
    ]);
    // What key patterns do not guard: listing the keyspace, server-wide state, other databases.
    for (const denied of ['-scan', '-randomkey', '-keys', '-function', '-script|flush', '-pubsub', '-select'])
      expect(rules).toContain(denied);
    expect(rules.join(' ')).not.toContain('secret');
    expect(cacheSecretData(ids, 'redis', '6379', 'pw').REDIS_KEY_PREFIX).toBe('rdev:team:shop:');
  });
});
