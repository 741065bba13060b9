// The pure parts of a Checkout: its names, when its lease ends, what phase it is in and the
// status that says so.
import type { CheckoutStatus } from '../../api/v1alpha1/checkout.ts';
import { parseDuration } from '../../api/v1alpha1/duration.ts';
import type { LiveCheckout } from '../../api/v1alpha1/index.ts';
import { type Condition, setCondition } from '../../runtime/conditions.ts';
import { boundedName, shortHash } from '../../shared/naming.ts';

export const FINALIZER = 'rdev.dev/checkout-token';
export const FIELD_MANAGER = 'rdev-checkout';

export const branchOf = (co: LiveCheckout) => co.spec.branch ?? `checkout/${co.metadata.name}`;
export const secretNameOf = (co: LiveCheckout) => boundedName(co.metadata.name, 'git-credentials', 253);
/** Unique per Checkout object (a recreated Checkout gets another), within Gitea's 255 characters. */
export const tokenNameOf = (co: LiveCheckout) =>
  `${`rdev-${co.metadata.namespace}-${co.metadata.name}`.slice(0, 200)}-${shortHash(co.metadata.uid, 10)}`;

/** When the credentials end: creation plus spec.ttl (fixed, whatever happens meanwhile). */
export function expiresAt(co: LiveCheckout): Date {
  const ttl = parseDuration(co.spec.ttl) ?? 4 * 3_600_000;
  return new Date(Date.parse(co.metadata.creationTimestamp) + ttl);
}

export const FINAL_PHASES: ReadonlySet<string> = new Set(['Merged', 'Closed', 'Expired']);

/** The next status: `patch` over the current one, the Ready condition following the phase. */
export function nextStatus(
  co: LiveCheckout,
  patch: Partial<CheckoutStatus>,
  ready: { status: 'True' | 'False'; reason: string; message: string },
  now: Date,
): CheckoutStatus {
  const current = co.status ?? {};
  const conditions: Condition[] = setCondition(
    current.conditions ?? [],
    { type: 'Ready', ...ready, observedGeneration: co.metadata.generation as number | undefined },
    now,
  );
  return {
    ...current,
    ...patch,
    observedGeneration: co.metadata.generation as number | undefined,
    conditions,
  };
}
