// The pure parts of a Checkout: its names and deadline (names.ts), the credentials Secret it
// controls (desired.ts), and the phase machine its status follows (status.ts), one test per
// transition.
import { describe, expect, it } from 'vitest';
import type { CheckoutSpec, CheckoutStatus } from '../../operator/src/api/v1alpha1/checkout.ts';
import { API_VERSION, type LiveCheckout } from '../../operator/src/api/v1alpha1/index.ts';
import { desiredCredentialsSecret } from '../../operator/src/controllers/checkout/desired.ts';
import {
  branchOf,
  expiresAt,
  secretNameOf,
  tokenNameOf,
} from '../../operator/src/controllers/checkout/names.ts';
import {
  type CheckoutObserved,
  checkoutStatus,
  type RepoView,
  repoOf,
} from '../../operator/src/controllers/checkout/status.ts';

function checkout(
  spec: Partial<CheckoutSpec> = {},
  status?: CheckoutStatus,
  meta: Partial<LiveCheckout['metadata']> = {},
): LiveCheckout {
  return {
    apiVersion: API_VERSION,
    kind: 'Checkout',
    metadata: {
      name: 'login',
      namespace: 'team',
      uid: 'uid-1',
      generation: 1,
      creationTimestamp: '2026-11-24T10:00:00Z',
      ...meta,
    },
    spec: { projectRef: { name: 'shop' }, baseBranch: 'main', ttl: '4h', keepBranch: false, ...spec },
    ...(status ? { status } : {}),
  };
}

const NOW = new Date('2026-11-24T10:00:05Z');
const LATER = new Date('2026-11-24T10:05:00Z');
const repo: RepoView = {
  owner: 'acme',
  name: 'shop',
  fullName: 'acme/shop',
  cloneURL: 'https://git.test/acme/shop.git',
};
const checkin = { title: 'Add a login page', body: '' };
const openPR = { number: 7, url: 'https://git.test/acme/shop/pulls/7', merged: false, closed: false };

/** The Checkout after a pass that observed `observed`, as the next pass reads it. */
const reconciled = (co: LiveCheckout, observed: CheckoutObserved, now = NOW): LiveCheckout => ({
  ...co,
  status: checkoutStatus(co, observed, now).status,
});
const ready = (status: CheckoutStatus) => status.conditions?.find((c) => c.type === 'Ready');

// Checkouts in each phase, each reached through the passes before it.
const pending = reconciled(checkout(), { kind: 'Leasing' });
const active = reconciled(pending, { kind: 'Leased', repo });
const review = reconciled(reconciled(active, { kind: 'Leased', repo }), {
  kind: 'CheckedIn',
  pullRequest: openPR,
  revoked: true,
});
const checkedIn = (co: LiveCheckout) => ({ ...co, spec: { ...co.spec, checkin } });

describe('a Checkout lease', () => {
  it('works on checkout/<name> unless a branch is given', () => {
    expect(branchOf(checkout())).toBe('checkout/login');
    expect(branchOf(checkout({ branch: 'feature/x' }))).toBe('feature/x');
  });

  it('ends at creation plus the TTL', () => {
    expect(expiresAt(checkout()).toISOString()).toBe('2026-11-24T14:00:00.000Z');
    expect(expiresAt(checkout({ ttl: '90m' })).toISOString()).toBe('2026-11-24T11:30:00.000Z');
  });

  it('names its token uniquely per Checkout object, within what Gitea accepts', () => {
    expect(tokenNameOf(checkout())).toMatch(/^rdev-team-login-[0-9a-f]{10}$/);
    expect(tokenNameOf(checkout({}, undefined, { uid: 'uid-2' }))).not.toBe(tokenNameOf(checkout()));
    expect(tokenNameOf(checkout({}, undefined, { name: 'x'.repeat(253) })).length).toBeLessThanOrEqual(255);
  });

  it("leases the Project's repository once its status names one", () => {
    expect(repoOf(undefined)).toBeUndefined();
    expect(repoOf({ fullName: 'acme/shop' })).toBeUndefined();
    expect(repoOf({ fullName: 'acme', cloneURL: repo.cloneURL })).toBeUndefined();
    expect(repoOf({ fullName: 'acme/shop', cloneURL: repo.cloneURL })).toEqual(repo);
  });
});

