// The Gitea calls a Checkout needs: the branch, the bot's write access to the repository, the
// bot's access token (leased: created under a name recorded first, deleted by that name), and
// the pull request a checkin opens. Tokens are made with the bot's own password, as Gitea
// requires (a token cannot make tokens), and carry only the write:repository scope.
import type { PullRequest } from 'gitea-js';
import {
  branchExists,
  type GiteaAccess,
  GiteaError,
  giteaApiFor,
  giteaFailure,
  requestSignal,
} from './gitea-client.ts';

export interface BotAccount {
  username: string;
  password: string;
}

/** The narrowest scope that lets git push over HTTP (Gitea has no per-repository tokens). */
export const CHECKOUT_TOKEN_SCOPES = ['write:repository'];

const status = (err: unknown) => (err instanceof Response ? err.status : undefined);

/** A string field of a JSON answer, if it is an object that has one. */
function stringField(body: unknown, field: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value: unknown = Reflect.get(body, field);
  return typeof value === 'string' ? value : undefined;
}

export function giteaCheckoutClient(access: GiteaAccess, bot: BotAccount, signal?: AbortSignal) {
  const base = access.url.replace(/\/+$/, '');
  const api = giteaApiFor(access, signal);
  const botAuth = `Basic ${Buffer.from(`${bot.username}:${bot.password}`).toString('base64')}`;

  /** A call as the bot (basic auth): the token endpoints accept nothing else. */
  async function asBot(method: string, path: string, body?: unknown): Promise<Response> {
    const what = `${method} ${path.replace(/\/tokens\/.*/, '/tokens/…')} as ${bot.username}`;
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1${path}`, {
        method,
        signal: requestSignal(access, signal),
        headers: { authorization: botAuth, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw await giteaFailure(what, err);
    }
    if (!res.ok && res.status !== 404) {
      const detail = stringField(await res.json().catch(() => undefined), 'message') ?? res.statusText;
      throw new GiteaError(what, res.status, detail);
    }
    return res;
  }

  return {
    /** Creates `branch` from `from` unless it exists; false when `from` does not exist. */
    async ensureBranch(owner: string, repo: string, branch: string, from: string): Promise<boolean> {
      try {
        await api.repos.repoCreateBranch(owner, repo, { new_branch_name: branch, old_ref_name: from });
        return true;
      } catch (err) {
        if (status(err) === 409) return true; // exists already
        // Gitea answers a missing base with 404 or, in 1.23, 500: ask git whether it exists.
        if (!(await branchExists(api, owner, repo, from).catch(() => false))) return false;
        throw await giteaFailure(`creating branch ${branch} of ${owner}/${repo}`, err);
      }
    },

    async grantBotWrite(owner: string, repo: string): Promise<void> {
      try {
        await api.repos.repoAddCollaborator(owner, repo, bot.username, { permission: 'write' });
      } catch (err) {
        throw await giteaFailure(`giving ${bot.username} write access to ${owner}/${repo}`, err);
      }
    },

    /** Creates the bot's token `name`; its secret value is only ever in the answer. */
    async createToken(name: string): Promise<string> {
      const res = await asBot('POST', `/users/${encodeURIComponent(bot.username)}/tokens`, {
        name,
        scopes: CHECKOUT_TOKEN_SCOPES,
      });
      if (res.status === 404) throw new GiteaError('creating a token', 404, `no user ${bot.username}`);
      const token = stringField(await res.json(), 'sha1');
      if (!token) throw new GiteaError('creating a token', res.status, 'the answer has no token');
      return token;
    },

    /** Deletes the bot's token `name`; true when it existed. */
    async deleteToken(name: string): Promise<boolean> {
      const res = await asBot(
        'DELETE',
        `/users/${encodeURIComponent(bot.username)}/tokens/${encodeURIComponent(name)}`,
      );
      return res.status !== 404;
    },

    /** The open pull request from `head` to `base`, else a new one. */
    async ensurePullRequest(
      owner: string,
      repo: string,
      pr: { head: string; base: string; title: string; body: string },
    ): Promise<PullRequest> {
      try {
        for (let page = 1; ; page++) {
          const open = (await api.repos.repoListPullRequests(owner, repo, { state: 'open', page, limit: 50 }))
            .data;
          const found = open.find((p) => p.head?.ref === pr.head && p.base?.ref === pr.base);
          if (found) return found;
          if (open.length < 50) break;
        }
        return (await api.repos.repoCreatePullRequest(owner, repo, pr)).data;
      } catch (err) {
        if (err instanceof GiteaError) throw err;
        throw await giteaFailure(`opening a pull request from ${pr.head} in ${owner}/${repo}`, err);
      }
    },

    async getPullRequest(owner: string, repo: string, index: number): Promise<PullRequest | undefined> {
      try {
        return (await api.repos.repoGetPullRequest(owner, repo, index)).data;
      } catch (err) {
        if (status(err) === 404) return undefined;
        throw await giteaFailure(`reading pull request #${index} of ${owner}/${repo}`, err);
      }
    },

    async deleteBranch(owner: string, repo: string, branch: string): Promise<void> {
      try {
        await api.repos.repoDeleteBranch(owner, repo, branch);
      } catch (err) {
        if (status(err) === 404) return;
        throw await giteaFailure(`deleting branch ${branch} of ${owner}/${repo}`, err);
      }
    },
  };
}

export type GiteaCheckoutClient = ReturnType<typeof giteaCheckoutClient>;
