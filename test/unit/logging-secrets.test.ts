// Secrets never reach the logs through errors: Node's ERR_INVALID_URL carries the URL it could not
// parse (password included) in `input`, and messages may quote a URL with userinfo. A provider
// whose admin URL is malformed fails the way the controller logs it, and no line holds the password.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { OperatorConfig } from '../../operator/src/config.ts';
import { cacheProvider } from '../../operator/src/providers/cache/provider.ts';
import { databaseProvider } from '../../operator/src/providers/database/provider.ts';
import { type ExternalResource, reconcileExternal } from '../../operator/src/providers/external.ts';
import type { ExternalClient } from '../../operator/src/providers/ports.ts';
import type { KubeClient } from '../../operator/src/runtime/client.ts';
import { createLogger, lazyChild } from '../../operator/src/runtime/logging.ts';
import { liveProject, signal } from './providers/support.ts';

const PASSWORD = 'Sup3r-s3cret-adm1n';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, log: createLogger({ level: 'debug', name: 'test', destination: sink }) };
}

/** A KubeClient whose only Secret is the admin Secret `ns/admin` holding `data`. */
function clientWith(data: Record<string, string>): KubeClient {
  const secret = {
    metadata: { name: 'admin', namespace: 'ns' },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
  return { get: async () => secret } as unknown as KubeClient;
}

const config = {
  postgresAdminSecret: 'ns/admin',
  cockroachdbAdminSecret: 'ns/admin',
  redisAdminSecret: 'ns/admin',
} as unknown as OperatorConfig;

function resource<Ids>(name: string, client: ExternalClient<Ids>): ExternalResource<Ids> {
  const secrets = {
    read: async () => undefined,
    write: async () => undefined,
    delete: async () => undefined,
  };
  return {
    name,
    condition: 'Ready',
    enabled: () => true,
    deletionPolicy: () => 'Delete',
    recorded: () => undefined,
    connection: { secretName: () => 'conn', secrets },
    describe: () => name,
    client,
  };
}

describe('the logger', () => {
  it('redacts the input of ERR_INVALID_URL and userinfo of URLs in messages, stacks and causes', () => {
    const { lines, log } = capture();
    let invalid: unknown;
    try {
      new URL(`postgres://admin:${PASSWORD}@db:port/x`);
    } catch (err) {
      invalid = err;
    }
    log.error({ err: invalid }, 'reconcile failed');
    const quoted = new Error(`could not connect to redis://default:${PASSWORD}@cache:6379`, {
      cause: new Error(`dial https://bot:${PASSWORD}@example.com/x failed`),
    });
    log.error({ err: quoted }, 'reconcile failed');
    log.warn({ error: quoted }, `also in the message: redis://u:${PASSWORD}@h`);
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).not.toContain(PASSWORD);
    const first = JSON.parse(lines[0] ?? '{}');
    expect(first.err.code).toBe('ERR_INVALID_URL');
    expect(first.err.input).toBe('[redacted]');
    // What is not secret stays readable.
    expect(lines[1]).toContain('redis://default:[redacted]@cache:6379');
  });
});

describe('a provider with a malformed admin URL', () => {
  const malformed = {
    database: { DATABASE_ADMIN_URL: `postgres://rdev_admin:${PASSWORD}@db.example:not-a-port/postgres` },
    cache: { REDIS_ADMIN_URL: `redis://default:${PASSWORD}@[cache:6379` },
  };

  it.each(['database', 'cache'] as const)(
    'fails the %s without its password in any log line',
    async (kind) => {
      const { lines, log } = capture();
      const kube = clientWith(malformed[kind]);
      const project = liveProject({ database: { enabled: true }, cache: { enabled: true } });
      const outcome =
        kind === 'database'
          ? await reconcileExternal(
              resource('database', databaseProvider(kube, config)),
              project,
              signal,
              log,
            )
          : await reconcileExternal(resource('cache', cacheProvider(kube, config)), project, signal, log);
      expect(outcome.error).toBeDefined();
      expect(outcome.condition?.status).toBe('False');
      expect(outcome.condition?.message).not.toContain(PASSWORD);
      expect(outcome.condition?.message).toMatch(/ADMIN_URL that is not a valid URL/);
      // As the controller logs a failed reconcile.
      log.error(
        { err: outcome.error, condition: outcome.condition },
        'reconcile failed; retrying with backoff',
      );
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).not.toContain(PASSWORD);
    },
  );
});

describe('a lazily made child logger', () => {
  it('writes with its bindings, redacted, and makes the child only when a line is written', () => {
    const { lines, log } = capture();
    let made = 0;
    const parent = Object.assign(Object.create(log), {
      child: (...args: Parameters<typeof log.child>) => {
        made++;
        return log.child(...args);
      },
    }) as typeof log;
    const child = lazyChild(parent, { requestId: 'r-1', token: 'not-for-logs' });
    child.trace('below the level');
    expect(made).toBe(0);
    expect(child.isLevelEnabled('debug')).toBe(true);
    expect(child.level).toBe('debug');
    child.info({ keyId: 'k' }, 'hello');
    child.warn('again');
    expect(made).toBe(1);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ requestId: 'r-1', token: '[redacted]', keyId: 'k', msg: 'hello' }),
      expect.objectContaining({ requestId: 'r-1', token: '[redacted]', msg: 'again' }),
    ]);
    lazyChild(child, { keyId: 'k2' }).error('nested');
    expect(JSON.parse(lines[2] ?? '')).toMatchObject({ requestId: 'r-1', keyId: 'k2', msg: 'nested' });
    expect(lines.join('\n')).not.toContain('not-for-logs');
  });
});
