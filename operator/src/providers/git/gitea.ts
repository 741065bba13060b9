// Git provider: the Project's repository in a Gitea organisation. It is the Project's when its
// description carries the Project's marker (namespace, name, uid): such a repository is adopted
// (a create interrupted before status recorded it resumes), any other one of that name is refused
// and never touched. The template goes in as one commit, only while the default branch does not
// exist (that commit creates it in one ref update), so a retry never commits twice; webhooks are
// added once each, compared by URL.
import type { Repository } from 'gitea-js';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import { ownerMarker } from '../marker.ts';
import { type ExternalClient, type ExternalContext, NotConfiguredError } from '../ports.ts';
import {
  type FileToCommit,
  type GiteaAccess,
  type GiteaClient,
  GiteaError,
  giteaClient,
  type WebhookSpec,
} from './gitea-client.ts';

export interface GiteaSettings {
  /** The organisation that owns Project repositories. */
  organization: string;
  /** URLs every repository sends its events to. */
  webhooks: string[];
  /** Server and token, or a function reading them when needed (from a Secret); undefined: not configured. */
  access: GiteaAccessSource;
  render: RenderRepository;
}

export type GiteaAccessSource =
  | (GiteaAccess & { webhookSecret?: string })
  | (() => Promise<GiteaAccess & { webhookSecret?: string }>)
  | undefined;

export interface RepoIds {
  id?: number;
  /** owner/name. */
  fullName: string;
  url?: string;
  cloneURL?: string;
}

/** The files a new repository starts with, for this Project and repository. */
export type RenderRepository = (
  project: LiveProject,
  repo: { fullName: string; gitURL: string },
) => FileToCommit[];

/** A repository of the Project's name exists and is not the Project's. */
export class ForeignRepositoryError extends Error {
  constructor(fullName: string, marker: string) {
    super(
      `repository ${fullName} already exists and is not this Project's (its description does not carry ` +
        `"${marker}"); rdev does not change or delete it: remove or rename it, or set spec.repo.name`,
    );
    this.name = 'ForeignRepositoryError';
  }
}

export const repoName = (project: LiveProject) => project.spec.repo.name ?? project.metadata.name;

/** What status recorded about the repository (undefined: nothing was made). */
export const recordedRepo = (project: LiveProject): RepoIds | undefined => {
  const r = project.status?.repo;
  return r?.fullName ? { ...r, fullName: r.fullName } : undefined;
};

export const describeRepo = (ids: RepoIds) => `repository ${ids.fullName}`;

/** The branch a new repository starts on, and CI pipelines of work items run on. */
export const DEFAULT_BRANCH = 'main';

interface Connection {
  api: GiteaClient;
  url: string;
  webhooks: WebhookSpec[];
}

