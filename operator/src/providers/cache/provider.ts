// Cache provider: one Redis ACL user per Project, confined to keys and channels under its
// prefix, without admin or dangerous commands nor any that reveal or affect other tenants (key
// patterns only guard a command's key arguments: SCAN, KEYS or PUBSUB CHANNELS would still list
// every tenant's names); Redis stores only the SHA-256 of its password.
// A user is marked as its Project's (namespace, name and uid) in a key the admin writes outside
// every tenant's pattern (ACL users carry no comment): a retained user and its keys are never
// adopted by a new Project of the same name.
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
import { ownerMarker } from '../marker.ts';
import {
  type ConnectionDetails,
  type ExternalClient,
  type ExternalContext,
  ForeignResourceError,
  passwordOf,
} from '../ports.ts';

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
  url: string;
}

const clients = new Map<string, Promise<Redis>>();
/** Per admin URL: a tenant's commands as that server normalizes them. */
const expected = new Map<string, Promise<string>>();

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
  expected.clear();
  await Promise.all(all.map((p) => p.then((c) => c.destroy()).catch(() => undefined)));
}

export const cacheIds = (project: LiveProject): CacheIds => ({
  user: externalName('rdev', project.metadata.namespace, project.metadata.name, 128),
  prefix: `rdev:${project.metadata.namespace}:${project.metadata.name}`,
  secretName: boundedName(project.metadata.name, 'cache', 253),
});

/**
 * The commands of a tenant: everything but admin and dangerous ones, and those that list, count
 * or touch what is not the tenant's — the keyspace (SCAN, RANDOMKEY, KEYS, DBSIZE), functions
 * (global to the server), the script cache as a whole, channel introspection, other databases,
 * OBJECT/DEBUG/MEMORY introspection and broadcast client tracking (invalidations name every
 * key). EVAL stays: commands inside a script are held to the same key patterns.
 */
export const TENANT_COMMAND_RULES = [
  '+@all',
  '-@admin',
  '-@dangerous',
  '-scan',
  '-randomkey',
  '-keys',
  '-dbsize',
  '-function',
  '-fcall',
  '-fcall_ro',
  '-script|flush',
  '-script|kill',
  '-script|debug',
  '-pubsub',
  '-flushall',
  '-flushdb',
  '-swapdb',
  '-select',
  '-move',
  '-migrate',
  '-object',
  '-debug',
  '-memory',
  '+memory|usage',
  '-client|tracking',
] as const;

/** ACL SETUSER arguments: reset first, since ACL rules accumulate. */
export function aclRules(ids: CacheIds, password: string): string[] {
  const hash = createHash('sha256').update(password).digest('hex');
  return [
    'reset',
    'on',
    `#${hash}`,
    'resetkeys',
    `~${ids.prefix}:*`,
    'resetchannels',
    `&${ids.prefix}:*`,
    ...TENANT_COMMAND_RULES,
  ];
}

/** The key holding the owner's mark: `rdev-owner:` is outside every tenant's `rdev:<ns>:<name>:*`. */
export const cacheOwnerKey = (ids: Pick<CacheIds, 'prefix'>) => `rdev-owner:${ids.prefix}`;

