// The external resources a Project can have: adding one is a provider file and a line here.

import type { LiveProject } from '../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../config.ts';
import type { KubeClient } from '../runtime/client.ts';
import { readAdminSecret, readAdminSecretKey, requireKey } from './admin.ts';
import { type CacheIds, cacheProvider } from './cache/provider.ts';
import { type CIIds, ciIds, describeCI, woodpeckerProvider } from './ci/woodpecker.ts';
import { type ConnectionSecrets, projectSecrets } from './credentials.ts';
import { type DatabaseIds, databaseProvider } from './database/provider.ts';
import {
  type CloudflareDnsSettings,
  cloudflareDnsProvider,
  type DnsIds,
  describeDNS,
  dnsIds,
} from './dns/cloudflare.ts';
import { externalDnsProvider, unconfiguredDnsProvider } from './dns/external-dns.ts';
import type { ExternalResource } from './external.ts';
import { describeRepo, giteaProvider, type RepoIds, recordedRepo } from './git/gitea.ts';
import { giteaIdentityProvider, type IdentityIds } from './git/gitea-identity.ts';
import { renderRepository } from './git/template.ts';
import { NotConfiguredError } from './ports.ts';

/** Set (or change) these annotations on a Project to have a new password generated. */
export const ROTATE_DATABASE_PASSWORD = 'rdev.dev/rotate-database-password';
export const ROTATE_CACHE_PASSWORD = 'rdev.dev/rotate-cache-password';

const ROTATE_PASSWORD = { database: ROTATE_DATABASE_PASSWORD, cache: ROTATE_CACHE_PASSWORD };

/**
 * Whether a Project has a repository: as its spec says, else when the operator has a forge (or
 * the Project asks for CI, which needs one; the condition then says what is missing).
 */
export const repoEnabled = (p: LiveProject, config: OperatorConfig) =>
  p.spec.repo.enabled ?? (config.git.url !== undefined || p.spec.ci.enabled === true);

/** Whether a Project has CI: as its spec says, else when the operator has a CI server; never without a repository. */
export const ciEnabled = (p: LiveProject, config: OperatorConfig) =>
  (p.spec.ci.enabled ?? config.ci.url !== undefined) && repoEnabled(p, config);

/**
 * A database or a cache: an account whose spec section says whether and how it is kept, whose
 * annotation asks for a new password, and whose connection details go to the Secret its ids name.
 */
function account<Ids extends { secretName: string }>(
  section: 'database' | 'cache',
  secrets: ConnectionSecrets,
  resource: Pick<ExternalResource<Ids>, 'condition' | 'recorded' | 'describe' | 'client' | 'resyncMs'>,
): ExternalResource<Ids> {
  return {
    name: section,
    enabled: (p) => p.spec[section].enabled,
    deletionPolicy: (p) => p.spec[section].deletionPolicy,
    rotation: (p) => ({
      requested: p.metadata.annotations?.[ROTATE_PASSWORD[section]],
      done: p.status?.[section]?.passwordRotation,
    }),
    connection: { secretName: (ids) => ids.secretName, secrets },
    ...resource,
  };
}

