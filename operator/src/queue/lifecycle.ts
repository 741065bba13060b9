// The WorkItem state machine, as pure functions shared by the scheduler and the workers:
//   (new) → Queued → Scheduled → Running → Succeeded | Failed | Cancelled
// A failed attempt with attempts left goes back to Queued with nextAttemptAt; a lost worker's
// items count as a failed attempt. Every transition is a status patch computed here.

import { durationMs } from '../api/v1alpha1/duration.ts';
import { type WorkItemSpec, type WorkItemStatus, workItemStatus } from '../api/v1alpha1/index.ts';
import { setCondition } from '../runtime/conditions.ts';
import { isFinished, type LiveWorkItem, type WorkPhase } from '../shared/work-phases.ts';

/** Status fields a transition sets; `null` clears a field (merge-patch semantics). */
export type StatusPatch = { [K in keyof WorkItemStatus]?: WorkItemStatus[K] | null };

/** Every field of a WorkItem's status, as its schema declares them. */
const STATUS_FIELDS = workItemStatus.keyof().options;

/** Keeps at most this much of an attempt's output in status (the rest is in the worker's log). */
export const OUTPUT_TAIL_BYTES = 64 * 1024;
export const MAX_RETRY_DELAY_MS = 10 * 60_000;

export const itemKey = (item: LiveWorkItem) => `${item.metadata.namespace}/${item.metadata.name}`;

/** Delay before attempt `attempts + 1`: retryBackoff, doubled per failed attempt, capped. */
export function retryDelayMs(spec: Pick<WorkItemSpec, 'retryBackoff'>, attempts: number): number {
  const base = durationMs(spec.retryBackoff);
  return Math.min(MAX_RETRY_DELAY_MS, base * 2 ** Math.max(0, attempts - 1));
}

export const timeoutMs = (spec: Pick<WorkItemSpec, 'timeout'>) => durationMs(spec.timeout);

/** The Ready condition mirrors the phase: True once Succeeded, False with the phase as reason. */
function withPhase(item: LiveWorkItem, phase: WorkPhase, message: string, now: Date): StatusPatch {
  const conditions = setCondition(
    item.status?.conditions ?? [],
    { type: 'Ready', status: phase === 'Succeeded' ? 'True' : 'False', reason: phase, message },
    now,
  );
  return { phase, message, conditions, observedGeneration: item.metadata.generation };
}

export function queued(item: LiveWorkItem, message: string, now: Date): StatusPatch {
  return { ...withPhase(item, 'Queued', message, now), attempts: item.status?.attempts ?? 0 };
}

/** The binding the scheduler writes: a new attempt on `worker`. */
export function scheduled(item: LiveWorkItem, worker: string, now: Date): StatusPatch {
  const attempt = (item.status?.attempts ?? 0) + 1;
  return {
    ...withPhase(item, 'Scheduled', `attempt ${attempt} bound to worker ${worker}`, now),
    worker,
    attempts: attempt,
    nextAttemptAt: null,
  };
}

export function running(item: LiveWorkItem, now: Date): StatusPatch {
  const attempt = item.status?.attempts ?? 1;
  return {
    ...withPhase(item, 'Running', `attempt ${attempt} running on worker ${item.status?.worker}`, now),
    startedAt: now.toISOString(),
    finishedAt: null,
    exitCode: null,
    outputTail: null,
  };
}

/** How an attempt ended. */
export type Outcome =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'timedOut' }
  /** The worker lost the item (it died, restarted or was partitioned) or could not start it. */
  | { kind: 'lost'; reason: string }
  /** What retrying cannot fix (e.g. nothing to run for the item's type). */
  | { kind: 'unrunnable'; reason: string }
  | { kind: 'cancelled'; reason: string };

/** The status after an attempt: Succeeded, Cancelled, retried (Queued) or Failed. */
export function afterAttempt(
  item: LiveWorkItem,
  outcome: Outcome,
  now: Date,
  result: { outputTail?: string } = {},
): StatusPatch {
  const attempts = item.status?.attempts ?? 1;
  const tail = result.outputTail === undefined ? {} : { outputTail: result.outputTail };
  const exitCode = outcome.kind === 'exited' ? { exitCode: outcome.exitCode } : {};
  const finished = (phase: WorkPhase, message: string): StatusPatch => ({
    ...withPhase(item, phase, message, now),
    ...tail,
    ...exitCode,
    finishedAt: now.toISOString(),
    nextAttemptAt: null,
  });
  if (outcome.kind === 'exited' && outcome.exitCode === 0) return finished('Succeeded', 'exited with code 0');
  if (outcome.kind === 'cancelled' || item.spec.cancel)
    return finished('Cancelled', outcome.kind === 'cancelled' ? outcome.reason : 'cancelled');
  const why = describe(outcome, item);
  if (outcome.kind === 'unrunnable') return finished('Failed', why);
  if (attempts >= item.spec.maxAttempts)
    return finished('Failed', `${why}; no attempts left (${attempts} of ${item.spec.maxAttempts})`);
  const next = new Date(now.getTime() + retryDelayMs(item.spec, attempts));
  return {
    ...withPhase(
      item,
      'Queued',
      `attempt ${attempts} of ${item.spec.maxAttempts}: ${why}; retrying at ${next.toISOString()}`,
      now,
    ),
    ...tail,
    ...exitCode,
    worker: null,
    finishedAt: null,
    nextAttemptAt: next.toISOString(),
  };
}

function describe(outcome: Outcome, item: LiveWorkItem): string {
  switch (outcome.kind) {
    case 'exited':
      return `exited with code ${outcome.exitCode}`;
    case 'timedOut':
      return `timed out after ${item.spec.timeout}`;
    default:
      return outcome.reason;
  }
}

/** Milliseconds until a Queued item may be bound again (0: now). */
export function waitMs(item: LiveWorkItem, now: Date): number {
  const at = item.status?.nextAttemptAt;
  return at ? Math.max(0, Date.parse(at) - now.getTime()) : 0;
}

/** Milliseconds until a finished item is deleted (0: due now), undefined when not finished. */
export function ttlRemainingMs(item: LiveWorkItem, now: Date): number | undefined {
  if (!isFinished(item)) return undefined;
  const finishedAt = Date.parse(item.status?.finishedAt ?? item.metadata.creationTimestamp ?? '');
  if (!Number.isFinite(finishedAt)) return 0;
  return Math.max(0, finishedAt + item.spec.ttlSecondsAfterFinished * 1000 - now.getTime());
}

/** Applies a patch to a status, as the API server's merge patch would. */
export function applyPatch(status: WorkItemStatus | undefined, patch: StatusPatch): WorkItemStatus {
  const next: WorkItemStatus = { ...status };
  const set = <K extends keyof WorkItemStatus>(key: K, value: StatusPatch[K]) => {
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value;
  };
  for (const key of STATUS_FIELDS) set(key, patch[key]);
  return next;
}

/** True when the patch would change nothing (the write can be skipped). */
export function isNoop(status: WorkItemStatus | undefined, patch: StatusPatch): boolean {
  const changed = STATUS_FIELDS.some((key) => {
    if (key === 'conditions') return false;
    const [current, v] = [status?.[key], patch[key]];
    return v === null
      ? current !== undefined
      : v !== undefined && JSON.stringify(current) !== JSON.stringify(v);
  });
  return !changed;
}
