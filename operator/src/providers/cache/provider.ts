// Cache provider: one Redis ACL user per Project, confined to keys and channels under its
// prefix, without admin or dangerous commands; Redis stores only the SHA-256 of its password.
// Users live in Redis' memory: a restarted server has lost them, so the resource is observed
// again periodically and recreated.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { createClient, type RedisClientType } from 'redis';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { isNotFound, type KubeClient } from '../../runtime/client.ts';
import { SECRETS } from '../../runtime/resources.ts';
import { boundedName, externalName } from '../../shared/naming.ts';
import { readAdminSecret } from '../admin.ts';
import { ensureCredentials, readOwnedSecret } from '../credentials.ts';
import type { ExternalClient, ExternalContext, Observation } from '../ports.ts';

export interface CacheIds {
  user: string;
  prefix: string;
  secretName: string;
}

interface Admin {
  redis: RedisClientType;
  host: string;
  port: string;
}

const clients = new Map<string, Promise<RedisClientType>>();

function clientFor(url: string): Promise<RedisClientType> {
  let pending = clients.get(url);
  if (!pending) {
    const redis = createClient({
      url,
      // fail fast while the server is away instead of queueing commands forever
      disableOfflineQueue: true,
      socket: { connectTimeout: 5_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5_000) },
    }) as RedisClientType;
    redis.on('error', () => undefined); // reconnects on its own; a failing command reports it
    pending = redis.connect().then(
      () => redis,
      (err) => {
        clients.delete(url);
        throw err;
      },
    );
    clients.set(url, pending);
  }
  return pending;
}

/** Closes every admin connection (on shutdown and in tests). */
export async function closeCacheClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map((p) => p.then((c) => c.destroy()).catch(() => undefined)));
}

export const cacheIds = (project: LiveProject): CacheIds => ({
  user: externalName('rdev', project.metadata.namespace, project.metadata.name, 128),
  prefix: `rdev:${project.metadata.namespace}:${project.metadata.name}`,
  secretName: boundedName(project.metadata.name, 'cache', 253),
});

/** ACL SETUSER arguments: reset first, since ACL rules accumulate. */
export function aclRules(ids: CacheIds, password: string): string[] {
  const hash = createHash('sha256').update(password).digest('hex');
  return [
    'reset',
    'on',
    `#${hash}`,
    `~${ids.prefix}:*`,
    `&${ids.prefix}:*`,
    '+@all',
    '-@admin',
    '-@dangerous',
  ];
}

export function cacheSecretData(
  ids: CacheIds,
  host: string,
  port: string,
  password: string,
): Record<string, string> {
  return {
    REDIS_URL: `redis://${encodeURIComponent(ids.user)}:${encodeURIComponent(password)}@${host}:${port}`,
    REDIS_USERNAME: ids.user,
    REDIS_PASSWORD: password,
    REDIS_KEY_PREFIX: `${ids.prefix}:`,
  };
}

export function cacheProvider(client: KubeClient, config: OperatorConfig): ExternalClient<CacheIds> {
  async function admin(): Promise<Admin> {
    const secret = await readAdminSecret(
      client,
      config.redisAdminSecret,
      'Redis admin connection',
      'redis-admin-secret',
    );
    const url = secret.REDIS_ADMIN_URL;
    if (!url) throw new Error(`the Secret ${config.redisAdminSecret} has no REDIS_ADMIN_URL key`);
    const parsed = new URL(url);
    return {
      redis: await clientFor(url),
      host: secret.REDIS_HOST || parsed.hostname,
      port: secret.REDIS_PORT || parsed.port || '6379',
    };
  }

  /** The user's key and channel patterns as Redis reports them, or undefined if it has no such user. */
  async function patterns(a: Admin, user: string): Promise<string | undefined> {
    const reply = (await a.redis.sendCommand(['ACL', 'GETUSER', user])) as unknown[] | null;
    if (!reply) return undefined;
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
    return `${String(fields.get('keys'))} ${String(fields.get('channels'))}`;
  }

  async function ensure(ctx: ExternalContext<CacheIds>): Promise<CacheIds> {
    const ids = cacheIds(ctx.project);
    const a = await admin();
    const { password } = await ensureCredentials(
      client,
      ctx.project,
      ids.secretName,
      'REDIS_PASSWORD',
      (pw) => cacheSecretData(ids, a.host, a.port, pw),
      ctx.rotatePassword,
    );
    await a.redis.sendCommand(['ACL', 'SETUSER', ids.user, ...aclRules(ids, password)]);
    return ids;
  }

  return {
    ids: cacheIds,

    async observe(ctx): Promise<Observation> {
      const ids = cacheIds(ctx.project);
      const a = await admin();
      const current = await patterns(a, ids.user);
      const secret = await readOwnedSecret(client, ctx.project, ids.secretName);
      const password = secret?.REDIS_PASSWORD;
      const secretCurrent =
        password !== undefined && isDeepStrictEqual(secret, cacheSecretData(ids, a.host, a.port, password));
      const diff =
        current === undefined
          ? `Redis user ${ids.user} is missing`
          : current !== `~${ids.prefix}:* &${ids.prefix}:*`
            ? `Redis user ${ids.user} has other key patterns (${current})`
            : !secretCurrent
              ? `Secret ${ids.secretName} is missing or outdated`
              : undefined;
      return { exists: current !== undefined, upToDate: diff === undefined, diff };
    },

    create: ensure,
    update: ensure,

    async delete(ids, ctx) {
      const a = await admin();
      await a.redis.sendCommand(['ACL', 'DELUSER', ids.user]);
      // the Project's keys go with it (UNLINK frees memory in the background)
      for await (const keys of a.redis.scanIterator({ MATCH: `${ids.prefix}:*`, COUNT: 500 })) {
        const batch = Array.isArray(keys) ? keys : [keys];
        if (batch.length > 0) await a.redis.unlink(batch);
      }
      await client.delete(SECRETS, ctx.project.metadata.namespace, ids.secretName).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    },
  };
}
