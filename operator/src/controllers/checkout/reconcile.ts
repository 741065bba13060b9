// The Checkout reconciler: thin I/O around the pure desired.ts and status.ts, writing status once,
// at the end of each pass. A Checkout is a lease of the Project identity's write access: the branch is made,
// and an access token is created under a name that status records first (one pass records the
// name, the next creates the token), so that a crash at any point leaves a token the operator
// knows about and revokes (at the TTL, on checkin, on deletion, by the finalizer). Gitea tokens
// never expire by themselves: the Checkout is their expiry.
import { CHECKOUTS } from '../../api/resources.ts';
import type { LiveCheckout, LiveProject } from '../../api/v1alpha1/index.ts';
import { type GiteaBranchClient, giteaBranchClient } from '../../providers/git/gitea-branches.ts';
import { gitCredentials, type Identity, readIdentity } from '../../providers/git/gitea-identity.ts';
import { type GiteaTokens, giteaTokens, replaceToken } from '../../providers/git/gitea-tokens.ts';
import { readGiteaAccess } from '../../providers/index.ts';
import { NotConfiguredError } from '../../providers/ports.ts';
import { applyObject, applyStatus } from '../../runtime/apply.ts';
import type { KubeObject } from '../../runtime/client.ts';
import { isNotFound } from '../../runtime/client.ts';
import type { Reconciler, Result } from '../../runtime/controller.ts';
import { addFinalizer, isBeingDeleted, removeFinalizer } from '../../runtime/finalizers.ts';
import { SECRETS } from '../../runtime/resources.ts';
import type { Store } from '../../runtime/store.ts';
import { errorMessage } from '../../shared/fields.ts';
import type { ReconcilerDeps } from '../deps.ts';
import { desiredCredentialsSecret } from './desired.ts';
import { branchOf, expiresAt, FIELD_MANAGER, FINALIZER, secretNameOf, tokenNameOf } from './names.ts';
import { type CheckoutObserved, checkoutStatus, isFinal, type Observation, repoOf } from './status.ts';

export interface CheckoutDeps extends ReconcilerDeps {
  checkouts: Store<LiveCheckout & KubeObject>;
  projects: Store<LiveProject & KubeObject>;
  secrets: Store<KubeObject>;
}

const WAIT_MS = 5_000;
const NOT_CONFIGURED_MS = 60_000;
const BASE_BRANCH_MS = 30_000;

/** What a pass found out, and when to look again. */
interface Outcome {
  observed: Observation;
  result?: Result;
}

type Checkout = LiveCheckout & KubeObject;
type Project = LiveProject & KubeObject;

interface Forge {
  git: GiteaBranchClient;
  tokens: GiteaTokens;
  identity: Identity;
}

