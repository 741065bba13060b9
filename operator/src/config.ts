// Operator configuration: one zod schema, filled from flags, then environment variables, then
// an optional YAML/JSON file (--config), then defaults. One table declares every option once:
// its flag, its environment variable, its help text and where it goes in the config.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const listOf = z.array(z.string().min(1));

export const kubeconfigField = z
  .string()
  .optional()
  .describe('kubeconfig file; in-cluster config or $KUBECONFIG when unset');
export const logLevelField = z
  .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
  .describe('log level');

export const operatorConfig = z.object({
  kubeconfig: kubeconfigField,
  namespaces: listOf.describe('namespaces to watch (empty: all)'),
  leaderElect: z.boolean().describe('hold a Lease so that only one replica reconciles'),
  leaderElectionNamespace: z.string().min(1).describe('namespace of the leader Lease'),
  metricsAddr: z.string().describe('address of /metrics, host:port (empty: off)'),
  healthAddr: z.string().describe('address of /healthz and /readyz, host:port (empty: off)'),
  logLevel: logLevelField,
  workers: z.number().int().min(1).max(64).describe('concurrent reconciles per controller'),
  images: z
    .object({
      claudeCode: z.string().min(1).describe('workspace image of the claude-code agent'),
      opencode: z.string().min(1).describe('workspace image of the opencode agent'),
    })
    .describe('workspace images per agent provider'),
  storageClassName: z
    .string()
    .optional()
    .describe('StorageClass of workspace volumes (cluster default when unset)'),
  shimNamespace: z.string().min(1).describe('namespace of the rdev shim, allowed to reach workspaces'),
  webhooks: z
    .object({
      backoffSeconds: z
        .number()
        .positive()
        .max(300)
        .describe('wait before the first retry of a webhook delivery; doubles with each retry'),
      maxAttempts: z.number().int().min(1).max(20).describe('attempts per webhook delivery'),
    })
    .describe('webhook deliveries (subscriptions are Secrets in the shim namespace)'),
  egressCIDRs: listOf.describe('CIDRs workspaces may reach besides DNS (empty: DNS only)'),
  domain: z.string().optional().describe('base domain of Project and preview host names'),
  postgresAdminSecret: z
    .string()
    .optional()
    .describe('Secret (namespace/name) with the PostgreSQL admin URL'),
  cockroachdbAdminSecret: z
    .string()
    .optional()
    .describe('Secret (namespace/name) with the CockroachDB admin URL'),
  redisAdminSecret: z.string().optional().describe('Secret (namespace/name) with the Redis admin URL'),
  cacheCheckSeconds: z
    .number()
    .int()
    .min(1)
    .max(86400)
    .describe('how often Redis users are checked (a restart loses them)'),
  workerNamespace: z.string().min(1).describe("namespace of the workers' heartbeat Leases"),
  maxRunning: z.number().int().min(0).describe('WorkItems running at once across all Projects (0: no limit)'),
  maxRunningPerProject: z
    .number()
    .int()
    .min(0)
    .describe('WorkItems running at once per Project (0: no limit)'),
  preview: z
    .object({
      domain: z
        .string()
        .optional()
        .describe('domain of Session preview host names (<session>-<project>.<domain>)'),
      ingressClassName: z.string().optional().describe('IngressClass of preview Ingresses'),
      tlsSecret: z.string().optional().describe('TLS Secret (a wildcard certificate) of preview Ingresses'),
      dnsRecords: z.boolean().describe('a Cloudflare record per preview host (no wildcard record)'),
    })

    .describe('Session previews'),
  git: z
    .object({
      url: z.string().url().optional().describe('root URL of the Gitea server'),
      secret: z
        .string()
        .optional()
        .describe('Secret (namespace/name) with GITEA_TOKEN (optional WEBHOOK_SECRET)'),
      organization: z.string().min(1).describe('Gitea organisation that owns Project repositories'),
      webhooks: listOf.describe('URLs every Project repository sends push and pull request events to'),
      checkoutBotSecret: z
        .string()
        .optional()
        .describe(
          'Secret (namespace/name) with username and password of the bot user Checkout tokens belong to',
        ),
      checkoutPollSeconds: z
        .number()
        .int()
        .min(1)
        .max(3600)
        .describe('how often a checked-in pull request is looked at'),
    })
    .describe('the git forge (Gitea)'),
  ci: z
    .object({
      url: z.string().url().optional().describe('root URL of the Woodpecker server'),
      secret: z.string().optional().describe('Secret (namespace/name) with WOODPECKER_TOKEN'),
    })
    .default({})
    .describe('continuous integration (Woodpecker)'),
  dns: z
    .object({
      mode: z.enum(['none', 'cloudflare', 'external-dns']).describe('how Project DNS names are published'),
      cloudflareSecret: z.string().optional().describe('Secret (namespace/name) with CLOUDFLARE_API_TOKEN'),
      cloudflareZoneId: z.string().optional().describe('id of the Cloudflare zone of --domain'),
      cloudflareApiURL: z.string().url().optional().describe("Cloudflare API root (default: Cloudflare's)"),
      target: z
        .string()
        .regex(/^(A|CNAME):\S+$/, 'must be A:<address> or CNAME:<host name>')
        .optional()
        .describe('what Project host names point at'),
      proxied: z.boolean().describe("whether records go through Cloudflare's proxy"),
    })
    .describe('DNS records of Projects'),
});

