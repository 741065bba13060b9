// The values a project template is rendered with. The caller (the Project controller) fills in
// what it knows; the rest (module path, image, Secret names) is derived here, once, so that the
// templates never compute names of their own.
import { z } from 'zod';
import { dnsLabel, hostname, port } from '../api/v1alpha1/common.ts';
import type { TEMPLATE_COMPONENTS } from '../api/v1alpha1/project.ts';
import { boundedName } from '../shared/naming.ts';

/** The templates a Project can start from (spec.template.name). */
export const TEMPLATE_NAMES = ['monorepo', 'landing', 'go-api'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
export type TemplateComponent = (typeof TEMPLATE_COMPONENTS)[number];

/**
 * The keys of the `<project>-database` Secret, which the workspace and the deployed pods get as
 * environment variables (see providers/database/provider.ts; a unit test keeps them in step).
 */
export const DATABASE_ENV = {
  url: 'DATABASE_URL',
  host: 'PGHOST',
  port: 'PGPORT',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  database: 'PGDATABASE',
} as const;

/** The keys of the `<project>-cache` Secret (see providers/cache/provider.ts). */
export const CACHE_ENV = {
  url: 'REDIS_URL',
  username: 'REDIS_USERNAME',
  password: 'REDIS_PASSWORD',
  keyPrefix: 'REDIS_KEY_PREFIX',
} as const;

// host or host:port, as in an image reference.
const HOST_PORT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$/;
// Gitea's owner and repository names.
const REPO_PART = '[A-Za-z0-9_][A-Za-z0-9_.-]*';
// An image repository path (lower case components separated by /), without registry or tag.
const IMAGE_REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
// A Go module path: slash-separated elements of letters, digits and -._~, none starting with a dot.
const GO_MODULE_PATH = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$/;

/** owner/name as an image repository: lower case, other characters folded to single dashes. */
export const imageRepositoryOf = (fullName: string) =>
  fullName
    .split('/')
    .map((part) =>
      part
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, ''),
    )
    .map((part) => part || 'x')
    .join('/');

const hostPort = (description: string) => z.string().min(1).max(253).regex(HOST_PORT).meta({ description });

/** What the caller passes; see `TemplateVariables` for what the templates see. */
export const templateVariables = z
  .strictObject({
    name: dnsLabel('Name of the Project (metadata.name).'),
    displayName: z
      .string()
      .min(1)
      .max(100)
      // It lands in Markdown, HTML, YAML and Go: one line, no control characters.
      .regex(/^[^\p{Cc}]*$/u)
      .optional()
      .meta({ description: "Human-readable name; the Project's name when unset." }),
    namespace: dnsLabel('Namespace of the Project, where CI deploys to.'),
    domain: hostname('Base domain the operator derives host names from.').optional(),
    siteHost: hostname('The host name the Project is served on; absent without DNS.').optional(),
    previewPort: port()
      .default(3000)
      .meta({ description: 'Port of the workspace preview (spec.workspace.previewPort).' }),
    repo: z.strictObject({
      fullName: z
        .string()
        .max(200)
        .regex(new RegExp(`^${REPO_PART}/${REPO_PART}$`))
        .meta({ description: 'owner/name of the git repository.' }),
      defaultBranch: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[A-Za-z0-9._/-]+$/)
        .default('main')
        .meta({ description: 'Branch that CI builds images from and deploys.' }),
    }),
    gitHost: hostPort('Host (and port) of the git server, e.g. git.example.com.').optional(),
    modulePath: z
      .string()
      .max(300)
      .regex(GO_MODULE_PATH)
      .optional()
      .meta({ description: 'Go module path of the repository; derived from the git host when unset.' }),
    image: z
      .strictObject({
        registry: hostPort('Registry the images are pushed to.'),
        repository: z.string().max(200).regex(IMAGE_REPOSITORY).meta({
          description: 'Image repository without registry or tag; units of a monorepo append -<unit>.',
        }),
      })
      .optional(),
    database: z
      .strictObject({
        enabled: z.boolean().default(false),
        engine: z.enum(['postgres', 'cockroachdb']).default('postgres'),
        secretName: z.string().min(1).max(253).optional(),
      })
      .prefault({}),
    cache: z
      .strictObject({
        enabled: z.boolean().default(false),
        secretName: z.string().min(1).max(253).optional(),
      })
      .prefault({}),
  })
  .transform((v) => {
    const gitHost = v.gitHost ?? (v.domain ? `git.${v.domain}` : undefined);
    const registry = v.image?.registry ?? gitHost ?? 'localhost:5000';
    const repository = v.image?.repository ?? imageRepositoryOf(v.repo.fullName);
    return {
      name: v.name,
      displayName: v.displayName ?? v.name,
      namespace: v.namespace,
      domain: v.domain,
      siteHost: v.siteHost,
      siteURL: v.siteHost ? `https://${v.siteHost}` : undefined,
      previewPort: v.previewPort,
      repo: { ...v.repo, owner: v.repo.fullName.split('/')[0] ?? '', gitHost },
      // A module path has no port: `go get` cannot fetch from one anyway.
      modulePath:
        v.modulePath ?? (gitHost ? `${gitHost.replace(/:\d+$/, '')}/${v.repo.fullName}` : v.repo.fullName),
      image: { registry, repository, name: `${registry}/${repository}` },
      database: {
        ...v.database,
        // The same names the database and cache providers give the Secrets.
        secretName: v.database.secretName ?? boundedName(v.name, 'database', 253),
        env: DATABASE_ENV,
      },
      cache: {
        ...v.cache,
        secretName: v.cache.secretName ?? boundedName(v.name, 'cache', 253),
        env: CACHE_ENV,
      },
    };
  });

export type TemplateVariablesInput = z.input<typeof templateVariables>;
export type TemplateVariables = z.output<typeof templateVariables>;
