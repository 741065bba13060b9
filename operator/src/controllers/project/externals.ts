// A Project's external resources (repository, git identity, CI, database, cache, DNS), driven through the
// generic sub-reconciler; this file maps their outcomes onto the Project: status fields,
// conditions, workspace env.

import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { CacheIds } from '../../providers/cache/provider.ts';
import type { CIIds } from '../../providers/ci/woodpecker.ts';
import type { DatabaseIds } from '../../providers/database/provider.ts';
import type { DnsIds } from '../../providers/dns/cloudflare.ts';
import {
  type ExternalLog,
  type ExternalOutcome,
  type ExternalResource,
  finalizeExternal,
  reconcileExternal,
} from '../../providers/external.ts';
import type { RepoIds } from '../../providers/git/gitea.ts';
import type { IdentityIds } from '../../providers/git/gitea-identity.ts';
import type { ConditionUpdate } from '../../runtime/conditions.ts';
import type { ExternalStatus } from './status.ts';

export interface ProjectExternals {
  repo: ExternalResource<RepoIds>;
  identity: ExternalResource<IdentityIds>;
  ci: ExternalResource<CIIds>;
  database: ExternalResource<DatabaseIds>;
  cache: ExternalResource<CacheIds>;
  dns: ExternalResource<DnsIds>;
}

export interface ExternalsOutcome {
  /** Conditions of the enabled resources. */
  conditions: ConditionUpdate[];
  /** Condition types of disabled resources, to drop from status. */
  retired: string[];
  status: ExternalStatus;
  /** Connection Secrets the workspace gets as env (resources that are ready). */
  envSecrets: string[];
  credentialsVersion: string;
  requeueAfter?: number;
  errors: unknown[];
}

export async function reconcileExternals(
  externals: ProjectExternals,
  project: LiveProject,
  signal: AbortSignal,
  log?: ExternalLog,
): Promise<ExternalsOutcome> {
  const repo = await reconcileExternal(externals.repo, project, signal, log);
  // CI and the identity need the repository just made: they read it from status, written later.
  const withRepo = repo.ids ? { ...project, status: { ...project.status, repo: repo.ids } } : project;
  const identity = await reconcileExternal(externals.identity, withRepo, signal, log);
  const ci = await reconcileExternal(externals.ci, withRepo, signal, log);
  const db = await reconcileExternal(externals.database, project, signal, log);
  const cache = await reconcileExternal(externals.cache, project, signal, log);
  const dns = await reconcileExternal(externals.dns, project, signal, log);
  const outcomes: [{ condition: string }, ExternalOutcome<unknown>][] = [
    [externals.repo, repo],
    [externals.identity, identity],
    [externals.ci, ci],
    [externals.database, db],
    [externals.cache, cache],
    [externals.dns, dns],
  ];
  const delays = outcomes.map(([, o]) => o.requeueAfter).filter((d): d is number => d !== undefined);
  return {
    conditions: outcomes.flatMap(([, o]) => (o.condition ? [o.condition] : [])),
    retired: outcomes.flatMap(([r, o]) => (o.condition ? [] : [r.condition])),
    status: {
      repo: repo.ids,
      gitIdentity: identity.ids,
      ci: ci.ids?.repoId === undefined ? undefined : { repoId: ci.ids.repoId },
      database: db.ids && { ...db.ids, passwordRotation: db.rotation },
      cache: cache.ids && { ...cache.ids, passwordRotation: cache.rotation },
      dns: dns.ids && (dns.ids.hostnames.length > 0 ? dns.ids : undefined),
    },
    /** Changes when a password is rotated: the workspace Pod must restart to read it. */
    credentialsVersion: [db.rotation ?? '', cache.rotation ?? ''].join('/'),
    envSecrets: [...envSecret(externals.database, db), ...envSecret(externals.cache, cache)],
    requeueAfter: delays.length > 0 ? Math.min(...delays) : undefined,
    errors: outcomes.flatMap(([, o]) => (o.error === undefined ? [] : [o.error])),
  };
}

/** The connection Secret a ready resource gives the workspace as env, if it has one. */
const envSecret = <Ids>(resource: ExternalResource<Ids>, outcome: ExternalOutcome<Ids>) =>
  outcome.condition?.status === 'True' && outcome.ids && resource.connection
    ? [resource.connection.secretName(outcome.ids)]
    : [];

/**
 * Deletes (unless retained) every external resource of a Project being deleted: what points at
 * the repository (DNS aside, CI) before the repository itself.
 */
export async function finalizeExternals(
  externals: ProjectExternals,
  project: LiveProject,
  signal: AbortSignal,
) {
  await finalizeExternal(externals.dns, project, signal);
  await finalizeExternal(externals.ci, project, signal);
  await finalizeExternal(externals.cache, project, signal);
  await finalizeExternal(externals.database, project, signal);
  await finalizeExternal(externals.identity, project, signal);
  await finalizeExternal(externals.repo, project, signal);
}
