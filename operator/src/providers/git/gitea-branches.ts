// The Gitea calls on a Project's repository that Checkouts and WorkItems need, with the
// operator's token: the branch, the pull request (opened as the Project's own identity, through
// Gitea's Sudo header, so that it is the Project's user that asks), reading and deleting it.
import type { PullRequest } from 'gitea-js';
import { branchExists, type GiteaAccess, GiteaError, giteaApiFor, giteaFailure } from './gitea-client.ts';

const status = (err: unknown) => (err instanceof Response ? err.status : undefined);

export function giteaBranchClient(access: GiteaAccess, signal?: AbortSignal) {
  const api = giteaApiFor(access, signal);

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

    /** The open pull request from `head` to `base`, else a new one (by `as`, a user, when given). */
    async ensurePullRequest(
      owner: string,
      repo: string,
      pr: { head: string; base: string; title: string; body: string },
      as?: string,
    ): Promise<PullRequest> {
      try {
        for (let page = 1; ; page++) {
          const open = (await api.repos.repoListPullRequests(owner, repo, { state: 'open', page, limit: 50 }))
            .data;
          const found = open.find((p) => p.head?.ref === pr.head && p.base?.ref === pr.base);
          if (found) return found;
          if (open.length < 50) break;
        }
        return (await api.repos.repoCreatePullRequest(owner, repo, pr, as ? { headers: { Sudo: as } } : {}))
          .data;
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

export type GiteaBranchClient = ReturnType<typeof giteaBranchClient>;