/** `projects`: every Project the operator sees (external-dns host names must not collide). */
export function projectExternalResources(
  client: KubeClient,
  config: OperatorConfig,
  projects: () => readonly LiveProject[] = () => [],
) {
  const secrets = projectSecrets(client);
  const database = account<DatabaseIds>('database', secrets, {
    condition: 'DatabaseReady',
    recorded: (p) => {
      const d = p.status?.database;
      return d?.name && d.user && d.secretName
        ? { engine: d.engine ?? p.spec.database.engine, name: d.name, user: d.user, secretName: d.secretName }
        : undefined;
    },
    describe: (ids) => `${ids.engine} database ${ids.name}`,
    client: databaseProvider(client, config),
  });
  const cache = account<CacheIds>('cache', secrets, {
    condition: 'CacheReady',
    recorded: (p) => {
      const c = p.status?.cache;
      return c?.user && c.prefix && c.secretName
        ? { user: c.user, prefix: c.prefix, secretName: c.secretName }
        : undefined;
    },
    describe: (ids) => `Redis user ${ids.user} (keys ${ids.prefix}:*)`,
    client: cacheProvider(client, config),
    resyncMs: config.cacheCheckSeconds * 1000,
  });
  const repo: ExternalResource<RepoIds> = {
    name: 'repository',
    condition: 'RepoReady',
    enabled: (p) => repoEnabled(p, config),
    deletionPolicy: (p) => p.spec.repo.deletionPolicy,
    recorded: recordedRepo,
    describe: describeRepo,
    client: giteaProvider({
      organization: config.git.organization,
      webhooks: config.git.webhooks,
      render: renderRepository(config),
      access: config.git.url === undefined ? undefined : () => readGiteaAccess(client, config),
    }),
  };
  const identity: ExternalResource<IdentityIds> = {
    name: 'git identity',
    condition: 'GitIdentityReady',
    enabled: (p) => repoEnabled(p, config),
    // Kept with the repository it writes to, gone with it.
    deletionPolicy: (p) => p.spec.repo.deletionPolicy,
    recorded: (p) => {
      const g = p.status?.gitIdentity;
      return g?.username && g.secretName ? { username: g.username, secretName: g.secretName } : undefined;
    },
    connection: { secretName: (ids) => ids.secretName, secrets },
    describe: (ids) => `Gitea user ${ids.username}`,
    client: giteaIdentityProvider({
      access: config.git.url === undefined ? undefined : () => readGiteaAccess(client, config),
    }),
  };
  const ciURL = config.ci.url;
  const ci: ExternalResource<CIIds> = {
    name: 'CI',
    condition: 'CIReady',
    enabled: (p) => ciEnabled(p, config),
    deletionPolicy: () => 'Delete',
    recorded: (p) => (p.status?.ci?.repoId === undefined ? undefined : ciIds(p)),
    describe: describeCI,
    client: woodpeckerProvider(
      ciURL === undefined
        ? undefined
        : async () => ({
            url: ciURL,
            token: await readAdminSecretKey(
              client,
              config.ci.secret,
              'Woodpecker token',
              'woodpecker-secret',
              'WOODPECKER_TOKEN',
            ),
          }),
    ),
  };
  const dns: ExternalResource<DnsIds> = {
    name: 'DNS',
    condition: 'DNSReady',
    enabled: (p) => p.spec.dns.enabled,
    deletionPolicy: () => 'Delete',
    recorded: (p) => (p.status?.dns?.hostnames?.length ? dnsIds(p) : undefined),
    describe:
      config.dns.mode === 'external-dns'
        ? (ids) => `${describeDNS(ids)}, published by external-dns from the Service's annotation,`
        : describeDNS,
    client:
      config.dns.mode === 'cloudflare'
        ? cloudflareDnsProvider(() => cloudflareSettings(client, config))
        : config.dns.mode === 'external-dns'
          ? externalDnsProvider(config.domain, projects)
          : unconfiguredDnsProvider(),
  };
  return { repo, identity, ci, database, cache, dns };
}

/** The Gitea server and the operator's token there (with the webhook secret), from its Secret. */
export async function readGiteaAccess(client: KubeClient, config: OperatorConfig) {
  if (!config.git.url)
    throw new NotConfiguredError('no git forge is configured (operator option --gitea-url)');
  const data = await readAdminSecret(client, config.git.secret, 'Gitea token', 'gitea-secret');
  const token = requireKey(data, 'GITEA_TOKEN', 'Gitea token', config.git.secret, 'gitea-secret');
  return { url: config.git.url, token, webhookSecret: data.WEBHOOK_SECRET };
}

export async function cloudflareSettings(
  client: KubeClient,
  config: OperatorConfig,
): Promise<CloudflareDnsSettings> {
  const { dns, domain } = config;
  if (!domain) throw new NotConfiguredError('no --domain is configured for Project DNS names');
  if (!dns.cloudflareZoneId) throw new NotConfiguredError('no --cloudflare-zone-id is configured');
  if (!dns.target)
    throw new NotConfiguredError('no --dns-target is configured (CNAME:<host> or A:<address>)');
  const type = dns.target.slice(0, dns.target.indexOf(':'));
  const content = dns.target.slice(dns.target.indexOf(':') + 1);
  // The configuration's pattern allows these two only; a check, not a cast, keeps it honest.
  if (type !== 'A' && type !== 'CNAME')
    throw new NotConfiguredError(`--dns-target must be A:<address> or CNAME:<host name>`);
  return {
    apiToken: await readAdminSecretKey(
      client,
      dns.cloudflareSecret,
      'Cloudflare API token',
      'cloudflare-secret',
      'CLOUDFLARE_API_TOKEN',
    ),
    zoneId: dns.cloudflareZoneId,
    zoneName: domain,
    target: { type, content },
    proxied: dns.proxied,
    ...(dns.cloudflareApiURL ? { baseURL: dns.cloudflareApiURL } : {}),
  };
}
