// A Checkout's status as a pure function of what one pass of the reconciler observed (and did).
// The phase machine:
//
//   Pending ──▶ Active ──▶ Review ──▶ Merged | Closed
//      │          └──────────▲
//      └─────────────────────┘                        (checkin, from Pending or Active)
//   Pending | Active ──▶ Expired                      (at the TTL, unless checked in)
//
// Merged, Closed and Expired are final: a Checkout never leaves them. What earlier passes
// recorded (the token's name, whether it is revoked, the pull request, the branch) is kept unless
// this pass has something newer to say; the Ready condition follows the phase.
import type { CheckoutStatus } from '../../api/v1alpha1/checkout.ts';
import type { LiveCheckout, ProjectStatus } from '../../api/v1alpha1/index.ts';
import { type ConditionUpdate, findCondition, setCondition } from '../../runtime/conditions.ts';
import { branchOf, expiresAt, secretNameOf, tokenNameOf } from './names.ts';

export type CheckoutPhase = NonNullable<CheckoutStatus['phase']>;

export const FINAL_PHASES: ReadonlySet<string> = new Set<CheckoutPhase>(['Merged', 'Closed', 'Expired']);
export const isFinal = (phase: string | undefined) => phase !== undefined && FINAL_PHASES.has(phase);

/** The Project's repository, once it has one. */
export interface RepoView {
  owner: string;
  name: string;
  /** owner/name */
  fullName: string;
  cloneURL: string;
}

/** The repository a Project's status records (status.repo); undefined until it has one. */
export function repoOf(recorded: ProjectStatus['repo']): RepoView | undefined {
  const fullName = recorded?.fullName ?? '';
  const cloneURL = recorded?.cloneURL;
  const [owner, name] = fullName.split('/');
  if (!owner || !name || !cloneURL) return undefined;
  return { owner, name, fullName, cloneURL };
}

/** The pull request a checkin opened, as the forge reports it. */
export interface PullRequestView {
  number: number;
  url: string;
  merged: boolean;
  closed: boolean;
}

/** What one pass found out, in the order the reconciler looks. */
export type Observation =
  /** The forge is not configured (the message says what is missing). */
  | { kind: 'NotConfigured'; message: string }
  /** The Checkout was already in a final phase; the pass only revoked a token left alive. */
  | { kind: 'Ended' }
  /** The Project has no repository (yet). */
  | { kind: 'WaitingForRepository' }
  | { kind: 'BaseBranchNotFound'; repo: RepoView }
  /** The token's name is now on record; the next pass creates the token. */
  | { kind: 'Leasing' }
  /** The branch exists and the credentials Secret holds a token of the Project's identity. */
  | { kind: 'Leased'; repo: RepoView }
  /** The TTL has passed; the token is revoked. */
  | { kind: 'Expired' }
  /** spec.checkin is set: the token is revoked and the pull request is this one (undefined: gone). */
  | { kind: 'CheckedIn'; pullRequest: PullRequestView | undefined }
  /** The forge failed this pass. */
  | { kind: 'Failed'; message: string };

export type CheckoutObserved = Observation & {
  /** The token on record was revoked in this pass. */
  revoked?: boolean;
};

