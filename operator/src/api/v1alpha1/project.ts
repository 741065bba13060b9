// Project: an isolated workspace where a coding agent works on one codebase, with the
// infrastructure that codebase needs (repository, CI, database, cache, DNS) in one resource.
import { z } from 'zod';
import {
  dnsLabel,
  envList,
  hostname,
  immutable,
  kindStatus,
  objectName,
  port,
  quantity,
  resourceRequirements,
  withRules,
} from './common.ts';
import { column, defineKind } from './kind.ts';

// Keep in step with the registry in operator/src/agents.ts (a unit test checks).
export const AGENT_PROVIDER_NAMES = ['claude-code', 'opencode'] as const;
export const TEMPLATE_COMPONENTS = ['service', 'worker', 'cli', 'app-react', 'app-astro'] as const;

const deletionPolicy = (fallback: 'Delete' | 'Retain', what: string) =>
  z
    .enum(['Delete', 'Retain'])
    .default(fallback)
    .meta({ description: `What happens to the ${what} when the Project is deleted: Delete or Retain.` });

const agent = z
  .object({
    provider: z
      .enum(AGENT_PROVIDER_NAMES)
      .default('claude-code')
      .meta({ description: 'The coding agent that works in the workspace: claude-code or opencode.' }),
    model: z
      .string()
      .max(128)
      .regex(/^[A-Za-z0-9._:/@-]*$/)
      .default('')
      .meta({ description: "Model the agent uses; empty for the provider's default." }),
    credentialsSecretRef: z
      .object({ name: objectName('Name of the Secret.') })
      .optional()
      .meta({
        description:
          'Secret in the same namespace holding the keys the provider needs (e.g. ANTHROPIC_API_KEY for claude-code).',
      }),
  })
  .meta({ description: 'The coding agent of this Project.' });

const workspace = z
  .object({
    image: z
      .string()
      .max(512)
      .regex(/^[^\s]*$/)
      .optional()
      .meta({ description: "Container image of the workspace; defaults to the agent provider's image." }),
    storage: quantity('Size of the workspace volume.', { min: '1Gi', max: '1Ti' })
      .default('10Gi')
      .meta({ description: 'Size of the workspace volume (between 1Gi and 1Ti).' }),
    storageClassName: objectName(
      'StorageClass of the workspace volume; the cluster default when unset.',
    ).optional(),
    previewPort: port()
      .default(3000)
      .meta({ description: 'Port the workspace serves its preview or site on (exposed by a Service).' }),
    resources: resourceRequirements().optional(),
    env: envList('Extra environment variables of the workspace container.').optional(),
  })
  .meta({ description: 'The Pod the agent works in.' });

const template = z
  .object({
    name: dnsLabel('Template the repository starts from: monorepo, landing or go-api.').default('monorepo'),
    components: z
      .array(z.enum(TEMPLATE_COMPONENTS).meta({ description: 'A component of the monorepo template.' }))
      .max(10)
      .default([])
      .meta({
        description: 'Components added to the monorepo template: service, worker, cli, app-react, app-astro.',
        'x-kubernetes-list-type': 'set',
      }),
  })
  .meta({ description: 'What the new repository is scaffolded from.' });

const repo = withRules(
  z
    .object({
      enabled: z.boolean().optional().meta({
        description:
          'Whether the Project has a git repository. Unset: when the operator has a git forge configured, or ci.enabled is true.',
      }),
      name: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/)
        .optional()
        .meta({
          description: "Name of the repository in the git organisation; the Project's name when unset.",
        }),
      private: z.boolean().default(true).meta({ description: 'Whether the repository is private.' }),
      deletionPolicy: deletionPolicy('Delete', 'repository'),
    })
    .meta({ description: 'The git repository (Gitea) of the Project.' }),
  {
    rule: 'has(oldSelf.name) ? (has(self.name) && self.name == oldSelf.name) : !has(self.name)',
    message: 'repo.name cannot be changed once the Project exists',
    fieldPath: '.name',
  },
);

const ci = z
  .object({
    enabled: z.boolean().optional().meta({
      description:
        'Whether CI (Woodpecker) runs on the repository; needs the repository. Unset: when the operator has a CI server configured.',
    }),
  })
  .meta({ description: 'Continuous integration of the repository.' });

