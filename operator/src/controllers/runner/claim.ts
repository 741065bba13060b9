// Naming the Pod an attempt runs in, at binding time: the Project's workspace Pod (runIn:
// workspace), or a runner claimed from the Project's warm pool, or, with none idle, one created
// for the attempt (the cold path). A claim is a compare-and-swap patch of the runner (labels and
// owner: the WorkItem), made before the binding is written: after a crash in between, the runner
// stays claimed for that attempt and the next binding of the attempt finds it again.

import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { isConflict, isNotFound, type KubeClient } from '../../runtime/client.ts';
import { PODS, type Pod } from '../../runtime/resources.ts';
import { CONTROLLER_UID_INDEX, type Store } from '../../runtime/store.ts';
import { projectKeyOf } from '../../shared/project-index.ts';
import type { LiveWorkItem } from '../../shared/work-phases.ts';
import { runnerGitSecretName } from '../project/git.ts';
import { workspaceName } from '../project/names.ts';
import type { SecretView } from '../project/reconcile.ts';
import { workspaceTemplate } from '../session/desired.ts';
import { type Claim, claimPatch, desiredRunnerPod } from './desired.ts';
import { ATTEMPT_LABEL, coldRunnerName, isRunner } from './names.ts';
import { pickIdle } from './status.ts';
import { holdsToken } from './token.ts';

export interface ClaimDeps {
  client: KubeClient;
  config: OperatorConfig;
  projects: Store<LiveProject>;
  pods: Store<Pod>;
  secrets: Store<SecretView>;
  fieldManager: string;
  now?: () => number;
}

/** How long a runner claimed by this process is kept from other claims while the cache catches up. */
const PROMISE_MS = 30_000;

/** Pipeline items (build, test, deploy without a command, on a Project with CI) run in CI, not in a Pod. */
export function runsInCI(item: LiveWorkItem, project: LiveProject | undefined): boolean {
  return (
    item.spec.type !== 'agent' &&
    item.spec.type !== 'shell' &&
    !item.spec.command &&
    project?.status?.ci?.repoId !== undefined
  );
}

/**
 * What runners of the Project are built from: its workspace Pod as the Project controller would
 * build it now (undefined when it must not run), given the key names of its credentials Secret.
 */
export function runnerTemplate(project: LiveProject, config: OperatorConfig, secrets: Store<SecretView>) {
  const ref = project.spec.agent.credentialsSecretRef;
  const keys = ref ? secrets.get(`${project.metadata.namespace}/${ref.name}`)?.dataKeys : undefined;
  return workspaceTemplate(project, config, keys);
}

/** The runners owned by `owner` (a Project: its idle ones; a WorkItem: those claimed for it). */
export const runnersOf = (pods: Store<Pod>, ownerUid: string) =>
  pods.byIndex(CONTROLLER_UID_INDEX, ownerUid).filter(isRunner);

export function runnerClaims(deps: ClaimDeps) {
  const now = deps.now ?? Date.now;
  const promised = new Map<string, number>();
  const promisedNames = () => {
    for (const [name, until] of promised) if (until < now()) promised.delete(name);
    return new Set(promised.keys());
  };

  /** Claims an idle runner for the attempt; undefined when none is idle or every try lost a race. */
  async function claimIdle(project: LiveProject, claim: Claim): Promise<string | undefined> {
    // A runner lent a git token is ready for work once the token's Secret exists (a kubelet would
    // not have started it before; the cache may show it Ready a moment earlier).
    const idle = runnersOf(deps.pods, project.metadata.uid).filter(
      (p) =>
        !holdsToken(p) ||
        deps.secrets.get(`${p.metadata.namespace}/${runnerGitSecretName(p.metadata.name)}`) !== undefined,
    );
    for (let runner = pickIdle(idle, promisedNames()); runner; runner = pickIdle(idle, promisedNames())) {
      const name = runner.metadata.name;
      promised.set(name, now() + PROMISE_MS);
      try {
        await deps.client.patch(PODS, project.metadata.namespace, name, claimPatch(runner, claim), 'merge', {
          fieldManager: deps.fieldManager,
        });
        return name;
      } catch (err) {
        // Claimed by someone else, or gone: try the next one.
        if (!isConflict(err) && !isNotFound(err)) {
          promised.delete(name);
          throw err;
        }
      }
    }
    return undefined;
  }

  /** The Pod the attempt runs in, or undefined when it runs in CI or its Project cannot run Pods. */
  return async function podFor(item: LiveWorkItem, attempt: number): Promise<string | undefined> {
    const project = deps.projects.get(projectKeyOf(item));
    if (!project || runsInCI(item, project)) return undefined;
    if (item.spec.runIn === 'workspace')
      return project.status?.workspace?.podName ?? workspaceName(project.metadata.name);
    const claim: Claim = { item, attempt };
    const mine = runnersOf(deps.pods, item.metadata.uid).find(
      (p) => p.metadata.labels?.[ATTEMPT_LABEL] === String(attempt) && !p.metadata.deletionTimestamp,
    );
    if (mine) return mine.metadata.name;
    const claimed = await claimIdle(project, claim);
    if (claimed) return claimed;
    const template = runnerTemplate(project, deps.config, deps.secrets);
    if (!template) return undefined;
    const name = coldRunnerName(item.metadata.name, attempt);
    try {
      await deps.client.create(PODS, desiredRunnerPod(project, template, name, claim));
    } catch (err) {
      // Made by an earlier try of this binding: the name is the attempt's own.
      if (!isConflict(err)) throw err;
    }
    return name;
  };
}

export type RunnerClaims = ReturnType<typeof runnerClaims>;
