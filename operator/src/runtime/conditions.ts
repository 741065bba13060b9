// Conditions with the semantics of apimachinery's meta.SetStatusCondition: one per type, and
// lastTransitionTime moves only when the status flips.

/** metav1.Condition. The runtime knows Kubernetes, not rdev: api/ declares the schema to match. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}
export type ConditionStatus = Condition['status'];

/** What a controller says about a condition; the time is filled in by setCondition. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/** Returns a new list with `update` applied; the input is not changed. */
export function setCondition(
  conditions: readonly Condition[],
  update: ConditionUpdate,
  now: Date,
): Condition[] {
  const existing = conditions.find((c) => c.type === update.type);
  const lastTransitionTime =
    existing && existing.status === update.status ? existing.lastTransitionTime : now.toISOString();
  const next: Condition = { ...update, lastTransitionTime };
  return existing ? conditions.map((c) => (c.type === update.type ? next : c)) : [...conditions, next];
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}