describe('the credentials Secret of a Checkout', () => {
  const secret = desiredCredentialsSecret(checkout(), { username: 'rdev-bot', token: 's3cret' });

  it('holds the bot username and the token, base64-encoded, under the name status reports', () => {
    expect(secret).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: secretNameOf(checkout()),
        namespace: 'team',
        labels: { 'app.kubernetes.io/managed-by': 'rdev' },
      },
    });
    expect(Buffer.from(secret.data?.username ?? '', 'base64').toString()).toBe('rdev-bot');
    expect(Buffer.from(secret.data?.token ?? '', 'base64').toString()).toBe('s3cret');
  });

  it('is controlled by the Checkout, so that it goes with it', () => {
    expect(secret.metadata.ownerReferences).toEqual([
      {
        apiVersion: API_VERSION,
        kind: 'Checkout',
        name: 'login',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });
});

describe('the phase machine of a Checkout', () => {
  it('new → Pending: waits for the repository, with a warning', () => {
    const { status, transition } = checkoutStatus(checkout(), { kind: 'WaitingForRepository' }, NOW);
    expect(status).toMatchObject({ phase: 'Pending', observedGeneration: 1 });
    expect(ready(status)).toMatchObject({ status: 'False', reason: 'WaitingForRepository' });
    expect(ready(status)?.message).toContain('Project shop');
    expect(transition).toEqual({ type: 'Warning', reason: 'Pending', note: ready(status)?.message });
  });

  it('Pending → Pending: records the token name before the token exists', () => {
    const waiting = reconciled(checkout(), { kind: 'WaitingForRepository' });
    const { status, transition } = checkoutStatus(waiting, { kind: 'Leasing' }, NOW);
    expect(status).toMatchObject({ phase: 'Pending', token: { name: tokenNameOf(waiting) } });
    expect(status.credentialsSecret).toBeUndefined();
    expect(ready(status)).toMatchObject({ status: 'False', reason: 'Leasing' });
    expect(transition).toBeUndefined();
  });

  it('Pending → Pending: says so when the base branch does not exist', () => {
    const co = checkout({ baseBranch: 'develop' });
    const { status } = checkoutStatus(co, { kind: 'BaseBranchNotFound', repo }, NOW);
    expect(status.phase).toBe('Pending');
    expect(ready(status)).toMatchObject({
      reason: 'BaseBranchNotFound',
      message: 'base branch develop does not exist in acme/shop',
    });
  });

  it('Pending → Active: the credentials are leased until the TTL', () => {
    const { status, transition } = checkoutStatus(pending, { kind: 'Leased', repo }, NOW);
    expect(status).toMatchObject({
      phase: 'Active',
      branch: 'checkout/login',
      cloneURL: repo.cloneURL,
      credentialsSecret: secretNameOf(pending),
      expiresAt: '2026-11-24T14:00:00.000Z',
      token: { name: tokenNameOf(pending) },
    });
    expect(ready(status)).toMatchObject({ status: 'True', reason: 'Active' });
    expect(transition).toMatchObject({ type: 'Normal', reason: 'Active' });
  });

  it('Active → Active: a later pass keeps the condition and its transition time', () => {
    const { status, transition } = checkoutStatus(active, { kind: 'Leased', repo }, LATER);
    expect(status).toEqual(active.status);
    expect(transition).toBeUndefined();
  });

  it('Active → Review: checkin opens a pull request and revokes the token', () => {
    const { status, transition } = checkoutStatus(
      checkedIn(active),
      { kind: 'CheckedIn', pullRequest: openPR, revoked: true },
      LATER,
    );
    expect(status).toMatchObject({
      phase: 'Review',
      pullRequest: { number: 7, url: openPR.url },
      token: { name: tokenNameOf(active), revoked: true },
      credentialsSecret: secretNameOf(active),
    });
    expect(ready(status)).toMatchObject({ status: 'False', reason: 'Review' });
    expect(ready(status)?.lastTransitionTime).toBe(LATER.toISOString());
    expect(transition).toMatchObject({ type: 'Normal', reason: 'Review' });
  });

  it('Review → Merged: the branch is deleted, or kept when asked', () => {
    const merged = { ...openPR, merged: true, closed: true };
    const deleted = checkoutStatus(checkedIn(review), { kind: 'CheckedIn', pullRequest: merged }, LATER);
    expect(deleted.status).toMatchObject({ phase: 'Merged', token: { revoked: true } });
    expect(ready(deleted.status)).toMatchObject({
      status: 'True',
      reason: 'Merged',
      message: 'pull request #7 was merged; branch checkout/login deleted',
    });
    expect(deleted.transition).toMatchObject({ type: 'Normal', reason: 'Merged' });

    const keep = { ...review, spec: { ...review.spec, checkin, keepBranch: true } };
    const kept = checkoutStatus(keep, { kind: 'CheckedIn', pullRequest: merged }, LATER);
    expect(ready(kept.status)?.message).toContain('branch checkout/login kept');
  });

  it('Review → Closed: the pull request was closed unmerged', () => {
    const closed = { ...openPR, closed: true };
    const { status, transition } = checkoutStatus(
      checkedIn(review),
      { kind: 'CheckedIn', pullRequest: closed },
      LATER,
    );
    expect(status).toMatchObject({ phase: 'Closed', pullRequest: { number: 7 } });
    expect(ready(status)).toMatchObject({ status: 'False', reason: 'Closed' });
    expect(ready(status)?.message).toBe('pull request #7 was closed unmerged');
    expect(transition).toMatchObject({ type: 'Normal', reason: 'Closed' });
  });

  it('Review → Closed: the pull request is gone', () => {
    const { status } = checkoutStatus(
      checkedIn(review),
      { kind: 'CheckedIn', pullRequest: undefined },
      LATER,
    );
    expect(status.phase).toBe('Closed');
    expect(ready(status)?.message).toBe('the pull request is gone');
    expect(status.pullRequest).toEqual(review.status?.pullRequest);
  });

  it('Active → Expired: the TTL passed and the token is revoked', () => {
    const { status, transition } = checkoutStatus(active, { kind: 'Expired', revoked: true }, LATER);
    expect(status).toMatchObject({ phase: 'Expired', token: { name: tokenNameOf(active), revoked: true } });
    expect(ready(status)).toMatchObject({
      status: 'False',
      reason: 'Expired',
      message: 'the credentials were revoked at 2026-11-24T14:00:00.000Z',
    });
    expect(transition).toMatchObject({ type: 'Normal', reason: 'Expired' });
  });

  it('Pending → Expired: a lease never made ends at the TTL too', () => {
    const { status } = checkoutStatus(pending, { kind: 'Expired', revoked: true }, LATER);
    expect(status).toMatchObject({ phase: 'Expired', token: { revoked: true } });
  });

  it('Merged, Closed and Expired are final: a token revoked late is recorded, the rest kept', () => {
    const expired = reconciled(active, { kind: 'Expired' }, LATER);
    expect(expired.status?.token?.revoked).toBeUndefined();
    const { status, transition } = checkoutStatus(expired, { kind: 'Ended', revoked: true }, new Date());
    expect(status).toEqual({ ...expired.status, token: { ...expired.status?.token, revoked: true } });
    expect(transition).toBeUndefined();

    // Whatever a pass observes, a final phase is never left.
    const leasedAgain = checkoutStatus(expired, { kind: 'Leased', repo }, new Date());
    expect(leasedAgain.status.phase).toBe('Expired');
    expect(leasedAgain.transition).toBeUndefined();
  });

  it('keeps the phase when the forge is not configured, or failed, saying why', () => {
    const notConfigured = checkoutStatus(active, { kind: 'NotConfigured', message: 'no --gitea-url' }, LATER);
    expect(notConfigured.status).toMatchObject({ phase: 'Active', credentialsSecret: secretNameOf(active) });
    expect(ready(notConfigured.status)).toMatchObject({ status: 'False', reason: 'NotConfigured' });
    expect(notConfigured.transition).toBeUndefined();
    expect(checkoutStatus(checkout(), { kind: 'NotConfigured', message: 'x' }, NOW).transition).toMatchObject(
      {
        type: 'Warning',
        reason: 'Pending',
      },
    );

    // A checkin that failed after revoking the token records the revocation all the same.
    const failed = checkoutStatus(
      checkedIn(active),
      { kind: 'Failed', message: 'Gitea: opening a pull request failed', revoked: true },
      LATER,
    );
    expect(failed.status).toMatchObject({ phase: 'Active', token: { revoked: true } });
    expect(ready(failed.status)).toMatchObject({ status: 'False', reason: 'GitError' });
  });
});
