// The Gitea calls a Project's repository needs, through gitea-js, with a timeout on every request
// and errors turned into messages a condition can show (gitea-js rejects with the Response).
import { type Api, giteaApi, type Hook, type Repository } from 'gitea-js';
import { causeCode } from '../ports.ts';

export interface GiteaAccess {
  /** Root URL of the server, e.g. https://git.example.dev. */
  url: string;
  /** An access token of a site administrator (it creates each Project's user). */
  token: string;
  timeoutMs?: number;
}

/** A Gitea answer other than success, with its status. */
export class GiteaError extends Error {
  readonly status: number | undefined;
  constructor(what: string, status: number | undefined, detail: string, options?: ErrorOptions) {
    super(`Gitea: ${what} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`, options);
    this.name = 'GiteaError';
    this.status = status;
  }
}

/** A failed gitea-js call (it rejects with the Response) or fetch, as a GiteaError. */
export async function giteaFailure(what: string, err: unknown): Promise<GiteaError> {
  if (err instanceof Response) {
    // gitea-js has read the body already: its JSON is on `error` (a parse error for an HTML page
    // from a proxy, which says nothing useful).
    const parsed = 'error' in err ? err.error : undefined;
    const message =
      typeof parsed === 'object' &&
      parsed !== null &&
      !(parsed instanceof Error) &&
      'message' in parsed &&
      typeof parsed.message === 'string'
        ? parsed.message
        : undefined;
    const detail = message || err.statusText || 'no message';
    return new GiteaError(what, err.status, detail.slice(0, 300));
  }
  const cause = causeCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return new GiteaError(what, undefined, cause ? `${message} (${cause})` : message, { cause: err });
}

/** Runs one call; a 404 becomes undefined when `missingOk`. */
async function call<T>(
  what: string,
  run: () => Promise<{ data: T }>,
  missingOk = false,
): Promise<T | undefined> {
  try {
    return (await run()).data;
  } catch (err) {
    if (missingOk && err instanceof Response && err.status === 404) return undefined;
    throw await giteaFailure(what, err);
  }
}

export interface FileToCommit {
  path: string;
  content: string;
}

export interface WebhookSpec {
  url: string;
  secret?: string;
}

/** The signal of one request: the caller's, and the access' timeout (15 s by default). */
export function requestSignal(access: GiteaAccess, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(access.timeoutMs ?? 15_000);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** gitea-js on the server of `access`, with its token, every request under requestSignal. */
export function giteaApiFor(access: GiteaAccess, signal?: AbortSignal): Api<unknown> {
  return giteaApi(access.url.replace(/\/+$/, ''), {
    token: access.token,
    customFetch: (input: string | URL | Request, init?: RequestInit) =>
      fetch(input, { ...init, signal: requestSignal(access, signal) }),
  });
}

/**
 * Whether `branch` exists, asked of git itself: when a commit request is cut off half-way (its
 * client killed), Gitea's database (its `empty` flag, its branch list) can lag behind.
 */
export async function branchExists(
  api: Api<unknown>,
  owner: string,
  name: string,
  branch: string,
): Promise<boolean> {
  try {
    const refs = (await api.repos.repoListGitRefs(owner, name, `heads/${branch}`)).data;
    return refs.some((r) => r.ref === `refs/heads/${branch}`);
  } catch (err) {
    // 404: no such ref; 409: Gitea calls the repository empty.
    if (err instanceof Response && (err.status === 404 || err.status === 409)) return false;
    throw await giteaFailure(`reading branch ${branch} of ${owner}/${name}`, err);
  }
}

export function giteaClient(access: GiteaAccess, signal?: AbortSignal) {
  const api = giteaApiFor(access, signal);
  return {
    getRepo: (owner: string, name: string) =>
      call<Repository>(`reading repository ${owner}/${name}`, () => api.repos.repoGet(owner, name), true),

    /** Creates the repository empty; undefined when one of that name exists already. */
    async createRepo(
      owner: string,
      body: { name: string; private: boolean; description: string },
    ): Promise<Repository | undefined> {
      try {
        return (await api.orgs.createOrgRepo(owner, { ...body, auto_init: false, default_branch: 'main' }))
          .data;
      } catch (err) {
        if (err instanceof Response && err.status === 409) return undefined;
        throw await giteaFailure(`creating repository ${owner}/${body.name}`, err);
      }
    },

    branchExists: (owner: string, name: string, branch: string) => branchExists(api, owner, name, branch),

    orgExists: async (owner: string) =>
      (await call(`reading organisation ${owner}`, () => api.orgs.orgGet(owner), true)) !== undefined,

    setPrivate: (owner: string, name: string, isPrivate: boolean) =>
      call(`updating repository ${owner}/${name}`, () =>
        api.repos.repoEdit(owner, name, { private: isPrivate }),
      ),

    /** One commit with every file, on `branch` (which an empty repository gets this way). */
    commitFiles: (owner: string, name: string, branch: string, message: string, files: FileToCommit[]) =>
      call(`committing the template to ${owner}/${name}`, () =>
        api.repos.repoChangeFiles(owner, name, {
          branch,
          message,
          files: files.map((f) => ({
            operation: 'create' as const,
            path: f.path,
            content: Buffer.from(f.content).toString('base64'),
          })),
        }),
      ),

    listHooks: async (owner: string, name: string): Promise<Hook[]> =>
      (await call(`listing webhooks of ${owner}/${name}`, () =>
        api.repos.repoListHooks(owner, name, { limit: 50 }),
      )) ?? [],

    addHook: (owner: string, name: string, hook: WebhookSpec) =>
      call(`adding a webhook to ${owner}/${name}`, () =>
        api.repos.repoCreateHook(owner, name, {
          type: 'gitea',
          active: true,
          events: ['push', 'pull_request', 'create', 'delete'],
          config: { url: hook.url, content_type: 'json', ...(hook.secret ? { secret: hook.secret } : {}) },
        }),
      ),

    async deleteRepo(owner: string, name: string): Promise<void> {
      await call(`deleting repository ${owner}/${name}`, () => api.repos.repoDelete(owner, name), true);
    },
  };
}

export type GiteaClient = ReturnType<typeof giteaClient>;