const database = z
  .object({
    enabled: z.boolean().default(false).meta({ description: 'Whether the Project has its own database.' }),
    engine: immutable(
      z
        .enum(['postgres', 'cockroachdb'])
        .default('postgres')
        .meta({ description: 'Database engine: postgres or cockroachdb. Immutable.' }),
      'database.engine',
    ),
    deletionPolicy: deletionPolicy('Retain', 'database'),
  })
  .meta({
    description: 'A database and login role for the Project; credentials reach the workspace as env.',
  });

const cache = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .meta({ description: 'Whether the Project has its own Redis cache user.' }),
    deletionPolicy: deletionPolicy('Delete', 'cache user and its keys'),
  })
  .meta({ description: 'A Redis user confined to a key prefix; credentials reach the workspace as env.' });

const dns = z
  .object({
    enabled: z.boolean().default(false).meta({ description: 'Whether the Project gets DNS records.' }),
    subdomain: dnsLabel("Label under the configured domain; the Project's name when unset.").optional(),
    aliases: z.array(hostname('A host name.')).max(20).optional().meta({
      description: 'Additional host names pointing at the Project (e.g. www.shop.example.com).',
      'x-kubernetes-list-type': 'set',
    }),
  })
  .meta({ description: 'DNS names of the Project.' });

// The rules guard with has(): the API server also checks them against the spec's default, `{}`,
// before the nested defaults are filled in.
export const projectSpec = withRules(
  z
    .object({
      displayName: z
        .string()
        .max(100)
        .optional()
        .meta({ description: 'Human-readable name of the Project.' }),
      agent: agent.prefault({}),
      workspace: workspace.prefault({}),
      suspend: z
        .boolean()
        .default(false)
        .meta({ description: 'Stops the workspace Pod; everything else is kept.' }),
      runners: z
        .object({
          warm: z.number().int().min(0).max(20).optional().meta({
            description:
              "Idle, Ready runner Pods kept for WorkItems to claim. Unset: one while the Project has had a WorkItem within the operator's --runner-idle, else none.",
          }),
        })
        .prefault({})
        .meta({ description: 'The warm pool of runner Pods that WorkItems run in.' }),
      template: template.prefault({}),
      repo: repo.prefault({}),
      ci: ci.prefault({}),
      database: database.prefault({}),
      cache: cache.prefault({}),
      dns: dns.prefault({}),
    })
    .meta({ description: 'The desired state of the Project.' }),
  {
    rule: '!has(self.ci) || !has(self.ci.enabled) || !self.ci.enabled || !has(self.repo) || !has(self.repo.enabled) || self.repo.enabled',
    message: 'ci.enabled needs the repository: repo.enabled cannot be false',
    fieldPath: '.ci.enabled',
    check: (s) => !(s.ci.enabled === true && s.repo.enabled === false),
  },
  {
    rule: '!has(self.dns) || self.dns.enabled || !has(self.dns.aliases) || size(self.dns.aliases) == 0',
    message: 'dns.aliases needs dns.enabled',
    fieldPath: '.dns.aliases',
    check: (s) => s.dns.enabled || (s.dns.aliases ?? []).length === 0,
  },
  {
    rule: '!has(self.dns) || self.dns.enabled || !has(self.dns.subdomain)',
    message: 'dns.subdomain needs dns.enabled',
    fieldPath: '.dns.subdomain',
    check: (s) => s.dns.enabled || s.dns.subdomain === undefined,
  },
).prefault({}); // every field has a default: `spec: {}` (or none at all) is a valid Project

export const PROJECT_PHASES = [
  'Pending',
  'Provisioning',
  'Ready',
  'Suspended',
  'Failed',
  'Terminating',
] as const;

const secretName = (what: string) =>
  z
    .string()
    .max(253)
    .meta({ description: `Secret holding the ${what}.` });