export function giteaProvider(settings: GiteaSettings): ExternalClient<RepoIds> {
  const owner = settings.organization;

  async function connect(signal: AbortSignal): Promise<Connection> {
    const { access } = settings;
    if (access === undefined) {
      throw new NotConfiguredError(
        'no git forge is configured for repositories (operator option --gitea-url)',
      );
    }
    const a = typeof access === 'function' ? await access() : access;
    const webhooks = settings.webhooks.map((url) => ({ url, secret: a.webhookSecret }));
    return { api: giteaClient(a, signal), url: a.url, webhooks };
  }

  const idsOf = (repo: Repository, fallback: string): RepoIds => ({
    id: repo.id,
    fullName: repo.full_name ?? fallback,
    url: repo.html_url,
    cloneURL: repo.clone_url,
  });

  /** The repository if it is the Project's; undefined if absent; ForeignRepositoryError if not ours. */
  async function ours(api: GiteaClient, project: LiveProject): Promise<Repository | undefined> {
    const name = repoName(project);
    const repo = await api.getRepo(owner, name);
    if (!repo) return undefined;
    const marker = ownerMarker(project);
    if (!repo.description?.includes(marker)) throw new ForeignRepositoryError(`${owner}/${name}`, marker);
    return repo;
  }

  /** Brings a repository of ours to what the Project asks: content, visibility, hooks. */
  async function complete(
    { api, url, webhooks }: Connection,
    project: LiveProject,
    repo: Repository,
  ): Promise<RepoIds> {
    const name = repoName(project);
    if (!(await api.branchExists(owner, name, DEFAULT_BRANCH))) {
      const files = settings.render(project, { fullName: `${owner}/${name}`, gitURL: url });
      await api.commitFiles(
        owner,
        name,
        DEFAULT_BRANCH,
        `Start ${project.metadata.name} from the ${project.spec.template.name} template`,
        files,
      );
    }
    // Edits the repository's settings (PATCH): only what differs.
    if (repo.private !== project.spec.repo.private)
      await api.setPrivate(owner, name, project.spec.repo.private);
    const hooks = await api.listHooks(owner, name);
    for (const hook of webhooks) {
      if (!hooks.some((h) => h.config?.url === hook.url)) await api.addHook(owner, name, hook);
    }
    return idsOf((await api.getRepo(owner, name)) ?? repo, `${owner}/${name}`);
  }

  /**
   * Creates the repository (POST) and fills it. One of ours already there (an interrupted create,
   * or made meanwhile) is adopted instead: it is ours only if it carries the marker.
   */
  async function create({ project, signal }: ExternalContext<RepoIds>): Promise<RepoIds> {
    const connection = await connect(signal);
    const { api } = connection;
    const name = repoName(project);
    let repo = await ours(api, project);
    if (!repo) {
      repo = await api
        .createRepo(owner, {
          name,
          private: project.spec.repo.private,
          description: `${project.metadata.name}, managed by rdev (${ownerMarker(project)})`,
        })
        .catch(async (err) => {
          if (err instanceof GiteaError && err.status === 404 && !(await api.orgExists(owner))) {
            throw new NotConfiguredError(
              `the Gitea organisation ${owner} (--gitea-organization) does not exist`,
            );
          }
          throw err;
        });
      // It exists already (created meanwhile): it is ours only if it carries the marker.
      repo ??= await ours(api, project);
      if (!repo) throw new Error(`repository ${owner}/${name} was reported to exist but cannot be read`);
    }
    return complete(connection, project, repo);
  }

  /** Repairs the repository observed: its template commit, its settings, its webhooks. */
  async function update(ctx: ExternalContext<RepoIds>): Promise<RepoIds> {
    const connection = await connect(ctx.signal);
    const repo = await ours(connection.api, ctx.project);
    // Gone since it was observed: make it again.
    return repo ? complete(connection, ctx.project, repo) : create(ctx);
  }

  return {
    ids: (project) => recordedRepo(project) ?? { fullName: `${owner}/${repoName(project)}` },

    async observe({ project, recorded, signal }) {
      const { api, webhooks } = await connect(signal);
      const repo = await ours(api, project);
      if (!repo) return { exists: false, upToDate: false };
      const name = repoName(project);
      const committed = await api.branchExists(owner, name, DEFAULT_BRANCH);
      const hooks = await api.listHooks(owner, name);
      const missing = webhooks.filter((w) => !hooks.some((h) => h.config?.url === w.url));
      // Adopted after an interrupted create: status must learn its id and URLs.
      const isRecorded = recorded?.id === repo.id && Boolean(recorded?.cloneURL);
      const diff = [
        isRecorded ? '' : 'not recorded in status yet',
        committed ? '' : 'the template is not committed yet',
        repo.private !== project.spec.repo.private ? `private should be ${project.spec.repo.private}` : '',
        missing.length > 0 ? `webhooks missing: ${missing.map((w) => w.url).join(', ')}` : '',
      ].filter(Boolean);
      return {
        exists: true,
        upToDate: diff.length === 0,
        diff: diff.join('; ') || undefined,
        // What status records already is left out: only an unrecorded repository tells news.
        ...(isRecorded ? {} : { ids: idsOf(repo, `${owner}/${name}`) }),
      };
    },

    create,
    update,

    async delete(ids, { project, signal }) {
      const { api } = await connect(signal);
      const [org, name] = ids.fullName.split('/', 2);
      if (!org || !name) return;
      const repo = await api.getRepo(org, name);
      // Someone else's repository of that name (ours never existed): not ours to delete.
      if (!repo?.description?.includes(ownerMarker(project))) return;
      await api.deleteRepo(org, name);
    },
  };
}
