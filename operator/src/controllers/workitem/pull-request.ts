// The pull request of a WorkItem that pushed its work: opened by the operator as the Project's own
// git identity (the worker holds no credentials), once per branch — an open one from the same
// branch is reused, so a retried item or a later item on the branch never opens a second.
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { giteaBranchClient } from '../../providers/git/gitea-branches.ts';
import { readGiteaAccess } from '../../providers/index.ts';
import { WaitingError } from '../../providers/ports.ts';
import type { KubeClient } from '../../runtime/client.ts';
import type { Store } from '../../runtime/store.ts';
import { workGit } from '../../shared/work-git.ts';
import type { LiveWorkItem } from '../../shared/work-phases.ts';

export interface PullRequestRef {
  number: number;
  url: string;
}

/** Whether the item pushed work that should be in a pull request it has not recorded yet. */
export function needsPullRequest(item: LiveWorkItem): boolean {
  const git = item.status?.git;
  return (
    item.status?.phase === 'Succeeded' &&
    git?.changed === true &&
    Boolean(git.branch && git.baseBranch) &&
    !git.pullRequest &&
    workGit(item)?.pullRequest === true
  );
}

export type OpenPullRequest = (item: LiveWorkItem) => Promise<PullRequestRef>;

export function pullRequestOpener(deps: {
  client: KubeClient;
  config: OperatorConfig;
  projects: Store<LiveProject>;
}): OpenPullRequest {
  return async (item) => {
    const { namespace } = item.metadata;
    const project = deps.projects.get(`${namespace}/${item.spec.projectRef.name}`);
    const [owner, repo] = project?.status?.repo?.fullName?.split('/', 2) ?? [];
    const author = project?.status?.gitIdentity?.username;
    const git = workGit(item);
    const { branch, baseBranch } = item.status?.git ?? {};
    if (!owner || !repo || !author || !git || !branch || !baseBranch) {
      throw new WaitingError(`the Project's repository or git identity is not known to open a pull request`);
    }
    const access = await readGiteaAccess(deps.client, deps.config);
    const pr = await giteaBranchClient(access).ensurePullRequest(
      owner,
      repo,
      {
        head: branch,
        base: baseBranch,
        title: git.title,
        body: git.body ?? `Work of WorkItem ${namespace}/${item.metadata.name}, pushed by rdev.`,
      },
      author,
    );
    if (!pr.number) throw new Error(`Gitea answered a pull request without a number for ${owner}/${repo}`);
    return { number: pr.number, url: pr.html_url ?? '' };
  };
}