export function checkoutReconciler(deps: CheckoutDeps): Reconciler {
  const { client, config } = deps;
  const apply = { fieldManager: FIELD_MANAGER };

  /**
   * The forge as the Checkout's Project sees it: the operator's access for branches and pull
   * requests, the Project's identity for tokens. Undefined while the Project has no identity yet.
   */
  async function connect(project: Project | undefined, signal: AbortSignal): Promise<Forge | undefined> {
    const access = await readGiteaAccess(client, config);
    const identity = project && (await readIdentity(client, project));
    if (!identity) return undefined;
    return {
      git: giteaBranchClient(access, signal),
      tokens: giteaTokens(access, identity, signal),
      identity,
    };
  }

  /** The pass's one status write, and an Event when the phase changed. */
  const writeStatus = async (co: Checkout, observed: CheckoutObserved, now: Date) => {
    const { status, transition } = checkoutStatus(co, observed, now);
    const written = await applyStatus<Checkout>(client, CHECKOUTS, { metadata: co.metadata, status }, apply);
    if (transition) await deps.events.record(written, CHECKOUTS, { ...transition, action: 'Reconcile' });
  };

  return async (key, { signal, log }) => {
    const cached = deps.checkouts.get(key);
    if (!cached) return undefined;
    const now = (deps.now ?? (() => new Date()))();

    const project = deps.projects.get(`${cached.metadata.namespace}/${cached.spec.projectRef.name}`);
    let forge: Forge | undefined;
    try {
      forge = await connect(project, signal);
    } catch (err) {
      if (!(err instanceof NotConfiguredError)) throw err;
      if (isBeingDeleted(cached)) {
        // Nothing can reach the forge: the token (if any) cannot be revoked from here.
        log.warn({ err: err.message }, 'cannot revoke the token: the forge is not configured');
        await removeFinalizer(client, CHECKOUTS, cached, FINALIZER).catch(ignoreNotFound);
        return undefined;
      }
      await writeStatus(cached, { kind: 'NotConfigured', message: err.message }, now);
      return { requeueAfter: NOT_CONFIGURED_MS };
    }

    /**
     * Revokes the token on record; true when this call revoked it. Without the identity (the
     * Project and its user are gone) there is nothing left to revoke: the user's tokens went with it.
     */
    const revoke = async (co: Checkout) => {
      const token = co.status?.token;
      if (!token || token.revoked) return false;
      if (forge) await forge.tokens.delete(token.name);
      return true;
    };

    if (isBeingDeleted(cached)) {
      await revoke(cached);
      await removeFinalizer(client, CHECKOUTS, cached, FINALIZER).catch(ignoreNotFound);
      log.info('token revoked; finalized');
      return undefined;
    }
    const co = await addFinalizer(client, CHECKOUTS, cached, FINALIZER);

    if (isFinal(co.status?.phase)) {
      // Over: only a token still alive (revoked by a pass that could not record it) is left to do.
      if (await revoke(co)) await writeStatus(co, { kind: 'Ended', revoked: true }, now);
      return undefined;
    }

    const repo = repoOf(project?.status?.repo);
    if (!repo || !forge) {
      await writeStatus(co, { kind: 'WaitingForRepository' }, now);
      return { requeueAfter: WAIT_MS };
    }
    const { git, tokens, identity } = forge;
    const branch = branchOf(co);
    const expires = expiresAt(co);
    let revoked = false;

    const lease = async (): Promise<Outcome> => {
      if (!(await git.ensureBranch(repo.owner, repo.name, branch, co.spec.baseBranch))) {
        return { observed: { kind: 'BaseBranchNotFound', repo }, result: { requeueAfter: BASE_BRANCH_MS } };
      }
      if (!co.status?.token) {
        // On record before it exists: this pass ends with the name in status, whose update wakes
        // the next pass (index.ts); whatever happens meanwhile, the token will be found and revoked.
        return { observed: { kind: 'Leasing' }, result: { requeueAfter: WAIT_MS } };
      }
      if (!deps.secrets.get(`${co.metadata.namespace}/${secretNameOf(co)}`)) {
        // A token of that name from an interrupted attempt has no stored value: replace it.
        const token = await replaceToken(tokens, tokenNameOf(co));
        await applyObject(
          client,
          SECRETS,
          desiredCredentialsSecret(co, gitCredentials(identity, token)),
          apply,
        );
      }
      return {
        observed: { kind: 'Leased', repo },
        result: { requeueAfter: Math.max(1000, expires.getTime() - now.getTime()) },
      };
    };

    const checkIn = async (checkin: { title: string; body: string }): Promise<Outcome> => {
      revoked = await revoke(co);
      const recorded = co.status?.pullRequest;
      const pr = recorded
        ? await git.getPullRequest(repo.owner, repo.name, recorded.number)
        : await git.ensurePullRequest(
            repo.owner,
            repo.name,
            {
              head: branch,
              base: co.spec.baseBranch,
              title: checkin.title,
              body: checkin.body,
            },
            identity.username,
          );
      if (!pr?.number) return { observed: { kind: 'CheckedIn', pullRequest: undefined } };
      const pullRequest = {
        number: pr.number,
        url: pr.html_url ?? '',
        merged: pr.merged === true,
        closed: pr.state === 'closed',
      };
      if (pullRequest.merged && !co.spec.keepBranch) await git.deleteBranch(repo.owner, repo.name, branch);
      const open = !pullRequest.merged && !pullRequest.closed;
      return {
        observed: { kind: 'CheckedIn', pullRequest },
        result: open ? { requeueAfter: config.git.checkoutPollSeconds * 1000 } : undefined,
      };
    };

    let outcome: Outcome;
    try {
      if (co.spec.checkin) outcome = await checkIn(co.spec.checkin);
      else if (now >= expires) {
        revoked = await revoke(co);
        outcome = { observed: { kind: 'Expired' } };
      } else outcome = await lease();
    } catch (err) {
      // The failure is the pass's status (a token revoked before it stays recorded as such).
      await writeStatus(co, { kind: 'Failed', message: errorMessage(err), revoked }, now).catch(
        () => undefined,
      );
      throw err;
    }
    await writeStatus(co, { ...outcome.observed, revoked }, now);
    return outcome.result;
  };
}

const ignoreNotFound = (err: unknown) => {
  if (!isNotFound(err)) throw err;
};
