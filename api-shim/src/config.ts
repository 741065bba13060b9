// `rdev shim` configuration: its fields declare their options in `.meta({ option })`, filled by
// the loader of the shared surface (flags > env > --config file > defaults).
import { z } from 'zod';
import {
  allowedImagesField,
  commandOptions,
  kubeconfigField,
  logLevelField,
  webhookAllowCidrsField,
  workerNamespaceField,
} from '../../operator/src/shared/options.ts';
import { workspaceCapsFields } from '../../operator/src/shared/workspace-caps.ts';
import { isCidr } from './keys/api-key.ts';

export const shimConfig = z.object({
  kubeconfig: kubeconfigField,
  listen: z
    .string()
    .min(1)
    .describe('address of the API, host:port')
    .meta({
      option: {
        flag: 'listen',
        env: 'RDEV_SHIM_LISTEN',
        help: 'serve the API (and /health, /ready, /metrics) on host:port',
        default: ':8080',
      },
    }),
  namespace: z
    .string()
    .min(1)
    .describe('namespace of the API-key and webhook Secrets')
    .meta({
      option: {
        flag: 'namespace',
        env: 'POD_NAMESPACE',
        help: "the shim's own namespace, where API keys and webhook subscriptions are kept as Secrets",
        default: 'rdev-system',
      },
    }),
  namespaces: z
    .array(z.string().min(1))
    .describe('namespaces whose resources are served (empty: all)')
    .meta({
      option: {
        flag: 'watch-namespace',
        env: 'RDEV_NAMESPACES',
        help: 'namespace whose Projects, Sessions, Checkouts, WorkItems and Features are served; repeat or comma-separate (default: all)',
        default: [],
      },
    }),
  defaultNamespace: z
    .string()
    .min(1)
    .describe('namespace of a request that names none')
    .meta({
      option: {
        flag: 'default-namespace',
        env: 'RDEV_DEFAULT_NAMESPACE',
        help: 'namespace of a request without ?namespace= (a key limited to one namespace uses that one)',
        default: 'default',
      },
    }),
  workerNamespace: workerNamespaceField(
    "namespace of the workers' heartbeat Leases (the operator's --worker-namespace)",
  ),
  workerOutputTokenFile: z
    .string()
    .min(1)
    .optional()
    .describe("file holding the token of the workers' live output endpoints")
    .meta({
      option: {
        flag: 'worker-output-token-file',
        env: 'RDEV_WORKER_OUTPUT_TOKEN_FILE',
        help: "file holding the token of the workers' live output (their --output-token-file), read at each use: GET /work/{id}/logs then streams lines as they are printed (unset: it follows the output tail in status)",
      },
    }),
  bootstrapKeySecret: z
    .string()
    .optional()
    .describe('Secret in the shim namespace whose "key" is an admin API key')
    .meta({
      option: {
        flag: 'bootstrap-key-secret',
        env: 'RDEV_BOOTSTRAP_KEY_SECRET',
        help: 'name of a Secret in the shim namespace whose "key" is an admin API key (or set $RDEV_BOOTSTRAP_KEY)',
      },
    }),
  rateLimit: z
    .number()
    .min(0.1)
    .max(100_000)
    .describe('requests per second per API key')
    .meta({
      option: {
        flag: 'rate-limit',
        env: 'RDEV_RATE_LIMIT',
        help: 'requests per second each API key may make on average',
        default: 50,
      },
    }),
  rateBurst: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .describe('burst of requests per API key')
    .meta({
      option: {
        flag: 'rate-burst',
        env: 'RDEV_RATE_BURST',
        help: 'requests an API key may make at once',
        default: 100,
      },
    }),
  bodyLimit: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .describe('largest request body, bytes')
    .meta({
      option: {
        flag: 'body-limit',
        env: 'RDEV_BODY_LIMIT',
        help: 'largest request body in bytes',
        default: 1024 * 1024,
      },
    }),
  trustProxy: z
    .string()
    .refine((v) => parseTrustProxy(v) !== undefined, {
      message:
        'false, a number of proxy hops (1 to 10), or a comma-separated list of proxy addresses or CIDRs',
    })
    .describe('which proxies in front of the shim are trusted to set X-Forwarded-For')
    .meta({
      option: {
        flag: 'trust-proxy',
        env: 'RDEV_TRUST_PROXY',
        help: "behind proxies: the number of proxy hops in front of the shim, or the proxies' addresses/CIDRs (comma-separated); the client address (for key CIDRs) is then read from X-Forwarded-For, past those proxies only (false: the socket's address)",
        default: 'false',
      },
    }),
  requestTimeoutSeconds: z
    .number()
    .min(1)
    .max(3600)
    .describe('longest time a client may take to send a whole request')
    .meta({
      option: {
        flag: 'request-timeout-seconds',
        env: 'RDEV_REQUEST_TIMEOUT_SECONDS',
        help: 'seconds a client may take to send a whole request, headers and body (408 after); streams answered afterwards are not limited by it',
        default: 30,
      },
    }),
  connectionTimeoutSeconds: z
    .number()
    .min(1)
    .max(3600)
    .describe('longest idle time of a connection')
    .meta({
      option: {
        flag: 'connection-timeout-seconds',
        env: 'RDEV_CONNECTION_TIMEOUT_SECONDS',
        help: 'seconds a connection may stay idle (no byte either way) before it is closed; server-sent event streams are exempt (they send a keep-alive every 15 s)',
        default: 120,
      },
    }),
  maxObjectsPerProject: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .describe('Sessions, Checkouts, WorkItems or Features of one Project the shim creates')
    .meta({
      option: {
        flag: 'max-objects-per-project',
        env: 'RDEV_MAX_OBJECTS_PER_PROJECT',
        help: 'most Sessions, WorkItems, Checkouts or Features (each kind counted alone) one Project may have for the shim to create another (403 beyond, until some are deleted)',
        default: 1000,
      },
    }),
  maxStreamsPerKey: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .describe('concurrent streams per API key')
    .meta({
      option: {
        flag: 'max-streams-per-key',
        env: 'RDEV_MAX_STREAMS_PER_KEY',
        help: 'server-sent event streams (exec, logs, /events) an API key may hold open at once; one more is answered 429 with Retry-After',
        default: 8,
      },
    }),
  webhookAllowCIDRs: webhookAllowCidrsField,
  allowedImages: allowedImagesField,
  workspaceCaps: z
    .object(workspaceCapsFields)
    .default({})
    .describe("caps on each Project Pod's CPU and memory"),
  logLevel: logLevelField,
});

export type ShimConfig = z.infer<typeof shimConfig>;

/** What Fastify's trustProxy takes: false, a hop count, or the trusted proxies' addresses and CIDRs. */
export type TrustProxy = false | number | string[];

/**
 * --trust-proxy as Fastify takes it: "false" (the socket's address), a hop count ("1": the one
 * proxy in front; X-Forwarded-For entries beyond it are the client's to forge, so they are not
 * believed), or the proxies' addresses/CIDRs. Never "true": trusting every hop lets any client
 * name its own address. Undefined when `value` is none of these.
 */
export function parseTrustProxy(value: string): TrustProxy | undefined {
  const v = value.trim();
  if (/^(false|0|no)$/i.test(v) || v === '') return false;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return hops >= 1 && hops <= 10 ? hops : undefined;
  }
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length && list.every(isCidr) ? list : undefined;
}

/** Every option of `rdev shim`, in --help order, and the loader of its configuration. */
export const { options: SHIM_OPTIONS, load: loadShimConfig } = commandOptions(shimConfig);
