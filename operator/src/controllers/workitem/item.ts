// The WorkItem controller: everything about one item that is not binding it to a worker.
//   - a duplicate (same idempotencyKey in the Project) mirrors its canonical item;
//   - cancel on an item no worker holds → Cancelled;
//   - an item bound to a worker that is lost (its Lease expired) → a failed attempt: Queued again
//     (or Failed when no attempts are left); the worker fences itself before that can happen;
//   - a succeeded item that pushed its work gets its pull request (opened as the Project's identity);
//   - a finished item is deleted ttlSecondsAfterFinished after it finished.
// Workers write Running and the outcome; this controller never touches an item a live worker holds.
import { WORK_ITEMS } from '../../api/resources.ts';
import { canonicalOf, idempotencyGroup } from '../../queue/idempotency.ts';
import { afterAttempt, applyPatch, isNoop, type StatusPatch, ttlRemainingMs } from '../../queue/lifecycle.ts';
import { patchStatus } from '../../queue/status-patch.ts';
import { isConflict, isNotFound, type KubeClient } from '../../runtime/client.ts';
import type { ReconcileContext, Result } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { Store } from '../../runtime/store.ts';
import { isBound, isFinished, isWaiting, type LiveWorkItem } from '../../shared/work-phases.ts';
import type { WorkerPool } from '../../shared/worker-pool.ts';
import { needsPullRequest, type OpenPullRequest } from './pull-request.ts';
import { IDEMPOTENCY_INDEX } from './scheduler.ts';

export interface ItemDeps {
  client: KubeClient;
  items: Store<LiveWorkItem>;
  pool: WorkerPool;
  fieldManager: string;
  events: EventRecorder;
  /** True once the worker Leases are cached: before that every worker would look lost. */
  poolSynced: () => boolean;
  openPullRequest: OpenPullRequest;
  now?: () => Date;
}

export function itemReconciler(deps: ItemDeps) {
  const now = deps.now ?? (() => new Date());

  return async function reconcile(key: string, _ctx: ReconcileContext): Promise<Result | undefined> {
    const item = deps.items.get(key);
    if (!item || item.metadata.deletionTimestamp) return undefined;
    const at = now();

    const duplicate = duplicateStatus(item, at);
    if (duplicate && !isNoop(item.status, duplicate))
      return write(item, duplicate, 'Duplicate', 'a WorkItem with the same idempotencyKey ran or runs');

    if (needsPullRequest(item)) {
      const pullRequest = await deps.openPullRequest(item);
      const git = { ...item.status?.git, pullRequest };
      return write(
        item,
        { git },
        'PullRequestOpened',
        `pull request #${pullRequest.number}: ${pullRequest.url}`,
      );
    }

    if (isFinished(item)) {
      const remaining = ttlRemainingMs(item, at) ?? 0;
      if (remaining > 0) return { requeueAfter: remaining };
      await deps.client
        .delete(WORK_ITEMS, item.metadata.namespace, item.metadata.name, { uid: item.metadata.uid })
        .catch((err) => {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        });
      return undefined;
    }

    if (isWaiting(item) && item.spec.cancel) {
      return write(
        item,
        afterAttempt(item, { kind: 'cancelled', reason: 'cancelled before it ran' }, at),
        'Cancelled',
        'cancelled before it ran',
      );
    }

    if (isBound(item)) {
      const worker = item.status?.worker ?? '';
      if (!deps.poolSynced()) return { requeueAfter: 1000 };
      const remaining = deps.pool.remainingMs(worker);
      if (remaining > 0) return { requeueAfter: remaining + 1 };
      const patch = afterAttempt(
        item,
        { kind: 'lost', reason: `worker ${worker} was lost (its Lease expired)` },
        at,
      );
      return write(
        item,
        patch,
        'WorkerLost',
        `worker ${worker} was lost during attempt ${item.status?.attempts}`,
        'Warning',
      );
    }
    return undefined;
  };

  async function write(
    item: LiveWorkItem,
    patch: StatusPatch,
    reason: string,
    note: string,
    type: 'Normal' | 'Warning' = 'Normal',
  ): Promise<Result | undefined> {
    if (isNoop(item.status, patch)) return undefined;
    try {
      const written = await patchStatus(deps.client, item, patch, deps.fieldManager);
      void deps.events.record(written, WORK_ITEMS, { type, reason, action: 'Update', note });
    } catch (err) {
      // Someone else (a worker, the scheduler) wrote first: their event brings us back.
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
    return undefined;
  }

  /** For a duplicate: its canonical item's phase and outcome; undefined for any other item. */
  function duplicateStatus(item: LiveWorkItem, at: Date): StatusPatch | undefined {
    const group = idempotencyGroup(item);
    if (!group) return undefined;
    const original = canonicalOf(deps.items.byIndex(IDEMPOTENCY_INDEX, group));
    if (original?.metadata.uid === item.metadata.uid) return undefined;
    if (!item.status?.duplicateOf) {
      // Only an item that never started can become a duplicate.
      if (!original || (item.status?.attempts ?? 0) > 0) return undefined;
    } else if (!original || original.metadata.name !== item.status.duplicateOf) {
      // Its original is gone: a finished mirror stays as it is; an unfinished one cannot finish.
      if (isFinished(item)) return undefined;
      return {
        ...afterAttempt(
          item,
          { kind: 'cancelled', reason: `${item.status.duplicateOf} was deleted before it finished` },
          at,
        ),
        duplicateOf: item.status.duplicateOf,
      };
    }
    const o = original.status ?? {};
    return applyPatch(item.status, {
      duplicateOf: original.metadata.name,
      phase: o.phase ?? 'Queued',
      message: `duplicate of ${original.metadata.name} (same idempotencyKey): ${o.message ?? 'queued'}`,
      exitCode: o.exitCode ?? null,
      startedAt: o.startedAt ?? null,
      finishedAt: o.finishedAt ?? null,
      conditions: o.conditions ?? [],
      observedGeneration: item.metadata.generation,
    });
  }
}
