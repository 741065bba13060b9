import { isFinished, type LiveWorkItem } from '../shared/work-phases.ts';
// Idempotency keys: of the WorkItems of one Project sharing a key, one runs (the canonical) and
// the others mirror its outcome. The canonical is the one that started first; before any has
// started, the oldest. That order makes the choice stable: once an item has been bound, a
// late-arriving older twin (seen after the binding) can never run a second time.

/** Groups items by namespace, Project and key; items without a key are not grouped. */
export const idempotencyGroup = (item: LiveWorkItem) =>
  item.spec.idempotencyKey
    ? `${item.metadata.namespace}/${item.spec.projectRef.name}/${item.spec.idempotencyKey}`
    : undefined;

const started = (item: LiveWorkItem) => (item.status?.attempts ?? 0) > 0;
const age = (item: LiveWorkItem) => `${item.metadata.creationTimestamp ?? ''}/${item.metadata.name}`;

/** The item of a group that runs; undefined when none can (all deleted, or cancelled before starting). */
export function canonicalOf(group: readonly LiveWorkItem[]): LiveWorkItem | undefined {
  const candidates = group.filter(
    (i) => !i.metadata.deletionTimestamp && !i.status?.duplicateOf && !(isFinished(i) && !started(i)), // cancelled before it ever ran: it did not take the key
  );
  const ordered = [...candidates].sort((a, b) => {
    if (started(a) !== started(b)) return started(a) ? -1 : 1;
    const [x, y] = [age(a), age(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return ordered[0];
}
