// CI provider: registers the Project's Gitea repository in Woodpecker (which then adds the forge
// webhook itself). Woodpecker knows a repository by the forge's id (forge_remote_id) and by its
// full name; the Project's status gives both once the repository exists (status.repo), and the
// Woodpecker id is recorded in status.ci.repoId.
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import { type ExternalClient, type ExternalContext, NotConfiguredError, WaitingError } from '../ports.ts';
import { isWoodpeckerStatus, type WoodpeckerRepo, woodpeckerClient } from './woodpecker-client.ts';

export interface WoodpeckerSettings {
  /** The server's root URL, e.g. https://ci.example.dev. */
  url: string;
  /** A personal access token of a Woodpecker user who is an admin of the Gitea repositories. */
  token: string;
  timeoutMs?: number;
}

/** The settings, a function reading them when needed (from a Secret), or undefined: not configured. */
export type WoodpeckerSettingsSource = WoodpeckerSettings | (() => Promise<WoodpeckerSettings>) | undefined;

export interface CIIds {
  /** The Gitea repository id (status.repo.id); unknown until the repository exists. */
  forgeRemoteId?: number;
  /** owner/name of the repository (status.repo.fullName). */
  fullName?: string;
  /** The Woodpecker repository id (status.ci.repoId), once registered. */
  repoId?: number;
}

/**
 * The git repository does not exist yet, so there is nothing to register. Retrying is right;
 * it is not a failure of Woodpecker, and the message says so.
 */
export class RepositoryNotReadyError extends WaitingError {
  constructor(message: string) {
    super(message);
    this.name = 'RepositoryNotReadyError';
  }
}

export const ciIds = (project: LiveProject): CIIds => ({
  forgeRemoteId: project.status?.repo?.id,
  fullName: project.status?.repo?.fullName,
  repoId: project.status?.ci?.repoId,
});

export const describeCI = (ids: CIIds) =>
  `Woodpecker repository ${ids.fullName ?? '(unknown)'}${ids.repoId === undefined ? '' : ` (id ${ids.repoId})`}`;

export function woodpeckerProvider(settings: WoodpeckerSettingsSource): ExternalClient<CIIds> {
  async function client() {
    if (settings === undefined) {
      throw new NotConfiguredError('no Woodpecker server is configured for CI');
    }
    return woodpeckerClient(typeof settings === 'function' ? await settings() : settings);
  }

  /** What to register: the repository's forge id and name, or RepositoryNotReadyError. */
  function target(project: LiveProject): { forgeRemoteId: number; fullName: string } {
    const { forgeRemoteId, fullName } = ciIds(project);
    if (forgeRemoteId === undefined || !fullName) {
      throw new RepositoryNotReadyError(
        'the git repository is not ready yet (status.repo has no id): CI is registered once it exists',
      );
    }
    return { forgeRemoteId, fullName };
  }

  /** Refuses a registration under our name that is another forge repository's. */
  function checkOwner(repo: WoodpeckerRepo, forgeRemoteId: number): void {
    if (repo.forge_remote_id !== String(forgeRemoteId)) {
      throw new Error(
        `Woodpecker already has a repository ${repo.full_name} (id ${repo.id}) for another Gitea repository ` +
          `(forge id ${repo.forge_remote_id}, this Project's is ${forgeRemoteId}); remove it in Woodpecker to register this one`,
      );
    }
  }

  /**
   * Registers the repository, or reactivates its registration: Woodpecker has one call for both
   * (POST /api/repos?forge_remote_id=), so create and update are this one function.
   */
  async function register(ctx: ExternalContext<CIIds>): Promise<CIIds> {
    const { forgeRemoteId, fullName } = target(ctx.project);
    const wp = await client();
    const opts = { signal: ctx.signal };
    let repo = await wp.lookupRepo(fullName, opts);
    if (repo) checkOwner(repo, forgeRemoteId);
    if (!repo?.active) {
      try {
        repo = await wp.activateRepo(forgeRemoteId, opts);
      } catch (err) {
        // Activated meanwhile (by an attempt whose answer was lost, or another replica): adopt it.
        if (!isWoodpeckerStatus(err, 409)) throw err;
        repo = await wp.lookupRepo(fullName, opts);
        if (!repo)
          throw new Error(`Woodpecker says ${fullName} is already active but cannot find it`, { cause: err });
        checkOwner(repo, forgeRemoteId);
      }
    }
    return { forgeRemoteId, fullName: repo.full_name, repoId: repo.id };
  }

  return {
    ids: ciIds,

    async observe(ctx) {
      const { forgeRemoteId, fullName } = target(ctx.project);
      const repo = await (await client()).lookupRepo(fullName, { signal: ctx.signal });
      if (!repo)
        return { exists: false, upToDate: false, diff: `${fullName} is not registered in Woodpecker` };
      checkOwner(repo, forgeRemoteId);
      const diff = !repo.active
        ? `${fullName} is registered in Woodpecker but not active`
        : ctx.recorded?.repoId !== repo.id
          ? `Woodpecker repository id ${repo.id} is not recorded yet`
          : undefined;
      return {
        exists: true,
        upToDate: diff === undefined,
        diff,
        ids: { forgeRemoteId, fullName: repo.full_name, repoId: repo.id },
      };
    },

    create: register,
    update: register,

    async delete(ids, ctx) {
      const wp = await client();
      const opts = { signal: ctx.signal };
      // The id recorded, else the name: a registration whose answer was lost has no id on record.
      const repo =
        ids.repoId !== undefined
          ? await wp.getRepo(ids.repoId, opts)
          : ids.fullName
            ? await wp.lookupRepo(ids.fullName, opts)
            : undefined;
      if (!repo) return;
      // Registered for another forge repository since: not ours to remove.
      if (ids.forgeRemoteId !== undefined && repo.forge_remote_id !== String(ids.forgeRemoteId)) return;
      // A retained repository keeps its CI history: deactivate only (no more webhooks, no builds).
      const remove = ctx.project.spec.repo.deletionPolicy !== 'Retain';
      await wp.deleteRepo(repo.id, { remove }, opts);
    },
  };
}