export interface Transition {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

type Ready = Omit<ConditionUpdate, 'type' | 'observedGeneration'>;

interface Step {
  phase: CheckoutPhase;
  ready: Ready;
  /** Fields this pass sets; the others keep their recorded values. */
  fields?: Omit<CheckoutStatus, 'phase' | 'conditions' | 'observedGeneration'>;
}

const notReady = (reason: string, message: string): Ready => ({ status: 'False', reason, message });

/** The Ready condition as recorded, for a pass that has nothing new to say about it. */
function recordedReady(co: LiveCheckout): Ready {
  const ready = findCondition(co.status?.conditions, 'Ready');
  return {
    status: ready?.status ?? 'False',
    reason: ready?.reason ?? co.status?.phase ?? 'Unknown',
    message: `${ready?.message ?? ''}`.trim() || 'the credentials are revoked',
  };
}

function pullRequestStep(co: LiveCheckout, pr: PullRequestView | undefined): Step {
  if (!pr) return { phase: 'Closed', ready: notReady('Closed', 'the pull request is gone') };
  const pullRequest = { number: pr.number, url: pr.url };
  if (pr.merged) {
    const branch = `branch ${branchOf(co)} ${co.spec.keepBranch ? 'kept' : 'deleted'}`;
    return {
      phase: 'Merged',
      ready: {
        status: 'True',
        reason: 'Merged',
        message: `pull request #${pr.number} was merged; ${branch}`,
      },
      fields: { pullRequest },
    };
  }
  if (pr.closed) {
    return {
      phase: 'Closed',
      ready: notReady('Closed', `pull request #${pr.number} was closed unmerged`),
      fields: { pullRequest },
    };
  }
  return {
    phase: 'Review',
    ready: notReady('Review', `pull request #${pr.number} awaits review; the credentials are revoked`),
    fields: { pullRequest },
  };
}

/** The phase this pass leads to, the Ready condition saying why, and the fields it records. */
function step(co: LiveCheckout, observed: Observation): Step {
  const current = co.status?.phase;
  const expires = expiresAt(co).toISOString();
  switch (observed.kind) {
    case 'NotConfigured':
      return { phase: current ?? 'Pending', ready: notReady('NotConfigured', observed.message) };
    case 'Failed':
      return { phase: current ?? 'Pending', ready: notReady('GitError', observed.message) };
    case 'Ended':
      return { phase: current ?? 'Pending', ready: recordedReady(co) };
    case 'WaitingForRepository':
      return {
        phase: 'Pending',
        ready: notReady('WaitingForRepository', `Project ${co.spec.projectRef.name} has no repository yet`),
      };
    case 'BaseBranchNotFound':
      return {
        phase: 'Pending',
        ready: notReady(
          'BaseBranchNotFound',
          `base branch ${co.spec.baseBranch} does not exist in ${observed.repo.fullName}`,
        ),
      };
    case 'Leasing':
      return {
        phase: 'Pending',
        ready: notReady('Leasing', 'creating the credentials'),
        fields: { token: { name: tokenNameOf(co) } },
      };
    case 'Leased': {
      const branch = branchOf(co);
      return {
        phase: 'Active',
        ready: {
          status: 'True',
          reason: 'Active',
          message: `branch ${branch} of ${observed.repo.fullName} is leased until ${expires}`,
        },
        fields: {
          branch,
          cloneURL: observed.repo.cloneURL,
          credentialsSecret: secretNameOf(co),
          expiresAt: expires,
          token: { name: tokenNameOf(co) },
        },
      };
    }
    case 'Expired':
      return { phase: 'Expired', ready: notReady('Expired', `the credentials were revoked at ${expires}`) };
    case 'CheckedIn':
      return pullRequestStep(co, observed.pullRequest);
  }
}

/**
 * The whole status after this pass, and the transition to report as an Event when the phase
 * changed. A final phase is kept whatever the pass observed.
 */
export function checkoutStatus(
  co: LiveCheckout,
  observed: CheckoutObserved,
  now: Date,
): { status: CheckoutStatus; transition?: Transition } {
  const current = co.status ?? {};
  const next = step(co, observed);
  const phase = current.phase && isFinal(current.phase) ? current.phase : next.phase;
  const generation = typeof co.metadata.generation === 'number' ? co.metadata.generation : undefined;
  const token = current.token && observed.revoked ? { ...current.token, revoked: true } : current.token;
  const status: CheckoutStatus = {
    ...current,
    ...(token ? { token } : {}),
    ...next.fields,
    phase,
    observedGeneration: generation,
    conditions: setCondition(
      current.conditions ?? [],
      { type: 'Ready', ...next.ready, observedGeneration: generation },
      now,
    ),
  };
  if (phase === current.phase) return { status };
  // Waiting is worth a warning; a review, and an end, are what a Checkout is for.
  const warning = next.ready.status === 'False' && phase !== 'Review' && !isFinal(phase);
  return {
    status,
    transition: { type: warning ? 'Warning' : 'Normal', reason: phase, note: next.ready.message },
  };
}
