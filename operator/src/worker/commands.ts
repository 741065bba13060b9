// What an attempt runs, by the item's type: shell runs its command; agent runs the Project's
// agent CLI with the prompt (the same provider registry the workspace uses), with the Project's
// agent credentials in its environment; build, test and deploy run their command, else the
// Project's CI pipeline (when it has CI and the worker can reach Woodpecker), else the worker's
// configured command for that type.
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

export type Plan =
  | { runnable: true; command: string[]; env: Record<string, string>; credentialKeys: string[] }
  | { runnable: true; pipeline: PipelinePlan; env: Record<string, string>; credentialKeys: [] }
  | { runnable: false; reason: string };

export function commandFor(
  item: LiveWorkItem,
  project: ProjectView | undefined,
  config: Pick<WorkerConfig, 'commands' | 'ci'>,
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
      ? { runnable: true, command: item.spec.command, env, credentialKeys: [] }
      : { runnable: false, reason: 'a shell item needs a command' };
  }
  if (type === 'agent') {
    if (!project) return { runnable: false, reason: `Project ${item.spec.projectRef.name} does not exist` };
    const provider = AGENT_PROVIDERS[project.spec.agent.provider];
    const model = project.spec.agent.model ? { [provider.modelEnv]: project.spec.agent.model } : {};
    return {
      runnable: true,
      command: provider.promptCommand(item.spec.prompt ?? ''),
      env: { ...env, ...model },
      credentialKeys: provider.credentialKeys,
    };
  }
  if (item.spec.command) return { runnable: true, command: item.spec.command, env, credentialKeys: [] };
  const repoId = project?.status?.ci?.repoId;
  if (repoId !== undefined && config.ci.url) {
    const variables = { RDEV_TASK: type, ...env };
    return {
      runnable: true,
      pipeline: { repoId, branch: DEFAULT_BRANCH, variables },
      env,
      credentialKeys: [],
    };
  }
  const configured = config.commands[type];
  if (configured) return { runnable: true, command: ['sh', '-c', configured], env, credentialKeys: [] };
  return {
    runnable: false,
    reason: `a ${type} item without a command needs the Project's CI (and the worker's --woodpecker-url) or the worker's --${type}-command`,
  };
}