/** A Redis user (or its owner key) of the Project's name exists and is not this Project's. */
export class ForeignCacheError extends ForeignResourceError {
  constructor(user: string, marker: string) {
    super(
      `Redis user ${user} (or its keys' owner key) already exists and is not this Project's (it is not ` +
        `marked "${marker}"); rdev does not change or delete it: remove it, or name the Project differently`,
    );
    this.name = 'ForeignCacheError';
  }
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
    return {
      redis: await clientFor(endpoint.url),
      host: endpoint.host,
      port: endpoint.port,
      url: endpoint.url,
    };
  }

  /**
   * The commands of a tenant as this server writes them: Redis normalizes rules (and versions
   * differ in how), so they are set on a disabled, keyless user once and read back.
   */
  function expectedCommands(a: Admin): Promise<string> {
    let pending = expected.get(a.url);
    if (!pending) {
      pending = (async () => {
        const probe = 'rdev-acl-probe';
        await a.redis.sendCommand(['ACL', 'SETUSER', probe, 'reset', ...TENANT_COMMAND_RULES]);
        try {
          return (await getUser(a, probe))?.commands ?? '';
        } finally {
          await a.redis.sendCommand(['ACL', 'DELUSER', probe]);
        }
      })();
      pending.catch(() => expected.delete(a.url));
      expected.set(a.url, pending);
    }
    return pending;
  }

  /** The user's commands and key and channel patterns as Redis reports them; undefined: no such user. */
  async function getUser(
    a: Admin,
    user: string,
  ): Promise<{ commands: string; patterns: string } | undefined> {
    const reply: unknown = await a.redis.sendCommand(['ACL', 'GETUSER', user]);
    if (!Array.isArray(reply)) return undefined; // nil: no such user
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
    return {
      commands: String(fields.get('commands')),
      patterns: `${String(fields.get('keys'))} ${String(fields.get('channels'))}`,
    };
  }

  /**
   * Whether the user and its keys are the Project's: the owner key carries its mark; one without
   * a mark is the Project's only when its status recorded it (made before marks existed).
   */
  async function owned(a: Admin, ctx: Pick<ExternalContext<CacheIds>, 'project' | 'recorded'>) {
    const ids = cacheIds(ctx.project);
    const marker = ownerMarker(ctx.project);
    const mark = await a.redis.get(cacheOwnerKey(ids));
    if (mark === marker) return true;
    if (mark !== null) return false;
    const exists = (await getUser(a, ids.user)) !== undefined;
    return !exists || ctx.recorded?.user === ids.user;
  }

  async function ensureOwned(a: Admin, ctx: ExternalContext<CacheIds>): Promise<void> {
    const ids = cacheIds(ctx.project);
    if (!(await owned(a, ctx))) throw new ForeignCacheError(ids.user, ownerMarker(ctx.project));
  }

  /**
   * Creating and updating a user are one command: ACL SETUSER makes the user when it does not
   * exist, and its leading `reset` replaces every rule of one that does (password included). The
   * owner key is written first: a create interrupted after it is found again as the Project's.
   */
  async function setUser(ctx: ExternalContext<CacheIds>): Promise<CacheIds> {
    const ids = cacheIds(ctx.project);
    const a = await admin();
    await ensureOwned(a, ctx);
    await a.redis.set(cacheOwnerKey(ids), ownerMarker(ctx.project));
    await a.redis.sendCommand(['ACL', 'SETUSER', ids.user, ...aclRules(ids, passwordOf(ctx))]);
    return ids;
  }

  return {
    ids: cacheIds,
    passwordKey: 'REDIS_PASSWORD',

    async observe(ctx) {
      const ids = cacheIds(ctx.project);
      const a = await admin();
      await ensureOwned(a, ctx);
      const current = await getUser(a, ids.user);
      const diff =
        current === undefined
          ? `Redis user ${ids.user} is missing`
          : current.patterns !== `~${ids.prefix}:* &${ids.prefix}:*`
            ? `Redis user ${ids.user} has other key patterns (${current.patterns})`
            : current.commands !== (await expectedCommands(a))
              ? `Redis user ${ids.user} has outdated commands (${current.commands})`
              : (await a.redis.get(cacheOwnerKey(ids))) === null
                ? `Redis user ${ids.user} is not marked as the Project's`
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

    async delete(ids, ctx) {
      const a = await admin();
      // Another Project's (retained) user and keys are left alone.
      if (!(await owned(a, { project: ctx.project, recorded: ctx.project.status?.cache ? ids : undefined })))
        return;
      await a.redis.sendCommand(['ACL', 'DELUSER', ids.user]);
      // the Project's keys go with it (UNLINK frees memory in the background)
      for await (const keys of a.redis.scanIterator({ MATCH: `${ids.prefix}:*`, COUNT: 500 })) {
        const batch = Array.isArray(keys) ? keys : [keys];
        if (batch.length > 0) await a.redis.unlink(batch);
      }
      await a.redis.unlink(cacheOwnerKey(ids));
    },
  };
}
