// The runner Pod: built from the Project's workspace template (its image, env, credentials and
// restricted security), with nothing of the workspace that outlives an item: its own scratch
// /workspace and HOME, no restart, and labels no Service selects; git credentials of its own (a
// token lent to this Pod alone, revoked when it goes). One Pod serves one attempt.
import type { V1Pod } from '@kubernetes/client-node';
import { WORKSPACE_CONTAINER } from '../../api/constants.ts';
import { API_VERSION, type LiveProject } from '../../api/v1alpha1/index.ts';
import { setControllerReference } from '../../runtime/apply.ts';
import type { Json } from '../../runtime/client.ts';
import { isConditionTrue } from '../../runtime/conditions.ts';
import type { Pod } from '../../runtime/resources.ts';
import type { LiveWorkItem } from '../../shared/work-phases.ts';
import { GIT_TOKEN_FINALIZER, gitEnv, type PodGit, runnerGitSecretName } from '../project/git.ts';
import { childLabels } from '../project/names.ts';
import { ATTEMPT_LABEL, labelValue, ROLE_LABEL, RUNNER_ROLE, WORK_ITEM_LABEL } from './names.ts';

/** HOME of the runner's user: a scratch volume, so nothing an item writes there reaches another. */
export const RUNNER_HOME = '/home/runner';

/**
 * The git a runner of `project` gets: a token of the Project's identity in a Secret of the
 * runner's own, once the Project has its repository and identity.
 */
export function runnerGit(project: LiveProject, pod: string): PodGit | undefined {
  const cloneURL = project.status?.repo?.cloneURL;
  const ready = isConditionTrue(project.status?.conditions, 'GitIdentityReady');
  return cloneURL && ready && project.status?.gitIdentity?.username
    ? { secretName: runnerGitSecretName(pod), cloneURL }
    : undefined;
}

/** The attempt a runner is claimed for. */
export interface Claim {
  item: Pick<LiveWorkItem, 'metadata'>;
  attempt: number;
}

export const runnerLabels = (project: string) => ({
  // The Project's labels put the runner under the Project's NetworkPolicy.
  ...childLabels(project),
  'app.kubernetes.io/component': 'runner',
  [ROLE_LABEL]: RUNNER_ROLE,
});

const claimLabels = (claim: Claim) => ({
  [WORK_ITEM_LABEL]: labelValue(claim.item.metadata.name),
  [ATTEMPT_LABEL]: String(claim.attempt),
});

const workItemOwner = (item: Claim['item']) => ({
  apiVersion: API_VERSION,
  kind: 'WorkItem',
  metadata: item.metadata,
});

/**
 * A runner of `project` from its workspace `template`: idle and owned by the Project (a warm
 * runner), or, given a claim, owned by the WorkItem it serves (a cold runner made for it).
 */
export function desiredRunnerPod(
  project: LiveProject,
  template: Json<V1Pod>,
  name: string,
  claim?: Claim,
): Json<V1Pod> {
  const spec = structuredClone(template.spec ?? { containers: [] });
  spec.restartPolicy = 'Never';
  spec.volumes = [
    ...(spec.volumes ?? []).map((v) => (v.name === 'workspace' ? { name: 'workspace', emptyDir: {} } : v)),
    { name: 'home', emptyDir: {} },
  ];
  const git = runnerGit(project, name);
  spec.containers = spec.containers.map((c) =>
    c.name === WORKSPACE_CONTAINER
      ? {
          ...c,
          // A runner serves no preview: nothing routes to it.
          ports: undefined,
          env: [...(c.env ?? []), ...(git ? gitEnv(git) : []), { name: 'HOME', value: RUNNER_HOME }],
          volumeMounts: [...(c.volumeMounts ?? []), { name: 'home', mountPath: RUNNER_HOME }],
        }
      : c,
  );
  const annotations = template.metadata?.annotations;
  const pod: Json<V1Pod> = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: project.metadata.namespace,
      labels: { ...runnerLabels(project.metadata.name), ...(claim ? claimLabels(claim) : {}) },
      ...(annotations ? { annotations: { ...annotations } } : {}),
      // Its token is revoked before the Pod goes (runner/token.ts).
      ...(git ? { finalizers: [GIT_TOKEN_FINALIZER] } : {}),
    },
    spec,
  };
  return claim
    ? setControllerReference(workItemOwner(claim.item), pod)
    : setControllerReference(project, pod);
}

/**
 * The merge patch that claims an idle runner for an attempt: the claim's labels, and the WorkItem
 * as its only owner (deleting the item deletes its runner). The resourceVersion makes it a
 * compare-and-swap: of two claims of one runner, the second fails with a conflict.
 */
export function claimPatch(runner: Pod, claim: Claim) {
  const owned = setControllerReference(workItemOwner(claim.item), {
    metadata: { name: runner.metadata.name, ownerReferences: [] },
  });
  return {
    metadata: {
      resourceVersion: runner.metadata.resourceVersion,
      labels: claimLabels(claim),
      ownerReferences: owned.metadata.ownerReferences,
    },
  };
}