export type OperatorConfig = z.infer<typeof operatorConfig>;

type Kind = 'string' | 'boolean' | 'number' | 'list';

export interface OptionSpec {
  flag: string;
  env: string;
  path: string[];
  kind: Kind;
  help: string;
  default?: unknown;
  secret?: boolean;
}

// Options `rdev worker` has too (worker/config.ts).
export const KUBECONFIG_OPTION: OptionSpec = {
  flag: 'kubeconfig',
  env: 'KUBECONFIG',
  path: ['kubeconfig'],
  kind: 'string',
  help: 'kubeconfig file (default: in-cluster, or $KUBECONFIG)',
};

export const HEALTH_ADDR_OPTION: OptionSpec = {
  flag: 'health-addr',
  env: 'RDEV_HEALTH_ADDR',
  path: ['healthAddr'],
  kind: 'string',
  help: 'serve /healthz and /readyz on host:port; empty disables',
  default: ':8081',
};

export const LOG_LEVEL_OPTION: OptionSpec = {
  flag: 'log-level',
  env: 'LOG_LEVEL',
  path: ['logLevel'],
  kind: 'string',
  help: 'trace, debug, info, warn, error or fatal',
  default: 'info',
};

/** Every option, in --help order. */
export const OPTIONS: OptionSpec[] = [
  KUBECONFIG_OPTION,
  {
    flag: 'namespace',
    env: 'RDEV_NAMESPACES',
    path: ['namespaces'],
    kind: 'list',
    help: 'namespace to watch; repeat or comma-separate (default: all)',
    default: [],
  },
  {
    flag: 'leader-elect',
    env: 'RDEV_LEADER_ELECT',
    path: ['leaderElect'],
    kind: 'boolean',
    help: 'use leader election (run several replicas)',
    default: false,
  },
  {
    flag: 'leader-election-namespace',
    env: 'POD_NAMESPACE',
    path: ['leaderElectionNamespace'],
    kind: 'string',
    help: 'namespace of the leader Lease',
    default: 'rdev-system',
  },
  {
    flag: 'metrics-addr',
    env: 'RDEV_METRICS_ADDR',
    path: ['metricsAddr'],
    kind: 'string',
    help: 'serve /metrics on host:port; empty disables',
    default: ':8080',
  },
  HEALTH_ADDR_OPTION,
  LOG_LEVEL_OPTION,
  {
    flag: 'workers',
    env: 'RDEV_WORKERS',
    path: ['workers'],
    kind: 'number',
    help: 'concurrent reconciles per controller',
    default: 4,
  },
  {
    flag: 'claude-code-image',
    env: 'RDEV_CLAUDE_CODE_IMAGE',
    path: ['images', 'claudeCode'],
    kind: 'string',
    help: 'workspace image for the claude-code agent',
    default: 'ghcr.io/rdev-dev/workspace-claude-code:latest',
  },
  {
    flag: 'opencode-image',
    env: 'RDEV_OPENCODE_IMAGE',
    path: ['images', 'opencode'],
    kind: 'string',
    help: 'workspace image for the opencode agent',
    default: 'ghcr.io/rdev-dev/workspace-opencode:latest',
  },
  {
    flag: 'storage-class',
    env: 'RDEV_STORAGE_CLASS',
    path: ['storageClassName'],
    kind: 'string',
    help: 'StorageClass of workspace volumes (default: the cluster default)',
  },
  {
    flag: 'shim-namespace',
    env: 'RDEV_SHIM_NAMESPACE',
    path: ['shimNamespace'],
    kind: 'string',
    help: 'namespace of the rdev shim, allowed into workspaces',
    default: 'rdev-system',
  },
  {
    flag: 'webhook-backoff-seconds',
    env: 'RDEV_WEBHOOK_BACKOFF_SECONDS',
    path: ['webhooks', 'backoffSeconds'],
    kind: 'number',
    help: 'seconds before the first retry of a failed webhook delivery; each retry doubles it, up to 5 minutes',
    default: 1,
  },
  {
    flag: 'webhook-max-attempts',
    env: 'RDEV_WEBHOOK_MAX_ATTEMPTS',
    path: ['webhooks', 'maxAttempts'],
    kind: 'number',
    help: 'attempts per webhook delivery before it counts as failed',
    default: 6,
  },
  {
    flag: 'egress-cidr',
    env: 'RDEV_EGRESS_CIDRS',
    path: ['egressCIDRs'],
    kind: 'list',
    help: 'CIDR workspaces may reach besides DNS; repeat or comma-separate; none: DNS only',
    default: ['0.0.0.0/0', '::/0'],
  },
  {
    flag: 'domain',
    env: 'RDEV_DOMAIN',
    path: ['domain'],
    kind: 'string',
    help: 'base domain for Project and preview host names',
  },
  {
    flag: 'postgres-admin-secret',
    env: 'RDEV_POSTGRES_ADMIN_SECRET',
    path: ['postgresAdminSecret'],
    kind: 'string',
    help: 'namespace/name of a Secret with DATABASE_ADMIN_URL (optional DATABASE_HOST, DATABASE_PORT: as workspaces reach it) for postgres databases',
  },
  {
    flag: 'cockroachdb-admin-secret',
    env: 'RDEV_COCKROACHDB_ADMIN_SECRET',
    path: ['cockroachdbAdminSecret'],
    kind: 'string',
    help: 'the same, for cockroachdb databases',
  },
  {
    flag: 'redis-admin-secret',
    env: 'RDEV_REDIS_ADMIN_SECRET',
    path: ['redisAdminSecret'],
    kind: 'string',
    help: 'namespace/name of a Secret with REDIS_ADMIN_URL (optional REDIS_HOST, REDIS_PORT) for Project caches',
  },
  {
    flag: 'cache-check-seconds',
    env: 'RDEV_CACHE_CHECK_SECONDS',
    path: ['cacheCheckSeconds'],
    kind: 'number',
    help: 'seconds between checks that each Project Redis user still exists (a Redis restart loses them)',
    default: 60,
  },
  {
    flag: 'worker-namespace',
    env: 'RDEV_WORKER_NAMESPACE',
    path: ['workerNamespace'],
    kind: 'string',
    help: "namespace where workers keep their heartbeat Leases (the workers' own namespace)",
    default: 'rdev-system',
  },
  {
    flag: 'max-running',
    env: 'RDEV_MAX_RUNNING',
    path: ['maxRunning'],
    kind: 'number',
    help: 'WorkItems scheduled or running at once across all Projects; 0: no limit but worker capacity',
    default: 0,
  },
  {
    flag: 'max-running-per-project',
    env: 'RDEV_MAX_RUNNING_PER_PROJECT',
    path: ['maxRunningPerProject'],
    kind: 'number',
    help: 'WorkItems scheduled or running at once per Project; 0: no limit',
    default: 0,
  },
  {
    flag: 'preview-domain',
    env: 'RDEV_PREVIEW_DOMAIN',
    path: ['preview', 'domain'],
    kind: 'string',
    help: 'domain of Session preview URLs, <session>-<project>.<domain> (a wildcard DNS name pointing at the ingress)',
  },
  {
    flag: 'preview-ingress-class',
    env: 'RDEV_PREVIEW_INGRESS_CLASS',
    path: ['preview', 'ingressClassName'],
    kind: 'string',
    help: 'IngressClass of preview Ingresses (default: the cluster default)',
  },
  {
    flag: 'preview-tls-secret',
    env: 'RDEV_PREVIEW_TLS_SECRET',
    path: ['preview', 'tlsSecret'],
    kind: 'string',
    help: "name of a TLS Secret (wildcard certificate of the preview domain) in each Session's namespace; https URLs when set",
  },
  {
    flag: 'preview-dns-records',
    env: 'RDEV_PREVIEW_DNS_RECORDS',
    path: ['preview', 'dnsRecords'],
    kind: 'boolean',
    help: 'make a DNS record for each preview host (--dns-mode cloudflare), for a preview domain without a wildcard record',
    default: false,
  },
  {
    flag: 'gitea-url',
    env: 'RDEV_GITEA_URL',
    path: ['git', 'url'],
    kind: 'string',
    help: 'root URL of the Gitea server Project repositories live on',
  },
  {
    flag: 'gitea-secret',
    env: 'RDEV_GITEA_SECRET',
    path: ['git', 'secret'],
    kind: 'string',
    help: 'namespace/name of a Secret with GITEA_TOKEN (an owner of the organisation) and optional WEBHOOK_SECRET',
  },
  {
    flag: 'gitea-organization',
    env: 'RDEV_GITEA_ORGANIZATION',
    path: ['git', 'organization'],
    kind: 'string',
    help: 'Gitea organisation that owns Project repositories',
    default: 'rdev',
  },
  {
    flag: 'repo-webhook',
    env: 'RDEV_REPO_WEBHOOKS',
    path: ['git', 'webhooks'],
    kind: 'list',
    help: 'URL every Project repository sends push and pull request events to; repeat or comma-separate',
    default: [],
  },
  {
    flag: 'checkout-bot-secret',
    env: 'RDEV_CHECKOUT_BOT_SECRET',
    path: ['git', 'checkoutBotSecret'],
    kind: 'string',
    help: 'namespace/name of a Secret with username and password of the Gitea bot user that Checkout tokens are made for',
  },
  {
    flag: 'checkout-poll-seconds',
    env: 'RDEV_CHECKOUT_POLL_SECONDS',
    path: ['git', 'checkoutPollSeconds'],
    kind: 'number',
    help: 'how often the pull request of a checked-in Checkout is looked at (merged, closed)',
    default: 30,
  },
  {
    flag: 'woodpecker-url',
    env: 'RDEV_WOODPECKER_URL',
    path: ['ci', 'url'],
    kind: 'string',
    help: 'root URL of the Woodpecker server that runs Project CI',
  },
  {
    flag: 'woodpecker-secret',
    env: 'RDEV_WOODPECKER_SECRET',
    path: ['ci', 'secret'],
    kind: 'string',
    help: 'namespace/name of a Secret with WOODPECKER_TOKEN',
  },
  {
    flag: 'dns-mode',
    env: 'RDEV_DNS_MODE',
    path: ['dns', 'mode'],
    kind: 'string',
    help: 'none, cloudflare (records through the Cloudflare API) or external-dns (hostname annotations on the Service)',
    default: 'none',
  },
  {
    flag: 'cloudflare-secret',
    env: 'RDEV_CLOUDFLARE_SECRET',
    path: ['dns', 'cloudflareSecret'],
    kind: 'string',
    help: 'namespace/name of a Secret with CLOUDFLARE_API_TOKEN (Zone.DNS edit on the zone)',
  },
  {
    flag: 'cloudflare-zone-id',
    env: 'RDEV_CLOUDFLARE_ZONE_ID',
    path: ['dns', 'cloudflareZoneId'],
    kind: 'string',
    help: 'id of the Cloudflare zone whose name is --domain',
  },
  {
    flag: 'cloudflare-api-url',
    env: 'RDEV_CLOUDFLARE_API_URL',
    path: ['dns', 'cloudflareApiURL'],
    kind: 'string',
    help: "Cloudflare API root (default: Cloudflare's)",
  },
  {
    flag: 'dns-target',
    env: 'RDEV_DNS_TARGET',
    path: ['dns', 'target'],
    kind: 'string',
    help: 'what Project host names point at: CNAME:<ingress host name> or A:<address>',
  },
  {
    flag: 'dns-proxied',
    env: 'RDEV_DNS_PROXIED',
    path: ['dns', 'proxied'],
    kind: 'boolean',
    help: "send Project traffic through Cloudflare's proxy",
    default: false,
  },
];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function convert(spec: OptionSpec, raw: unknown, origin: string): unknown {
  if (spec.kind === 'list') {
    const items = Array.isArray(raw) ? raw.flatMap((r) => String(r).split(',')) : String(raw).split(',');
    return items.map((s) => s.trim()).filter(Boolean);
  }
  if (spec.kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (/^(true|1|yes)$/i.test(String(raw))) return true;
    if (/^(false|0|no)$/i.test(String(raw))) return false;
    throw new ConfigError(`${origin}: expected true or false, got "${String(raw)}"`);
  }
  if (spec.kind === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new ConfigError(`${origin}: expected a number, got "${String(raw)}"`);
    return n;
  }
  return String(raw);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function getPath(source: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], source);
}

