// Git in the Project's Pods, as pure functions: the env that hands a Pod a token of the Project's
// identity (from a Secret owned by what the token serves: the workspace's by the Project, a
// runner's by the runner), and the workspace's clone step. Git reads the token from the
// environment through a credential helper, so it is never written to the volume.
import type { V1Container, V1EnvVar, V1Secret } from '@kubernetes/client-node';
import { GIT_CREDENTIAL_KEYS } from '../../providers/git/gitea-identity.ts';
import { setControllerReference } from '../../runtime/apply.ts';
import type { Json, KubeObject } from '../../runtime/client.ts';
import { CREDENTIAL_HELPER, GIT_ENV, repoDirOf } from '../../shared/git.ts';
import { boundedName, shortHash } from '../../shared/naming.ts';

/** What a Pod needs to work in the Project's repository. */
export interface PodGit {
  /** The Secret holding the token lent to this Pod. */
  secretName: string;
  cloneURL: string;
}

/** The Secret of the workspace's token, owned by the Project. */
export const workspaceGitSecretName = (project: string) => boundedName(project, 'git');
/** The workspace's token in Gitea: one per Project (its identity is the Project's alone). */
export const WORKSPACE_TOKEN_NAME = 'rdev-workspace';

/** The env a Pod gets for git: the repository's URL and the lent credentials, by reference. */
export function gitEnv(git: PodGit): Json<V1EnvVar>[] {
  return [
    { name: GIT_ENV.url, value: git.cloneURL },
    ...GIT_CREDENTIAL_KEYS.map((key) => ({
      name: GIT_ENV[key],
      valueFrom: { secretKeyRef: { name: git.secretName, key } },
    })),
  ];
}

/**
 * The workspace's clone step, run in `/workspace` on every start: the first clones the repository
 * into `<repo>` (through a temporary directory, so a clone cut short never looks like one) and
 * configures it (author, credential helper); later ones find the clone and leave it, and whatever
 * is being worked on in it, untouched. A `<repo>` that is not a clone is left alone too.
 */
export function workspaceCloneScript(repoDir: string): string {
  const quoted = `'${repoDir.replaceAll("'", `'\\''`)}'`;
  const helper = `'${CREDENTIAL_HELPER.replaceAll("'", `'\\''`)}'`;
  return [
    `dir=${quoted}`,
    'export GIT_TERMINAL_PROMPT=0',
    'if [ -e "$dir/.git" ]; then echo "rdev: $dir is cloned already"; exit 0; fi',
    'if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then echo "rdev: $dir is not a clone and not empty: left as it is"; exit 0; fi',
    'rm -rf "$dir.cloning"',
    `git -c credential.helper=${helper} clone --quiet -- "$RDEV_GIT_URL" "$dir.cloning" || exit 1`,
    `git -C "$dir.cloning" config credential.helper ${helper}`,
    'git -C "$dir.cloning" config user.name "$RDEV_GIT_NAME"',
    'git -C "$dir.cloning" config user.email "$RDEV_GIT_EMAIL"',
    'rm -rf "$dir" && mv "$dir.cloning" "$dir" || exit 1',
    'echo "rdev: cloned into $dir"',
  ].join('\n');
}

/** The workspace's init container: the clone step, in the workspace container's image and security. */
export function cloneContainer(workspace: Json<V1Container>, git: PodGit, mount: string): Json<V1Container> {
  return {
    name: 'clone',
    image: workspace.image,
    command: ['sh', '-c', workspaceCloneScript(repoDirOf(git.cloneURL))],
    workingDir: mount,
    env: [...gitEnv(git), { name: 'HOME', value: '/tmp' }],
    securityContext: workspace.securityContext,
    resources: { requests: { cpu: '50m', memory: '64Mi' } },
    volumeMounts: workspace.volumeMounts,
  };
}

/** A Secret lending a token of the identity to what `owner` is (the Project, a runner Pod). */
export function desiredGitSecret(
  owner: KubeObject & { apiVersion: string; kind: string },
  name: string,
  project: string,
  credentials: Record<string, string>,
): Json<V1Secret> & KubeObject {
  return setControllerReference(owner, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'rdev', 'rdev.dev/project': project },
    },
    type: 'Opaque',
    stringData: credentials,
  });
}

/** The Secret of a runner's token, owned by the runner. */
export const runnerGitSecretName = (pod: string) => boundedName(pod, 'git', 253);
/** A runner's token in Gitea: named after the Pod object, so that its finalizer can revoke it. */
export const runnerTokenName = (pod: { metadata: { uid?: string } }) =>
  `rdev-runner-${shortHash(pod.metadata.uid ?? '', 16)}`;
/** On a runner with a token: its revocation must happen before the Pod goes. */
export const GIT_TOKEN_FINALIZER = 'rdev.dev/git-token';
