// The workspace's git: once the Project has its repository and identity, a token of that identity
// is lent to the workspace through a Secret the Project owns (made once: the Secret's existence is
// the record that the token exists). The token's name is fixed per Project, and every token of the
// identity ends with the identity (deleted with the repository) or, when the repository is
// retained, with the Project's finalizer (which revokes them all): a crash never leaves one behind.
import { FIELD_MANAGER } from '../../api/constants.ts';
import { API_VERSION, type LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { gitCredentials, readIdentity } from '../../providers/git/gitea-identity.ts';
import { giteaTokens, replaceToken } from '../../providers/git/gitea-tokens.ts';
import { applyObject } from '../../runtime/apply.ts';
import type { KubeClient, KubeObject } from '../../runtime/client.ts';
import { SECRETS } from '../../runtime/resources.ts';
import type { Store } from '../../runtime/store.ts';
import type { ExternalsOutcome } from './externals.ts';
import { desiredGitSecret, type PodGit, WORKSPACE_TOKEN_NAME, workspaceGitSecretName } from './git.ts';

/** The workspace's git, making its token when there is none yet; undefined until it can have one. */
export async function workspaceGit(
  deps: { client: KubeClient; config: OperatorConfig; secrets: Pick<Store<KubeObject>, 'get'> },
  project: LiveProject,
  externals: Pick<ExternalsOutcome, 'conditions' | 'status'>,
  signal: AbortSignal,
): Promise<PodGit | undefined> {
  const url = deps.config.git.url;
  const cloneURL = externals.status.repo?.cloneURL;
  const gitIdentity = externals.status.gitIdentity;
  const identityReady = externals.conditions.some(
    (c) => c.type === 'GitIdentityReady' && c.status === 'True',
  );
  if (!url || !cloneURL || !gitIdentity || !identityReady) {
    return undefined;
  }
  const { name, namespace } = project.metadata;
  const secretName = workspaceGitSecretName(name);
  if (!deps.secrets.get(`${namespace}/${secretName}`)) {
    const identity = await readIdentity(deps.client, {
      ...project,
      status: { ...project.status, gitIdentity },
    });
    if (!identity) return undefined;
    const token = await replaceToken(giteaTokens({ url }, identity, signal), WORKSPACE_TOKEN_NAME);
    const owner = { ...project, apiVersion: API_VERSION, kind: 'Project' };
    await applyObject(
      deps.client,
      SECRETS,
      desiredGitSecret(owner, secretName, name, gitCredentials(identity, token)),
      {
        fieldManager: FIELD_MANAGER,
      },
    );
  }
  return { secretName, cloneURL };
}
