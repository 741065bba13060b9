// What an attempt runs, by the item's type: shell runs its command; agent runs the Project's
// agent CLI with the prompt (the same provider registry the workspace uses) in a clone of the
// Project's repository; build, test and deploy run their command, else the Project's CI pipeline
// (when it has CI and the worker can reach Woodpecker), else the worker's configured command for
// that type. A command runs in the Pod the item is bound to, whose environment holds the
// Project's credentials: the worker hands it none.
import { AGENT_PROVIDERS } from '../agents.ts';
import type { LiveProject } from '../api/v1alpha1/index.ts';
import { DEFAULT_BRANCH } from '../providers/git/gitea.ts';
import { repoDirOf } from '../shared/git.ts';
import type { LiveWorkItem } from '../shared/work-phases.ts';
import type { WorkerConfig } from './config.ts';
import { finishScript, type GitPlan, type GitStart, gitPlanFor, prepareScript } from './git.ts';
import { ENV_NAME, shellQuote } from './shell.ts';

export { shellQuote };

export type ProjectView = Pick<LiveProject, 'metadata' | 'spec' | 'status'>;

export interface PipelinePlan {
  repoId: number;
  branch: string;
  variables: Record<string, string>;
}

/** A command to run in the item's Pod. */
export interface CommandPlan {
  runnable: true;
  command: string[];
  /** The item's variables (name, namespace, Project, attempt; the agent's model). */
  env: Record<string, string>;
  /** What to do in the Project's repository around the command (runner items only). */
  git?: GitPlan;
  /** In the workspace Pod: the directory of the repository's clone, where the command runs. */
  repoDir?: string;
}

export type Plan =
  | CommandPlan
  | { runnable: true; pipeline: PipelinePlan }
  | { runnable: false; reason: string };

export function commandFor(
  item: LiveWorkItem,
  project: ProjectView | undefined,
  config: Pick<WorkerConfig, 'commands' | 'ci' | 'agentCommand'>,
): Plan {
  const env: Record<string, string> = {
    RDEV_WORK_ITEM: item.metadata.name,
    RDEV_NAMESPACE: item.metadata.namespace,
    RDEV_PROJECT: item.spec.projectRef.name,
    RDEV_ATTEMPT: String(item.status?.attempts ?? 1),
  };
  const cloneURL = project?.status?.repo?.cloneURL;
  // In the workspace the repository is the Pod's own clone, shared with Sessions: the item works
  // there and leaves its changes for whoever works in it; a runner clones, commits and pushes.
  const inRunner = item.spec.runIn !== 'workspace';
  const git = inRunner ? gitPlanFor(item, cloneURL) : undefined;
  const repoDir = !inRunner && cloneURL ? repoDirOf(cloneURL) : undefined;
  const where = { ...(git ? { git } : {}), ...(repoDir ? { repoDir } : {}) };
  const { type } = item.spec;
  if (type === 'shell') {
    return item.spec.command
      ? { runnable: true, command: item.spec.command, env, ...where }
      : { runnable: false, reason: 'a shell item needs a command' };
  }
  if (type === 'agent') {
    if (!project) return { runnable: false, reason: `Project ${item.spec.projectRef.name} does not exist` };
    const provider = AGENT_PROVIDERS[project.spec.agent.provider];
    const model = project.spec.agent.model ? { [provider.modelEnv]: project.spec.agent.model } : {};
    return {
      runnable: true,
      // A stand-in for the agent's CLI (tests, local planes) gets the agent's whole command line.
      command: [
        ...(config.agentCommand ? [config.agentCommand] : []),
        ...provider.promptCommand(item.spec.prompt ?? ''),
      ],
      env: { ...env, ...model },
      ...where,
    };
  }
  if (item.spec.command) return { runnable: true, command: item.spec.command, env, ...where };
  const repoId = project?.status?.ci?.repoId;
  if (repoId !== undefined && config.ci.url) {
    const variables = { RDEV_TASK: type, ...env };
    return { runnable: true, pipeline: { repoId, branch: DEFAULT_BRANCH, variables } };
  }
  const configured = config.commands[type];
  if (configured) return { runnable: true, command: ['sh', '-c', configured], env };
  return {
    runnable: false,
    reason: `a ${type} item without a command needs the Project's CI (and the worker's --woodpecker-url) or the worker's --${type}-command`,
  };
}

/** Where a runner (and a workspace Pod) keeps its files. */
export const WORKSPACE_DIR = '/workspace';

/** The commands of an attempt in its Pod: the git steps around the item's own command. */
export interface RunnerSteps {
  prepare?: string[];
  command: string[];
  /** Given where prepare started: commits and pushes (only after the command succeeded). */
  finish?: (start: GitStart) => string[];
}

/**
 * The commands that run a plan in its Pod, each `sh -c <script> rdev-item <argv…>`. Every script
 * exports the item's variables and moves into the working directory: the workspace directory when
 * it exists and is writable (a runner's scratch volume; in the workspace Pod, the repository's
 * clone in it), else one of the Pod's own under the temporary directory (a Pod whose exec runs
 * elsewhere, as kwok's does on the host), the same for every step. `pod` names that directory:
 * unique in the cluster (namespace and name), since a cold runner's name repeats in every
 * namespace with an item of that name, and a directory another namespace's runner left behind
 * would hand the item a stale clone. The command step execs the command in its own place, so the
 * PID announced for the exec is the command's. The command travels as positional parameters and
 * every value is single-quoted: nothing of the item is interpreted by the shell.
 */
export function runnerSteps(plan: CommandPlan, pod: string, workspace = WORKSPACE_DIR): RunnerSteps {
  if (plan.command.length === 0) throw new Error('no command to run');
  const exports = Object.entries(plan.env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new Error(`"${name}" is not a valid environment variable name`);
    return `${name}=${shellQuote(value)}`;
  });
  const dir = shellQuote(workspace);
  const own = shellQuote(`rdev-${pod}`);
  const preamble = [
    ...(exports.length ? [`export ${exports.join(' ')}`] : []),
    `if [ -d ${dir} ] && [ -w ${dir} ]; then dir=${dir}; else dir="\${TMPDIR:-/tmp}"/${own}; mkdir -p "$dir" || exit 1; fi`,
    ...(plan.repoDir
      ? [`if [ -d "$dir"/${shellQuote(plan.repoDir)}/.git ]; then dir="$dir"/${shellQuote(plan.repoDir)}; fi`]
      : []),
    'cd "$dir" || exit 1',
  ];
  const step = (lines: string[], args: string[] = []) => [
    'sh',
    '-c',
    [...preamble, ...lines].join('\n'),
    'rdev-item',
    ...args,
  ];
  const { git } = plan;
  return {
    ...(git ? { prepare: step(prepareScript(git)) } : {}),
    command: step(['exec "$@"'], plan.command),
    ...(git?.commit ? { finish: (start: GitStart) => step(finishScript(git, start)) } : {}),
  };
}
