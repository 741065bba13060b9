// `rdev shim` configuration: the operator's loader (flags > env > --config file > defaults) with
// the shim's own option table.
import { z } from 'zod';
import {
  KUBECONFIG_OPTION,
  kubeconfigField,
  LOG_LEVEL_OPTION,
  loadOptions,
  logLevelField,
  type OptionSpec,
} from '../../operator/src/config.ts';

export const shimConfig = z.object({
  kubeconfig: kubeconfigField,
  listen: z.string().min(1).describe('address of the API, host:port'),
  namespace: z.string().min(1).describe('namespace of the API-key and webhook Secrets'),
  namespaces: z.array(z.string().min(1)).describe('namespaces whose resources are served (empty: all)'),
  defaultNamespace: z.string().min(1).describe('namespace of a request that names none'),
  workerNamespace: z.string().min(1).describe("namespace of the workers' heartbeat Leases"),
  bootstrapKeySecret: z
    .string()
    .optional()
    .describe('Secret in the shim namespace whose "key" is an admin API key'),
  rateLimit: z.number().min(0.1).max(100_000).describe('requests per second per API key'),
  rateBurst: z.number().int().min(1).max(100_000).describe('burst of requests per API key'),
  bodyLimit: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .describe('largest request body, bytes'),
  trustProxy: z.boolean().describe('take the client address from X-Forwarded-For'),
  logLevel: logLevelField,
});

export type ShimConfig = z.infer<typeof shimConfig>;

export const SHIM_OPTIONS: OptionSpec[] = [
  KUBECONFIG_OPTION,
  {
    flag: 'listen',
    env: 'RDEV_SHIM_LISTEN',
    path: ['listen'],
    kind: 'string',
    help: 'serve the API (and /health, /ready, /metrics) on host:port',
    default: ':8080',
  },
  {
    flag: 'namespace',
    env: 'POD_NAMESPACE',
    path: ['namespace'],
    kind: 'string',
    help: "the shim's own namespace, where API keys and webhook subscriptions are kept as Secrets",
    default: 'rdev-system',
  },
  {
    flag: 'watch-namespace',
    env: 'RDEV_NAMESPACES',
    path: ['namespaces'],
    kind: 'list',
    help: 'namespace whose Projects, Sessions, Checkouts and WorkItems are served; repeat or comma-separate (default: all)',
    default: [],
  },
  {
    flag: 'default-namespace',
    env: 'RDEV_DEFAULT_NAMESPACE',
    path: ['defaultNamespace'],
    kind: 'string',
    help: 'namespace of a request without ?namespace= (a key limited to one namespace uses that one)',
    default: 'default',
  },
  {
    flag: 'worker-namespace',
    env: 'RDEV_WORKER_NAMESPACE',
    path: ['workerNamespace'],
    kind: 'string',
    help: "namespace of the workers' heartbeat Leases (the operator's --worker-namespace)",
    default: 'rdev-system',
  },
  {
    flag: 'bootstrap-key-secret',
    env: 'RDEV_BOOTSTRAP_KEY_SECRET',
    path: ['bootstrapKeySecret'],
    kind: 'string',
    help: 'name of a Secret in the shim namespace whose "key" is an admin API key (or set $RDEV_BOOTSTRAP_KEY)',
  },
  {
    flag: 'rate-limit',
    env: 'RDEV_RATE_LIMIT',
    path: ['rateLimit'],
    kind: 'number',
    help: 'requests per second each API key may make on average',
    default: 50,
  },
  {
    flag: 'rate-burst',
    env: 'RDEV_RATE_BURST',
    path: ['rateBurst'],
    kind: 'number',
    help: 'requests an API key may make at once',
    default: 100,
  },
  {
    flag: 'body-limit',
    env: 'RDEV_BODY_LIMIT',
    path: ['bodyLimit'],
    kind: 'number',
    help: 'largest request body in bytes',
    default: 1024 * 1024,
  },
  {
    flag: 'trust-proxy',
    env: 'RDEV_TRUST_PROXY',
    path: ['trustProxy'],
    kind: 'boolean',
    help: 'behind a proxy: the client address (for key CIDRs) comes from X-Forwarded-For',
    default: false,
  },
  LOG_LEVEL_OPTION,
];

export function loadShimConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ShimConfig {
  return loadOptions(shimConfig, SHIM_OPTIONS, argv, env);
}
