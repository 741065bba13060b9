// What an item does in its Project's repository, around its command: the plan (which branch,
// whether to commit and open a pull request, as spec.git asks or the item type implies), and the
// two scripts the worker runs in the item's Pod before and after the command. Both are the
// worker's own: what they print on stdout is read back (the commit the work started from, the
// commit pushed), never the command's output. Git authenticates with the Pod's own token
// (RDEV_GIT_USERNAME / RDEV_GIT_TOKEN, from the runner's Secret) through a credential helper that
// reads the environment, so the token is never written to disk.
import { CREDENTIAL_HELPER } from '../shared/git.ts';
import { commitMessage, workGit } from '../shared/work-git.ts';
import type { LiveWorkItem } from '../shared/work-phases.ts';
import { shellQuote } from './shell.ts';

export interface GitPlan {
  cloneURL: string;
  /** undefined: the repository's default branch. */
  baseBranch?: string;
  branch: string;
  commit: boolean;
  pullRequest: boolean;
  /** The commit message: a title line, a blank line, the item's trailer. */
  message: string;
}

/** Where the work started: the branch existed (its commit), or was started from the base. */
export interface GitStart {
  baseBranch: string;
  /** The commit the branch pointed at when the item began; undefined: it did not exist. */
  branchAt?: string;
  head: string;
}

export type GitResult = { changed: false } | { changed: true; commit: string };

/** The exit code of the finish script when the branch moved since the item began. */
export const BRANCH_MOVED_EXIT = 75;

/**
 * The item's git plan, or undefined when it has none: its Project has no repository, or the item
 * neither is an agent item nor asks for git (spec.git).
 */
export function gitPlanFor(item: LiveWorkItem, cloneURL: string | undefined): GitPlan | undefined {
  const git = workGit(item);
  if (!cloneURL || !git) return undefined;
  return {
    cloneURL,
    ...(git.baseBranch ? { baseBranch: git.baseBranch } : {}),
    branch: git.branch,
    commit: git.commit,
    pullRequest: git.pullRequest,
    message: commitMessage(item, git),
  };
}

/** Git as the scripts run it: no prompt, no hooks, the token from the environment. */
const GIT_SETUP = [
  'export GIT_TERMINAL_PROMPT=0',
  // In the background, so that a stop (TERM to this shell) stops git as well; the trap is set
  // first and reads $! when it runs, so no moment is left without it.
  `trap 'kill "$!" 2>/dev/null; exit 143' TERM`,
  // The helper answers with the Pod's credentials, read from its environment at each use.
  `git_() { git -c core.hooksPath=/dev/null -c credential.helper= -c credential.helper=${shellQuote(CREDENTIAL_HELPER)} "$@" & wait "$!"; }`,
];

/**
 * Before the command: the repository in the working directory, on the plan's branch (fetched when
 * it exists, else made from the base). Prints `start <base> <head> [<branch commit>]`.
 */
export function prepareScript(plan: GitPlan): string[] {
  return [
    ...GIT_SETUP,
    `url=${shellQuote(plan.cloneURL)} branch=${shellQuote(plan.branch)} base=${shellQuote(plan.baseBranch ?? '')}`,
    'if [ ! -e .git ]; then git_ init -q . && git_ remote add origin "$url" || exit 1; fi',
    // Answers go through a file, not $(…): a stop must reach git, not wait for a subshell.
    'answer=.git/rdev-remote',
    'if [ -z "$base" ]; then',
    '  git_ ls-remote --symref origin HEAD >"$answer" || exit 1',
    `  base=$(sed -n 's|^ref: refs/heads/\\(.*\\)\tHEAD$|\\1|p' "$answer")`,
    '  [ -n "$base" ] || { echo "rdev: the repository has no default branch" >&2; exit 1; }',
    'fi',
    'git_ ls-remote --heads origin "refs/heads/$branch" >"$answer" || exit 1',
    'at=$(cut -f1 "$answer"); rm -f "$answer"',
    'if [ -n "$at" ]; then',
    '  git_ fetch -q origin "+refs/heads/$branch:refs/remotes/origin/$branch" || exit 1',
    '  git_ checkout -q -B "$branch" "origin/$branch" || exit 1',
    'else',
    '  git_ fetch -q --depth 1 origin "+refs/heads/$base:refs/remotes/origin/$base" || {',
    '    echo "rdev: base branch $base does not exist" >&2; exit 1; }',
    '  git_ checkout -q -B "$branch" "origin/$base" || exit 1',
    'fi',
    'echo "start $base $(git rev-parse HEAD) $at"',
  ];
}

/** Parses the prepare script's stdout. */
export function parseStart(stdout: string): GitStart | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('start '));
  const [, baseBranch, head, branchAt] = line?.trim().split(/\s+/) ?? [];
  if (!baseBranch || !head) return undefined;
  return { baseBranch, head, ...(branchAt ? { branchAt } : {}) };
}

/**
 * After the command succeeded: everything it changed as one commit by the Project's identity,
 * pushed to the branch only if the branch is still where it was when the item began (else exit
 * BRANCH_MOVED_EXIT). Prints `unchanged` or `changed <commit>`.
 */
export function finishScript(plan: GitPlan, start: GitStart): string[] {
  return [
    ...GIT_SETUP,
    `branch=${shellQuote(plan.branch)} expect=${shellQuote(start.branchAt ?? '')}`,
    'git_ add -A || exit 1',
    'if git_ diff --cached --quiet; then echo unchanged; exit 0; fi',
    `git_ -c user.name="\${RDEV_GIT_NAME:-rdev}" -c user.email="\${RDEV_GIT_EMAIL:-rdev@users.rdev.invalid}" commit -q --no-verify -m ${shellQuote(plan.message)} || exit 1`,
    'commit=$(git rev-parse HEAD)',
    // The lease: the branch must be where it was (absent, if it was) — someone else's push is not overwritten.
    'out=.git/rdev-push',
    'if ! git_ push -q --porcelain --force-with-lease="refs/heads/$branch:$expect" origin "HEAD:refs/heads/$branch" >"$out" 2>&1; then',
    '  cat "$out" >&2',
    `  if grep -q -e "stale info" -e rejected -e "fetch first" -e non-fast-forward "$out"; then exit ${BRANCH_MOVED_EXIT}; fi`,
    '  exit 1',
    'fi',
    'echo "changed $commit"',
  ];
}

/** Parses the finish script's stdout. */
export function parseResult(stdout: string): GitResult | undefined {
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .reverse()
    .find((l) => l === 'unchanged' || l.startsWith('changed '));
  if (line === 'unchanged') return { changed: false };
  const commit = line?.split(' ')[1];
  return commit && /^[0-9a-f]{40,64}$/.test(commit) ? { changed: true, commit } : undefined;
}