export const projectStatus = kindStatus('Project', PROJECT_PHASES, {
  workspace: z
    .object({
      podName: z.string().max(253).optional().meta({ description: 'Name of the workspace Pod.' }),
      serviceName: z.string().max(253).optional().meta({ description: 'Name of the preview Service.' }),
    })
    .optional()
    .meta({ description: 'The workspace in the cluster.' }),
  repo: z
    .object({
      id: z.number().int().optional().meta({ description: 'Repository id in Gitea.' }),
      fullName: z.string().max(256).optional().meta({ description: 'owner/name of the repository.' }),
      url: z.string().max(2048).optional().meta({ description: 'Web URL of the repository.' }),
      cloneURL: z.string().max(2048).optional().meta({ description: 'HTTPS clone URL of the repository.' }),
    })
    .optional()
    .meta({ description: 'The git repository, once created.' }),
  gitIdentity: z
    .object({
      username: z
        .string()
        .max(40)
        .optional()
        .meta({ description: 'Gitea user the Project’s git tokens belong to.' }),
      secretName: secretName('identity’s password (never mounted in a Pod)').optional(),
    })
    .optional()
    .meta({ description: 'The Project’s own git identity, once created: a writer on its repository only.' }),
  ci: z
    .object({ repoId: z.number().int().optional().meta({ description: 'Repository id in Woodpecker.' }) })
    .optional()
    .meta({ description: 'The CI registration, once made.' }),
  database: z
    .object({
      engine: z
        .enum(['postgres', 'cockroachdb'])
        .optional()
        .meta({ description: 'Engine the database was created on.' }),
      name: z.string().max(63).optional().meta({ description: 'Name of the database.' }),
      user: z.string().max(63).optional().meta({ description: 'Name of the login role.' }),
      secretName: secretName('database credentials (DATABASE_URL, PG*)').optional(),
      passwordRotation: z.string().max(253).optional().meta({
        description: 'The value of the rdev.dev/rotate-database-password annotation last acted on.',
      }),
    })
    .optional()
    .meta({ description: 'The database, once created.' }),
  cache: z
    .object({
      user: z.string().max(128).optional().meta({ description: 'Name of the Redis ACL user.' }),
      prefix: z.string().max(128).optional().meta({ description: 'Key prefix the user is confined to.' }),
      secretName: secretName('cache credentials (REDIS_URL)').optional(),
      passwordRotation: z
        .string()
        .max(253)
        .optional()
        .meta({ description: 'The value of the rdev.dev/rotate-cache-password annotation last acted on.' }),
    })
    .optional()
    .meta({ description: 'The cache user, once created.' }),
  runners: z
    .object({
      warm: z.number().int().min(0).meta({ description: 'Idle, Ready runners.' }),
      busy: z.number().int().min(0).meta({ description: 'Runners serving an attempt.' }),
    })
    .optional()
    .meta({ description: 'The runner pool.' }),
  dns: z
    .object({
      hostnames: z
        .array(z.string().max(253).meta({ description: 'A host name.' }))
        .max(32)
        .optional()
        .meta({ description: 'Host names served.' }),
      records: z
        .array(
          z
            .object({
              id: z.string().max(64).meta({ description: 'Record id at the DNS provider.' }),
              name: z.string().max(253).meta({ description: 'Record name.' }),
              type: z.string().max(16).meta({ description: 'Record type (A, AAAA, CNAME).' }),
            })
            .meta({ description: 'A DNS record created for the Project.' }),
        )
        .max(64)
        .optional()
        .meta({ description: 'DNS records created, with their provider ids.' }),
    })
    .optional()
    .meta({ description: 'DNS names and records, once created.' }),
});

export const projectKind = defineKind('Project', ['proj'], projectSpec, projectStatus, {
  description:
    'A Project is an isolated workspace where a coding agent works on one codebase, with its git repository, CI, database, cache and DNS names.',
  rootRules: [
    {
      rule: "size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
      message: 'metadata.name must be a DNS label (lower-case letters, digits and -, at most 63 characters)',
    },
  ],
  details: [
    column('Agent', '.spec.agent.provider', 'The coding agent'),
    column('Repo', '.status.repo.url', 'Repository URL', { priority: 1 }),
  ],
});

export type ProjectSpec = z.infer<typeof projectSpec>;
export type ProjectStatus = z.infer<typeof projectStatus>;
