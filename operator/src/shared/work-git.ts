// What a WorkItem asks of its Project's repository, with the defaults its type implies: the worker
// (which commits and pushes) and the operator (which opens the pull request) read it the same way.
import type { LiveWorkItem } from './work-phases.ts';

export interface WorkGit {
  /** undefined: the repository's default branch. */
  baseBranch?: string;
  branch: string;
  commit: boolean;
  pullRequest: boolean;
  /** The commit title and pull request title. */
  title: string;
  body?: string;
}

const TITLE_MAX = 72;

/** The first non-empty line of `text`, cut to a commit title's length. */
function firstLine(text: string): string | undefined {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean);
  if (!line) return undefined;
  return line.length <= TITLE_MAX ? line : `${line.slice(0, TITLE_MAX - 1)}…`;
}

/**
 * The item's git work, or undefined when it has none: it is neither an agent item nor asks for
 * git (spec.git). An agent item commits and opens a pull request unless told not to.
 */
export function workGit(item: Pick<LiveWorkItem, 'metadata' | 'spec'>): WorkGit | undefined {
  const git = item.spec.git;
  const agent = item.spec.type === 'agent';
  if (!agent && !git) return undefined;
  const commit = git?.commit ?? agent;
  const command = (item.spec.command ?? []).join(' ');
  return {
    ...(git?.baseBranch ? { baseBranch: git.baseBranch } : {}),
    branch: git?.branch ?? `rdev/${item.metadata.name}`,
    commit,
    pullRequest: commit && (git?.pullRequest ?? agent),
    title:
      git?.title ??
      firstLine(item.spec.prompt ?? '') ??
      `${item.spec.type} ${item.metadata.name}${command ? `: ${command}` : ''}`.slice(0, TITLE_MAX),
    ...(git?.body ? { body: git.body } : {}),
  };
}

/** The trailer naming the item in every commit it makes. */
export const WORK_ITEM_TRAILER = 'Rdev-Work-Item';

/** The message of the item's commit: its title, and the trailer naming it. */
export const commitMessage = (item: Pick<LiveWorkItem, 'metadata'>, git: WorkGit) =>
  `${git.title}\n\n${WORK_ITEM_TRAILER}: ${item.metadata.namespace}/${item.metadata.name}`;