/** Builds the operator's configuration from arguments, environment and the --config file. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  return loadOptions(operatorConfig, OPTIONS, argv, env);
}

/** Fills `schema` from an option table: flags, then environment, then the --config file, then defaults. */
export function loadOptions<S extends z.ZodType>(
  schema: S,
  table: OptionSpec[],
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      config: { type: 'string' },
      ...Object.fromEntries(
        table.map((o) => [
          o.flag,
          { type: o.kind === 'boolean' ? 'boolean' : 'string', multiple: o.kind === 'list' },
        ]),
      ),
    },
  });
  const configFile = (values.config as string | undefined) ?? env.RDEV_CONFIG;
  const file: unknown = configFile ? parseYaml(readFileSync(configFile, 'utf8')) : {};
  const config: Record<string, unknown> = {};
  for (const spec of table) {
    const flag = (values as Record<string, unknown>)[spec.flag];
    const fromFile = getPath(file, spec.path);
    let value: unknown = spec.default;
    if (fromFile !== undefined) value = convert(spec, fromFile, `${configFile}: ${spec.path.join('.')}`);
    if (env[spec.env] !== undefined && env[spec.env] !== '')
      value = convert(spec, env[spec.env], `$${spec.env}`);
    if (flag !== undefined) value = convert(spec, flag, `--${spec.flag}`);
    if (value !== undefined) setPath(config, spec.path, value);
  }
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const spec = table.find((o) => o.path.join('.') === issue?.path.join('.'));
    throw new ConfigError(`${spec ? `--${spec.flag}` : issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

/** --help text, generated from the option table. */
export function configHelp(table: OptionSpec[] = OPTIONS): string {
  const rows = [
    ['--config FILE', 'YAML or JSON file with any of the options below, by config path ($RDEV_CONFIG)'],
    ...table.map((o) => [
      `--${o.flag}${o.kind === 'boolean' ? '' : ` ${o.kind === 'list' ? 'LIST' : 'VALUE'}`}`,
      `${o.help} ($${o.env}; config: ${o.path.join('.')})${o.default !== undefined && !(Array.isArray(o.default) && o.default.length === 0) ? ` [default: ${Array.isArray(o.default) ? o.default.join(',') : String(o.default)}]` : ''}`,
    ]),
  ];
  const width = Math.max(...rows.map(([f]) => (f as string).length));
  return rows.map(([f, h]) => `  ${(f as string).padEnd(width)}  ${h}`).join('\n');
}

/** The configuration as printed at start: secret-bearing options masked. */
export function redactedConfig(config: object, table: OptionSpec[] = OPTIONS): Record<string, unknown> {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const spec of table.filter((o) => o.secret)) {
    if (getPath(copy, spec.path) !== undefined) setPath(copy, spec.path, '[redacted]');
  }
  return copy;
}
