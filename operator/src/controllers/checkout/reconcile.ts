// The Checkout reconciler. A Checkout is a lease: the branch is made, the bot gets write access,
// and an access token is created under a name that status records first, so that a crash at any
// point leaves a token the operator knows about and revokes (at the TTL, on checkin, on deletion,
// by the finalizer). Gitea tokens never expire by themselves: the Checkout is their expiry.
import { CHECKOUTS } from '../../api/resources.ts';
import type { CheckoutStatus } from '../../api/v1alpha1/checkout.ts';
import type { LiveCheckout, LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { readAdminSecret, requireKey } from '../../providers/admin.ts';
import { errorMessage } from '../../providers/external.ts';
import { type GiteaCheckoutClient, giteaCheckoutClient } from '../../providers/git/gitea-checkout.ts';
import { readGiteaAccess } from '../../providers/index.ts';
import { NotConfiguredError } from '../../providers/ports.ts';
import { applyObject, applyStatus, setControllerReference } from '../../runtime/apply.ts';
import type { KubeClient, KubeObject } from '../../runtime/client.ts';
import { isNotFound } from '../../runtime/client.ts';
import type { Reconciler, Result } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import { addFinalizer, isBeingDeleted, removeFinalizer } from '../../runtime/finalizers.ts';
import { SECRETS } from '../../runtime/resources.ts';
import type { Store } from '../../runtime/store.ts';
import {
  branchOf,
  expiresAt,
  FIELD_MANAGER,
  FINAL_PHASES,
  FINALIZER,
  nextStatus,
  secretNameOf,
  tokenNameOf,
} from './lease.ts';

export interface CheckoutDeps {
  client: KubeClient;
  events: EventRecorder;
  config: OperatorConfig;
  checkouts: Store<LiveCheckout & KubeObject>;
  projects: Store<LiveProject & KubeObject>;
  secrets: Store<KubeObject>;
  now?: () => Date;
}

const WAIT_MS = 5_000;
const NOT_CONFIGURED_MS = 60_000;

export function checkoutReconciler(deps: CheckoutDeps): Reconciler {
  const { client, config } = deps;

  async function gitea(signal: AbortSignal): Promise<{ git: GiteaCheckoutClient; bot: string }> {
    const access = await readGiteaAccess(client, config);
    const bot = await readAdminSecret(
      client,
      config.git.checkoutBotSecret,
      'Checkout bot',
      'checkout-bot-secret',
    );
    const key = (name: string) =>
      requireKey(bot, name, 'Checkout bot', config.git.checkoutBotSecret, 'checkout-bot-secret');
    const account = { username: key('username'), password: key('password') };
    return { git: giteaCheckoutClient(access, account, signal), bot: account.username };
  }

  return async (key, { signal, log }) => {
    const cached = deps.checkouts.get(key);
    if (!cached) return undefined;
    const now = (deps.now ?? (() => new Date()))();

    let co = cached;
    const write = async (
      patch: Partial<CheckoutStatus>,
      ready: { status: 'True' | 'False'; reason: string; message: string },
    ) => {
      const status = nextStatus(co, patch, ready, now);
      const before = co.status?.phase;
      co = await applyStatus<LiveCheckout & KubeObject>(
        client,
        CHECKOUTS,
        { metadata: co.metadata, status },
        {
          fieldManager: FIELD_MANAGER,
        },
      );
      if (status.phase !== before) {
        const warning =
          ready.status === 'False' && status.phase !== 'Review' && !FINAL_PHASES.has(status.phase ?? '');
        await deps.events.record(co, CHECKOUTS, {
          type: warning ? 'Warning' : 'Normal',
          reason: status.phase ?? ready.reason,
          action: 'Reconcile',
          note: ready.message,
        });
      }
    };

    let git: GiteaCheckoutClient;
    let bot: string;
    try {
      ({ git, bot } = await gitea(signal));
    } catch (err) {
      if (!(err instanceof NotConfiguredError)) throw err;
      if (isBeingDeleted(co)) {
        // Nothing can reach the forge: the token (if any) cannot be revoked from here.
        log.warn({ err: err.message }, 'cannot revoke the token: the forge is not configured');
        await removeFinalizer(client, CHECKOUTS, co, FINALIZER).catch(ignoreNotFound);
        return undefined;
      }
      await write(
        { phase: co.status?.phase ?? 'Pending' },
        { status: 'False', reason: 'NotConfigured', message: err.message },
      );
      return { requeueAfter: NOT_CONFIGURED_MS };
    }

    /** Revokes the token on record, then records that it is revoked. */
    const revoke = async () => {
      const token = co.status?.token;
      if (!token || token.revoked) return;
      await git.deleteToken(token.name);
      co = { ...co, status: { ...co.status, token: { ...token, revoked: true } } };
    };

    if (isBeingDeleted(co)) {
      await revoke();
      await removeFinalizer(client, CHECKOUTS, co, FINALIZER).catch(ignoreNotFound);
      log.info('token revoked; finalized');
      return undefined;
    }
    co = await addFinalizer(client, CHECKOUTS, co, FINALIZER);

    const phase = co.status?.phase;
    if (phase && FINAL_PHASES.has(phase)) {
      if (co.status?.token && !co.status.token.revoked) {
        await revoke();
        await write({}, readyOf(co));
      }
      return undefined;
    }

    const project = deps.projects.get(`${co.metadata.namespace}/${co.spec.projectRef.name}`);
    const repo = project?.status?.repo;
    const [owner, repoName] = (repo?.fullName ?? '').split('/');
    if (!owner || !repoName || !repo?.cloneURL) {
      await write(
        { phase: 'Pending' },
        {
          status: 'False',
          reason: 'WaitingForRepository',
          message: `Project ${co.spec.projectRef.name} has no repository yet`,
        },
      );
      return { requeueAfter: WAIT_MS };
    }
    const branch = branchOf(co);
    const expires = expiresAt(co);

    try {
      if (co.spec.checkin) return await checkIn(co.spec.checkin);
      if (now >= expires) {
        await revoke();
        await write(
          { phase: 'Expired' },
          {
            status: 'False',
            reason: 'Expired',
            message: `the credentials were revoked at ${expires.toISOString()}`,
          },
        );
        return undefined;
      }
      return await lease();
    } catch (err) {
      await write(
        { phase: co.status?.phase ?? 'Pending' },
        { status: 'False', reason: 'GitError', message: errorMessage(err) },
      ).catch(() => undefined);
      throw err;
    }

    async function lease(): Promise<Result | undefined> {
      if (!(await git.ensureBranch(owner as string, repoName as string, branch, co.spec.baseBranch))) {
        await write(
          { phase: 'Pending' },
          {
            status: 'False',
            reason: 'BaseBranchNotFound',
            message: `base branch ${co.spec.baseBranch} does not exist in ${repo?.fullName}`,
          },
        );
        return { requeueAfter: 30_000 };
      }
      await git.grantBotWrite(owner as string, repoName as string);
      const secretName = secretNameOf(co);
      const tokenName = tokenNameOf(co);
      if (!co.status?.token) {
        // On record before it exists: whatever happens next, it will be found and revoked.
        await write(
          { phase: 'Pending', token: { name: tokenName } },
          { status: 'False', reason: 'Leasing', message: 'creating the credentials' },
        );
      }
      if (!deps.secrets.get(`${co.metadata.namespace}/${secretName}`)) {
        // A token of that name from an interrupted attempt has no stored value: replace it.
        await git.deleteToken(tokenName);
        const token = await git.createToken(tokenName);
        const secret = setControllerReference({ ...co, apiVersion: 'rdev.dev/v1alpha1', kind: 'Checkout' }, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: secretName,
            namespace: co.metadata.namespace,
            labels: { 'app.kubernetes.io/managed-by': 'rdev' },
          },
          type: 'Opaque',
          data: {
            username: Buffer.from(bot).toString('base64'),
            token: Buffer.from(token).toString('base64'),
          },
        } as KubeObject);
        await applyObject(client, SECRETS, secret, { fieldManager: FIELD_MANAGER });
      }
      await write(
        {
          phase: 'Active',
          branch,
          cloneURL: repo?.cloneURL,
          credentialsSecret: secretName,
          expiresAt: expires.toISOString(),
          token: { name: tokenName },
        },
        {
          status: 'True',
          reason: 'Active',
          message: `branch ${branch} of ${repo?.fullName} is leased until ${expires.toISOString()}`,
        },
      );
      return { requeueAfter: Math.max(1000, expires.getTime() - now.getTime()) };
    }

    async function checkIn(checkin: { title: string; body: string }): Promise<Result | undefined> {
      await revoke();
      const existing = co.status?.pullRequest;
      const pr = existing
        ? await git.getPullRequest(owner as string, repoName as string, existing.number)
        : await git.ensurePullRequest(owner as string, repoName as string, {
            head: branch,
            base: co.spec.baseBranch,
            title: checkin.title,
            body: checkin.body,
          });
      if (!pr?.number) {
        await write(
          { phase: 'Closed' },
          { status: 'False', reason: 'Closed', message: 'the pull request is gone' },
        );
        return undefined;
      }
      const pullRequest = { number: pr.number, url: pr.html_url ?? '' };
      if (pr.merged) {
        if (!co.spec.keepBranch) await git.deleteBranch(owner as string, repoName as string, branch);
        await write(
          { phase: 'Merged', pullRequest },
          {
            status: 'True',
            reason: 'Merged',
            message: `pull request #${pr.number} was merged; branch ${branch} ${co.spec.keepBranch ? 'kept' : 'deleted'}`,
          },
        );
        return undefined;
      }
      if (pr.state === 'closed') {
        await write(
          { phase: 'Closed', pullRequest },
          { status: 'False', reason: 'Closed', message: `pull request #${pr.number} was closed unmerged` },
        );
        return undefined;
      }
      await write(
        { phase: 'Review', pullRequest },
        {
          status: 'False',
          reason: 'Review',
          message: `pull request #${pr.number} awaits review; the credentials are revoked`,
        },
      );
      return { requeueAfter: config.git.checkoutPollSeconds * 1000 };
    }
  };
}

function readyOf(co: LiveCheckout) {
  const ready = co.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    status: (ready?.status ?? 'False') as 'True' | 'False',
    reason: ready?.reason ?? co.status?.phase ?? 'Unknown',
    message: `${ready?.message ?? ''}`.trim() || 'the credentials are revoked',
  };
}

const ignoreNotFound = (err: unknown) => {
  if (!isNotFound(err)) throw err;
};
