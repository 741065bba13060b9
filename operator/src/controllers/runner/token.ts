// The git token of each runner: a token of the Project's identity lent to that Pod alone. A runner
// is created with a finalizer when its Project has an identity (the Pod is the record that a token
// of its name may exist); this reconciler then makes the token and its Secret (owned by the Pod,
// so it goes with it), and when the Pod is deleted revokes the token by that name and lets the Pod
// go. A crash at any point leaves a Pod whose finalizer still names the token to revoke.
import type { Logger } from 'pino';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { GiteaError } from '../../providers/git/gitea-client.ts';
import { gitCredentials, readIdentity } from '../../providers/git/gitea-identity.ts';
import { giteaTokens, replaceToken } from '../../providers/git/gitea-tokens.ts';
import { applyObject } from '../../runtime/apply.ts';
import { isNotFound, type KubeClient } from '../../runtime/client.ts';
import type { Result } from '../../runtime/controller.ts';
import { hasFinalizer, removeFinalizer } from '../../runtime/finalizers.ts';
import { PODS, type Pod, SECRETS } from '../../runtime/resources.ts';
import type { Store } from '../../runtime/store.ts';
import {
  desiredGitSecret,
  GIT_TOKEN_FINALIZER,
  runnerGitSecretName,
  runnerTokenName,
} from '../project/git.ts';
import type { SecretView } from '../project/reconcile.ts';
import { FIELD_MANAGER, isRunner, PROJECT_LABEL } from './names.ts';

export interface RunnerTokenDeps {
  client: KubeClient;
  config: OperatorConfig;
  projects: Store<LiveProject>;
  pods: Store<Pod>;
  secrets: Store<SecretView>;
}

const RETRY_MS = 5_000;

/** Whether the event concerns a runner lent a token. */
export const holdsToken = (pod: Pod) => isRunner(pod) && hasFinalizer(pod, GIT_TOKEN_FINALIZER);

export function runnerTokenReconciler(deps: RunnerTokenDeps) {
  return async function reconcile(
    key: string,
    ctx: { log: Logger; signal: AbortSignal },
  ): Promise<Result | undefined> {
    const pod = deps.pods.get(key);
    if (!pod || !holdsToken(pod)) return undefined;
    const { namespace, name } = pod.metadata;
    const project = deps.projects.get(`${namespace}/${pod.metadata.labels?.[PROJECT_LABEL] ?? ''}`);
    const identity = project && (await readIdentity(deps.client, project));
    const url = deps.config.git.url;
    const tokens = identity && url ? giteaTokens({ url }, identity, ctx.signal) : undefined;

    if (pod.metadata.deletionTimestamp) {
      // Without the identity (the Project and its user are gone) its tokens went with it.
      if (tokens) {
        await tokens.delete(runnerTokenName(pod)).catch((err) => {
          // The account refuses its password: it is gone (or not the one on record) — so is the token.
          if (!(err instanceof GiteaError && err.status === 401)) throw err;
        });
      }
      await removeFinalizer(deps.client, PODS, pod, GIT_TOKEN_FINALIZER).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      ctx.log.debug({ pod: key }, 'runner token revoked');
      return undefined;
    }

    const secretName = runnerGitSecretName(name);
    if (deps.secrets.get(`${namespace}/${secretName}`)) return undefined;
    if (!identity || !tokens) return { requeueAfter: RETRY_MS };
    const token = await replaceToken(tokens, runnerTokenName(pod));
    const owner = { ...pod, apiVersion: 'v1', kind: 'Pod' };
    await applyObject(
      deps.client,
      SECRETS,
      desiredGitSecret(owner, secretName, project.metadata.name, gitCredentials(identity, token)),
      { fieldManager: FIELD_MANAGER },
    );
    return undefined;
  };
}
