// What an attempt runs, by the item's type: shell runs its command; agent runs the Project's
// agent CLI with the prompt (the same provider registry the workspace uses) in a clone of the
// Project's repository; build, test and deploy run their command, else the Project's CI pipeline
// (when it has CI and the worker can reach Woodpecker), else the worker's configured command for
// that type. A command runs in the Pod the item is bound to, whose environment holds the
// Project's credentials: the worker hands it none.
import { AGENT_PROVIDERS } from '../agents.ts';
import type { LiveProject } from '../api/v1alpha1/index.ts';
import { DEFAULT_BRANCH } from '../providers/git/gitea.ts';
import type { LiveWorkItem } from '../shared/work-phases.ts';
import type { WorkerConfig } from './config.ts';

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
  /** The repository to clone into the working directory first (agent items of a Project with one). */
  cloneURL?: string;
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
  const { type } = item.spec;
  if (type === 'shell') {
    return item.spec.command
      ? { runnable: true, command: item.spec.command, env }
      : { runnable: false, reason: 'a shell item needs a command' };
  }
  if (type === 'agent') {
    if (!project) return { runnable: false, reason: `Project ${item.spec.projectRef.name} does not exist` };
    const provider = AGENT_PROVIDERS[project.spec.agent.provider];
    const model = project.spec.agent.model ? { [provider.modelEnv]: project.spec.agent.model } : {};
    const cloneURL = project.status?.repo?.cloneURL;
    return {
      runnable: true,
      // A stand-in for the agent's CLI (tests, local planes) gets the agent's whole command line.
      command: [
        ...(config.agentCommand ? [config.agentCommand] : []),
        ...provider.promptCommand(item.spec.prompt ?? ''),
      ],
      env: { ...env, ...model },
      ...(cloneURL ? { cloneURL } : {}),
    };
  }
  if (item.spec.command) return { runnable: true, command: item.spec.command, env };
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

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `value` as one single-quoted shell word: nothing in it is expanded. */
export const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * The command that runs a plan in its Pod: `sh -c <script> rdev-item <argv…>`. The script exports
 * the item's variables, moves into the workspace directory when it exists and is writable (a
 * runner's scratch volume, the workspace Pod's files), else into a fresh temporary directory (a
 * Pod whose exec runs elsewhere, as kwok's does on the host), clones the plan's repository there
 * unless the directory already holds one (a workspace Pod after an earlier item), then execs the
 * command in its own place, so the PID announced for the exec is the command's. The command
 * travels as positional parameters and every value is single-quoted: nothing of the item is
 * interpreted by the shell.
 */
export function runnerCommand(plan: CommandPlan, workspace = WORKSPACE_DIR): string[] {
  if (plan.command.length === 0) throw new Error('no command to run');
  const exports = Object.entries(plan.env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new Error(`"${name}" is not a valid environment variable name`);
    return `${name}=${shellQuote(value)}`;
  });
  const dir = shellQuote(workspace);
  const script = [
    ...(exports.length ? [`export ${exports.join(' ')}`] : []),
    `if [ -d ${dir} ] && [ -w ${dir} ]; then dir=${dir}; else dir=$(mktemp -d) || exit 1; fi`,
    'cd "$dir" || exit 1',
    ...(plan.cloneURL
      ? [
          `url=${shellQuote(plan.cloneURL)}`,
          'if [ ! -e .git ]; then',
          // In the background, so that a stop (TERM to this shell) stops the clone as well; the
          // trap is set first and reads $! when it runs, so no moment is left without it.
          `  trap 'kill "$!" 2>/dev/null; exit 143' TERM`,
          '  GIT_TERMINAL_PROMPT=0 git clone --quiet --depth 1 -- "$url" . &',
          `  wait "$!" || { code=$?; printf 'rdev: could not clone %s into %s (git exited with %s)\\n' "$url" "$dir" "$code" >&2; exit "$code"; }`,
          '  trap - TERM',
          'fi',
        ]
      : []),
    'exec "$@"',
  ].join('\n');
  return ['sh', '-c', script, 'rdev-item', ...plan.command];
}
