// A Checkout's names and deadline: pure functions of the Checkout, stable across passes, so that
// the token and the credentials Secret a pass looks for are those an earlier pass made.
import { durationMs } from '../../api/v1alpha1/duration.ts';
import type { LiveCheckout } from '../../api/v1alpha1/index.ts';
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
  return new Date(Date.parse(co.metadata.creationTimestamp) + durationMs(co.spec.ttl));
}
