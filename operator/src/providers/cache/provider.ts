// Cache provider: one Redis ACL user per Project, confined to keys and channels under its
// prefix, without admin or dangerous commands; Redis stores only the SHA-256 of its password.
// The password is generated and kept by the sub-reconciler (external.ts), which writes the
// connection details observed here to the Project's `<project>-cache` Secret first.
// Users live in Redis' memory: a restarted server has lost them, so the resource is observed
// again periodically and recreated.
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import type { KubeClient } from '../../runtime/client.ts';
import { boundedName, externalName } from '../../shared/naming.ts';
import { readAdminEndpoint } from '../admin.ts';
import { type ConnectionDetails, type ExternalClient, type ExternalContext, passwordOf } from '../ports.ts';

export interface CacheIds {
  user: string;
  prefix: string;
  secretName: string;
}

/** The client createClient gives with the options below (no modules, scripts or functions). */
type Redis = ReturnType<typeof createClient>;

interface Admin {
  redis: Redis;
  host: string;
  port: string;
}

const clients = new Map<string, Promise<Redis>>();

function clientFor(url: string): Promise<Redis> {
  let pending = clients.get(url);
  if (!pending) {
    const redis = createClient({
      url,
      // fail fast while the server is away instead of queueing commands forever
      disableOfflineQueue: true,
      socket: { connectTimeout: 5_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5_000) },
    });
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

/** The connection details the workspace gets: a URL, the user, its password and its key prefix. */
export function cacheSecretData(
  ids: CacheIds,
  host: string,
  port: string,
  password: string,
): ConnectionDetails {
  return {
    REDIS_URL: `redis://${encodeURIComponent(ids.user)}:${encodeURIComponent(password)}@${host}:${port}`,
    REDIS_USERNAME: ids.user,
    REDIS_PASSWORD: password,
    REDIS_KEY_PREFIX: `${ids.prefix}:`,
  };
}

export function cacheProvider(client: KubeClient, config: OperatorConfig): ExternalClient<CacheIds> {
  async function admin(): Promise<Admin> {
    const endpoint = await readAdminEndpoint(
      client,
      config.redisAdminSecret,
      'Redis admin connection',
      'redis-admin-secret',
      'REDIS',
      '6379',
    );
    return { redis: await clientFor(endpoint.url), host: endpoint.host, port: endpoint.port };
  }

  /** The user's key and channel patterns as Redis reports them, or undefined if it has no such user. */
  async function patterns(a: Admin, user: string): Promise<string | undefined> {
    const reply: unknown = await a.redis.sendCommand(['ACL', 'GETUSER', user]);
    if (!Array.isArray(reply)) return undefined; // nil: no such user
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
    return `${String(fields.get('keys'))} ${String(fields.get('channels'))}`;
  }

  /**
   * Creating and updating a user are one command: ACL SETUSER makes the user when it does not
   * exist, and its leading `reset` replaces every rule of one that does (password included).
   */
  async function setUser(ctx: ExternalContext<CacheIds>): Promise<CacheIds> {
    const ids = cacheIds(ctx.project);
    const a = await admin();
    await a.redis.sendCommand(['ACL', 'SETUSER', ids.user, ...aclRules(ids, passwordOf(ctx))]);
    return ids;
  }

  return {
    ids: cacheIds,
    passwordKey: 'REDIS_PASSWORD',

    async observe(ctx) {
      const ids = cacheIds(ctx.project);
      const a = await admin();
      const current = await patterns(a, ids.user);
      const diff =
        current === undefined
          ? `Redis user ${ids.user} is missing`
          : current !== `~${ids.prefix}:* &${ids.prefix}:*`
            ? `Redis user ${ids.user} has other key patterns (${current})`
            : undefined;
      return {
        exists: current !== undefined,
        upToDate: diff === undefined,
        diff,
        ids,
        connection: cacheSecretData(ids, a.host, a.port, passwordOf(ctx)),
      };
    },

    create: setUser,
    update: setUser,

    async delete(ids) {
      const a = await admin();
      await a.redis.sendCommand(['ACL', 'DELUSER', ids.user]);
      // the Project's keys go with it (UNLINK frees memory in the background)
      for await (const keys of a.redis.scanIterator({ MATCH: `${ids.prefix}:*`, COUNT: 500 })) {
        const batch = Array.isArray(keys) ? keys : [keys];
        if (batch.length > 0) await a.redis.unlink(batch);
      }
    },
  };
}
