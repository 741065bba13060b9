// Operator configuration: one zod schema whose fields declare their options (flag, environment
// variable, help, default) in `.meta({ option })`; shared/options.ts fills it from flags, then
// environment variables, then an optional YAML/JSON file (--config), then defaults.
import { z } from 'zod';
import { IMAGES } from './images.ts';
import {
  allowedImagesField,
  commandOptions,
  healthAddrField,
  kubeconfigField,
  logLevelField,
  webhookAllowCidrsField,
  woodpeckerFields,
  workerNamespaceField,
} from './shared/options.ts';
import { workspaceCapsFields } from './shared/workspace-caps.ts';

const listOf = z.array(z.string().min(1));

export const operatorConfig = z.object({
  kubeconfig: kubeconfigField,
  namespaces: listOf.describe('namespaces to watch (empty: all)').meta({
    option: {
      flag: 'namespace',
      env: 'RDEV_NAMESPACES',
      help: 'namespace to watch; repeat or comma-separate (default: all)',
      default: [],
    },
  }),
  leaderElect: z
    .boolean()
    .describe('hold a Lease so that only one replica reconciles')
    .meta({
      option: {
        flag: 'leader-elect',
        env: 'RDEV_LEADER_ELECT',
        help: 'use leader election (run several replicas)',
        default: false,
      },
    }),
  leaderElectionNamespace: z
    .string()
    .min(1)
    .describe('namespace of the leader Lease')
    .meta({
      option: {
        flag: 'leader-election-namespace',
        env: 'POD_NAMESPACE',
        help: 'namespace of the leader Lease',
        default: 'rdev-system',
      },
    }),
  metricsAddr: z
    .string()
    .describe('address of /metrics, host:port (empty: off)')
    .meta({
      option: {
        flag: 'metrics-addr',
        env: 'RDEV_METRICS_ADDR',
        help: 'serve /metrics on host:port; empty disables',
        default: ':8080',
      },
    }),
  healthAddr: healthAddrField,
  logLevel: logLevelField,
  workers: z
    .number()
    .int()
    .min(1)
    .max(64)
    .describe('concurrent reconciles per controller')
    .meta({
      option: {
        flag: 'workers',
        env: 'RDEV_WORKERS',
        help: 'concurrent reconciles per controller',
        default: 4,
      },
    }),
  images: z
    .object({
      claudeCode: z
        .string()
        .min(1)
        .describe('workspace image of the claude-code agent')
        .meta({
          option: {
            flag: 'claude-code-image',
            env: 'RDEV_CLAUDE_CODE_IMAGE',
            help: 'workspace image for the claude-code agent',
            default: IMAGES['workspace-claude-code'],
          },
        }),
      opencode: z
        .string()
        .min(1)
        .describe('workspace image of the opencode agent')
        .meta({
          option: {
            flag: 'opencode-image',
            env: 'RDEV_OPENCODE_IMAGE',
            help: 'workspace image for the opencode agent',
            default: IMAGES['workspace-opencode'],
          },
        }),
    })
    .describe('workspace images per agent provider'),
  allowedImages: allowedImagesField,
  workspaceCaps: z
    .object(workspaceCapsFields)
    .default({})
    .describe("caps on each Project Pod's CPU and memory"),
  storageClassName: z
    .string()
    .optional()
    .describe('StorageClass of workspace volumes (cluster default when unset)')
    .meta({
      option: {
        flag: 'storage-class',
        env: 'RDEV_STORAGE_CLASS',
        help: 'StorageClass of workspace volumes (default: the cluster default)',
      },
    }),
  shimNamespace: z
    .string()
    .min(1)
    .describe('namespace of the rdev shim, allowed to reach workspaces')
    .meta({
      option: {
        flag: 'shim-namespace',
        env: 'RDEV_SHIM_NAMESPACE',
        help: 'namespace of the rdev shim, allowed into workspaces',
        default: 'rdev-system',
      },
    }),
  shimPodLabels: z
    .array(z.string().regex(/^[^=,]+=[^=,]*$/, 'not a label (key=value)'))
    .describe("labels of the shim's Pods, the only Pods of --shim-namespace allowed into workspaces")
    .meta({
      option: {
        flag: 'shim-pod-labels',
        env: 'RDEV_SHIM_POD_LABELS',
        help: "labels (key=value) the shim's Pods carry: only those Pods of --shim-namespace may connect to workspaces and runners; repeat or comma-separate",
        default: ['app.kubernetes.io/component=shim'],
      },
    }),
  webhooks: z
    .object({
      backoffSeconds: z
        .number()
        .positive()
        .max(300)
        .describe('wait before the first retry of a webhook delivery; doubles with each retry')
        .meta({
          option: {
            flag: 'webhook-backoff-seconds',
            env: 'RDEV_WEBHOOK_BACKOFF_SECONDS',
            help: 'seconds before the first retry of a failed webhook delivery; each retry doubles it, up to 5 minutes',
            default: 1,
          },
        }),
      maxAttempts: z
        .number()
        .int()
        .min(1)
        .max(20)
        .describe('attempts per webhook delivery')
        .meta({
          option: {
            flag: 'webhook-max-attempts',
            env: 'RDEV_WEBHOOK_MAX_ATTEMPTS',
            help: 'attempts per webhook delivery before it counts as failed',
            default: 6,
          },
        }),
      allowCIDRs: webhookAllowCidrsField,
    })
    .describe('webhook deliveries (subscriptions are Secrets in the shim namespace)'),
  egressCIDRs: listOf.describe('CIDRs workspaces may reach besides DNS (empty: DNS only)').meta({
    option: {
      flag: 'egress-cidr',
      env: 'RDEV_EGRESS_CIDRS',
      help: 'CIDR workspaces may reach besides DNS; repeat or comma-separate; none: DNS only',
      default: ['0.0.0.0/0', '::/0'],
    },
  }),
  domain: z
    .string()
    .optional()
    .describe('base domain of Project and preview host names')
    .meta({
      option: {
        flag: 'domain',
        env: 'RDEV_DOMAIN',
        help: 'base domain for Project and preview host names',
      },
    }),
  postgresAdminSecret: z
    .string()
    .optional()
    .describe('Secret (namespace/name) with the PostgreSQL admin URL')
    .meta({
      option: {
        flag: 'postgres-admin-secret',
        env: 'RDEV_POSTGRES_ADMIN_SECRET',
        help: 'namespace/name of a Secret with DATABASE_ADMIN_URL (optional DATABASE_HOST, DATABASE_PORT: as workspaces reach it) for postgres databases',
      },
    }),
  cockroachdbAdminSecret: z
    .string()
    .optional()
    .describe('Secret (namespace/name) with the CockroachDB admin URL')
    .meta({
      option: {
        flag: 'cockroachdb-admin-secret',
        env: 'RDEV_COCKROACHDB_ADMIN_SECRET',
        help: 'the same, for cockroachdb databases',
      },
    }),
  redisAdminSecret: z
    .string()
    .optional()
    .describe('Secret (namespace/name) with the Redis admin URL')
    .meta({
      option: {
        flag: 'redis-admin-secret',
        env: 'RDEV_REDIS_ADMIN_SECRET',
        help: 'namespace/name of a Secret with REDIS_ADMIN_URL (optional REDIS_HOST, REDIS_PORT) for Project caches',
      },
    }),
  cacheCheckSeconds: z
    .number()
    .int()
    .min(1)
    .max(86400)
    .describe('how often Redis users are checked (a restart loses them)')
    .meta({
      option: {
        flag: 'cache-check-seconds',
        env: 'RDEV_CACHE_CHECK_SECONDS',
        help: 'seconds between checks that each Project Redis user still exists (a Redis restart loses them)',
        default: 60,
      },
    }),
  workerNamespace: workerNamespaceField(
    "namespace where workers keep their heartbeat Leases (the workers' own namespace)",
  ),
  maxRunning: z
    .number()
    .int()
    .min(0)
    .describe('WorkItems running at once across all Projects (0: no limit)')
    .meta({
      option: {
        flag: 'max-running',
        env: 'RDEV_MAX_RUNNING',
        help: 'WorkItems scheduled or running at once across all Projects; 0: no limit but worker capacity',
        default: 0,
      },
    }),
  maxRunningPerProject: z
    .number()
    .int()
    .min(0)
    .describe('WorkItems running at once per Project (0: no limit)')
    .meta({
      option: {
        flag: 'max-running-per-project',
        env: 'RDEV_MAX_RUNNING_PER_PROJECT',
        help: 'WorkItems scheduled or running at once per Project; 0: no limit',
        default: 0,
      },
    }),
  maxDedicatedSessionsPerProject: z
    .number()
    .int()
    .min(0)
    .describe('Sessions of one Project with a dedicated Pod at once (0: no limit)')
    .meta({
      option: {
        flag: 'max-dedicated-sessions-per-project',
        env: 'RDEV_MAX_DEDICATED_SESSIONS_PER_PROJECT',
        help: 'dedicated Session Pods of one Project at once; later Sessions wait (Ready=False, QuotaExceeded) until one ends; 0: no limit',
        default: 8,
      },
    }),
  maxFeaturesPerProject: z
    .number()
    .int()
    .min(1)
    .max(100)
    .describe('Features of one Project with an action running at once')
    .meta({
      option: {
        flag: 'max-features-per-project',
        env: 'RDEV_MAX_FEATURES_PER_PROJECT',
        help: 'Features of one Project that may have an agent action running at once',
        default: 4,
      },
    }),
  runnerIdleSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86400)
    .describe('how long after its last WorkItem a Project keeps a warm runner by default')
    .meta({
      option: {
        flag: 'runner-idle-seconds',
        env: 'RDEV_RUNNER_IDLE_SECONDS',
        help: 'a Project without spec.runners.warm keeps one warm runner while it has had a WorkItem within this many seconds; 0: none',
        default: 1800,
      },
    }),
  preview: z
    .object({
      domain: z
        .string()
        .optional()
        .describe('domain of Session preview host names (<session>-<project>[-<hash>].<domain>)')
        .meta({
          option: {
            flag: 'preview-domain',
            env: 'RDEV_PREVIEW_DOMAIN',
            help: 'domain of Session preview URLs, <session>-<project>[-<hash>].<domain> (a wildcard DNS name pointing at the ingress)',
          },
        }),
      ingressClassName: z
        .string()
        .optional()
        .describe('IngressClass of preview Ingresses')
        .meta({
          option: {
            flag: 'preview-ingress-class',
            env: 'RDEV_PREVIEW_INGRESS_CLASS',
            help: 'IngressClass of preview Ingresses (default: the cluster default)',
          },
        }),
      tlsSecret: z
        .string()
        .optional()
        .describe('TLS Secret (a wildcard certificate) of preview Ingresses')
        .meta({
          option: {
            flag: 'preview-tls-secret',
            env: 'RDEV_PREVIEW_TLS_SECRET',
            help: "name of a TLS Secret (wildcard certificate of the preview domain) in each Session's namespace; https URLs when set",
          },
        }),
      ingressNamespace: z
        .string()
        .optional()
        .describe("namespace of the ingress controller serving previews, allowed into the Project's Pods")
        .meta({
          option: {
            flag: 'preview-ingress-namespace',
            env: 'RDEV_PREVIEW_INGRESS_NAMESPACE',
            help: "namespace of the ingress controller that serves previews: its Pods may connect to the Project's Pods (default: none may, so previews need it)",
          },
        }),
      dnsRecords: z
        .boolean()
        .describe('a Cloudflare record per preview host (no wildcard record)')
        .meta({
          option: {
            flag: 'preview-dns-records',
            env: 'RDEV_PREVIEW_DNS_RECORDS',
            help: 'make a DNS record for each preview host (--dns-mode cloudflare), for a preview domain without a wildcard record',
            default: false,
          },
        }),
    })
    .describe('Session previews'),
  git: z
    .object({
      url: z
        .string()
        .url()
        .optional()
        .describe('root URL of the Gitea server')
        .meta({
          option: {
            flag: 'gitea-url',
            env: 'RDEV_GITEA_URL',
            help: 'root URL of the Gitea server Project repositories live on',
          },
        }),
      secret: z
        .string()
        .optional()
        .describe('Secret (namespace/name) with GITEA_TOKEN (optional WEBHOOK_SECRET)')
        .meta({
          option: {
            flag: 'gitea-secret',
            env: 'RDEV_GITEA_SECRET',
            help: "namespace/name of a Secret with GITEA_TOKEN (a site administrator's: it creates each Project's git user) and optional WEBHOOK_SECRET",
          },
        }),
      organization: z
        .string()
        .min(1)
        .describe('Gitea organisation that owns Project repositories')
        .meta({
          option: {
            flag: 'gitea-organization',
            env: 'RDEV_GITEA_ORGANIZATION',
            help: 'Gitea organisation that owns Project repositories',
            default: 'rdev',
          },
        }),
      webhooks: listOf.describe('URLs every Project repository sends push and pull request events to').meta({
        option: {
          flag: 'repo-webhook',
          env: 'RDEV_REPO_WEBHOOKS',
          help: 'URL every Project repository sends push and pull request events to; repeat or comma-separate',
          default: [],
        },
      }),
      checkoutPollSeconds: z
        .number()
        .int()
        .min(1)
        .max(3600)
        .describe('how often a checked-in pull request is looked at')
        .meta({
          option: {
            flag: 'checkout-poll-seconds',
            env: 'RDEV_CHECKOUT_POLL_SECONDS',
            help: 'how often the pull request of a checked-in Checkout is looked at (merged, closed)',
            default: 30,
          },
        }),
    })
    .describe('the git forge (Gitea)'),
  ci: z
    .object(woodpeckerFields('root URL of the Woodpecker server that runs Project CI'))
    .default({})
    .describe('continuous integration (Woodpecker)'),
  dns: z
    .object({
      mode: z
        .enum(['none', 'cloudflare', 'external-dns'])
        .describe('how Project DNS names are published')
        .meta({
          option: {
            flag: 'dns-mode',
            env: 'RDEV_DNS_MODE',
            help: 'none, cloudflare (records through the Cloudflare API) or external-dns (hostname annotations on the Service)',
            default: 'none',
          },
        }),
      cloudflareSecret: z
        .string()
        .optional()
        .describe('Secret (namespace/name) with CLOUDFLARE_API_TOKEN')
        .meta({
          option: {
            flag: 'cloudflare-secret',
            env: 'RDEV_CLOUDFLARE_SECRET',
            help: 'namespace/name of a Secret with CLOUDFLARE_API_TOKEN (Zone.DNS edit on the zone)',
          },
        }),
      cloudflareZoneId: z
        .string()
        .optional()
        .describe('id of the Cloudflare zone of --domain')
        .meta({
          option: {
            flag: 'cloudflare-zone-id',
            env: 'RDEV_CLOUDFLARE_ZONE_ID',
            help: 'id of the Cloudflare zone whose name is --domain',
          },
        }),
      cloudflareApiURL: z
        .string()
        .url()
        .optional()
        .describe("Cloudflare API root (default: Cloudflare's)")
        .meta({
          option: {
            flag: 'cloudflare-api-url',
            env: 'RDEV_CLOUDFLARE_API_URL',
            help: "Cloudflare API root (default: Cloudflare's)",
          },
        }),
      target: z
        .string()
        .regex(/^(A|CNAME):\S+$/, 'must be A:<address> or CNAME:<host name>')
        .optional()
        .describe('what Project host names point at')
        .meta({
          option: {
            flag: 'dns-target',
            env: 'RDEV_DNS_TARGET',
            help: 'what Project host names point at: CNAME:<ingress host name> or A:<address>',
          },
        }),
      proxied: z
        .boolean()
        .describe("whether records go through Cloudflare's proxy")
        .meta({
          option: {
            flag: 'dns-proxied',
            env: 'RDEV_DNS_PROXIED',
            help: "send Project traffic through Cloudflare's proxy",
            default: false,
          },
        }),
    })
    .describe('DNS records of Projects'),
});

export type OperatorConfig = z.infer<typeof operatorConfig>;

/**
 * Every option of `rdev operator`, in --help order, and the loader that builds the operator's
 * configuration from arguments, environment and the --config file.
 */
export const { options: OPTIONS, load: loadConfig } = commandOptions(operatorConfig);
