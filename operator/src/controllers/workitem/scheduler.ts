// The scheduler: one pass binds waiting WorkItems to live workers with free slots, in the order
// work/plan.ts decides. A binding is a status write (phase Scheduled, status.worker, one more
// attempt) preconditioned on the resourceVersion the pass read; the worker watches the items
// whose status.worker names it (a field selector), so that one write is the whole binding. Bindings the cache does not show yet are remembered ("assumed", as kube-scheduler
// does), so back-to-back passes never overfill a worker.
import type { Logger } from 'pino';
import { WORK_ITEMS } from '../../api/resources.ts';
import { canonicalOf, idempotencyGroup } from '../../queue/idempotency.ts';
import { itemKey, queued, scheduled, waitMs } from '../../queue/lifecycle.ts';
import { type Binding, type Candidate, type Limits, plan } from '../../queue/plan.ts';
import { patchStatus } from '../../queue/status-patch.ts';
import { isConflict, isNotFound, type KubeClient } from '../../runtime/client.ts';
import type { Result } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { Store } from '../../runtime/store.ts';
import { projectKeyOf } from '../../shared/project-index.ts';
import { isBound, isWaiting, type LiveWorkItem } from '../../shared/work-phases.ts';
import { type PoolStatus, poolStatus, type WorkerPool } from '../../shared/worker-pool.ts';

export const IDEMPOTENCY_INDEX = 'idempotencyGroup';
/** The scheduler's one work-queue key. */
export const POOL_KEY = 'pool';

/** Writes at once per pass: enough to keep up with bursts, not enough to flood the API server. */
const WRITE_CONCURRENCY = 16;

export interface SchedulerDeps {
  client: KubeClient;
  items: Store<LiveWorkItem>;
  pool: WorkerPool;
  limits: Limits;
  fieldManager: string;
  events: EventRecorder;
  /** The Pod an attempt runs in (claimed or created now), or undefined when it needs none. */
  podFor?: (item: LiveWorkItem, attempt: number) => Promise<string | undefined>;
  /** Told the pool's figures after each pass (metrics, the shim's /workers/pool). */
  onPoolStatus?: (status: PoolStatus) => void;
  now?: () => Date;
}

export function scheduler(deps: SchedulerDeps) {
  const now = deps.now ?? (() => new Date());
  const lastServed = new Map<string, number>();
  let serial = 0;
  /** key → the binding written, until the cache shows a newer version than the one it replaced. */
  const assumed = new Map<string, { worker: string; project: string; replacedVersion?: string }>();

  return async function pass(_key: string, ctx: { log: Logger }): Promise<Result | undefined> {
    const at = now();
    const items = deps.items.list();
    const boundByWorker = new Map<string, number>();
    const boundByProject = new Map<string, number>();
    let boundTotal = 0;
    const count = (worker: string, project: string) => {
      boundByWorker.set(worker, (boundByWorker.get(worker) ?? 0) + 1);
      boundByProject.set(project, (boundByProject.get(project) ?? 0) + 1);
      boundTotal++;
    };

    const candidates: Candidate[] = [];
    const unqueued: LiveWorkItem[] = [];
    let nextWakeMs: number | undefined;
    for (const item of items) {
      const key = itemKey(item);
      const guess = assumed.get(key);
      if (guess && item.metadata.resourceVersion === guess.replacedVersion) {
        count(guess.worker, guess.project); // our binding, not in the cache yet
        continue;
      }
      assumed.delete(key);
      if (isBound(item)) {
        count(item.status?.worker ?? '', projectKeyOf(item));
        continue;
      }
      if (!isWaiting(item) || item.spec.cancel || item.metadata.deletionTimestamp) continue;
      if (item.status?.duplicateOf || !isCanonical(item)) continue;
      const wait = waitMs(item, at);
      if (wait > 0) {
        nextWakeMs = Math.min(nextWakeMs ?? wait, wait);
        continue;
      }
      candidates.push({
        key,
        project: projectKeyOf(item),
        priority: item.spec.priority,
        age: `${item.metadata.creationTimestamp ?? ''}/${item.metadata.name}`,
      });
      if (!item.status?.phase) unqueued.push(item);
    }

    const alive = deps.pool.alive();
    const bindings = plan({
      candidates,
      workers: alive.map((w) => ({ name: w.name, free: w.capacity - (boundByWorker.get(w.name) ?? 0) })),
      boundByProject,
      boundTotal,
      limits: deps.limits,
      lastServed,
    });
    for (const b of bindings) lastServed.set(b.project, ++serial);

    const byKey = new Map(items.map((i) => [itemKey(i), i]));
    const boundKeys = new Set(bindings.map((b) => b.key));
    const bind = async (b: Binding, item: LiveWorkItem) => {
      assumed.set(b.key, {
        worker: b.worker,
        project: b.project,
        replacedVersion: item.metadata.resourceVersion,
      });
      try {
        const pod = await deps.podFor?.(item, (item.status?.attempts ?? 0) + 1);
        const written = await patchStatus(
          deps.client,
          item,
          { ...scheduled(item, b.worker, at), runner: pod ? { podName: pod } : null },
          deps.fieldManager,
        );
        void deps.events.record(written, WORK_ITEMS, {
          type: 'Normal',
          reason: 'Scheduled',
          action: 'Bind',
          note: `attempt ${written.status?.attempts} bound to worker ${b.worker}`,
        });
      } catch (err) {
        assumed.delete(b.key);
        // Changed or deleted since the pass read it: its own event brings another pass.
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    };
    const writes: (() => Promise<void>)[] = bindings.flatMap((b) => {
      const item = byKey.get(b.key);
      return item ? [() => bind(b, item)] : []; // plan() binds only the candidates it was given
    });
    // New items that must wait get their phase, so `kubectl get` says why nothing happens.
    const reason = alive.length === 0 ? 'waiting for a worker (none is alive)' : 'waiting for a free worker';
    for (const item of unqueued.filter((i) => !boundKeys.has(itemKey(i)))) {
      writes.push(async () => {
        await patchStatus(deps.client, item, queued(item, reason, at), deps.fieldManager).catch((err) => {
          if (!isConflict(err) && !isNotFound(err)) throw err;
        });
      });
    }
    await runLimited(writes, WRITE_CONCURRENCY);

    deps.onPoolStatus?.(
      poolStatus(
        alive,
        new Map([...boundByWorker].map(([w, n]) => [w, n + bindings.filter((b) => b.worker === w).length])),
        candidates.length - bindings.length,
      ),
    );
    if (bindings.length > 0)
      ctx.log.debug(
        { bound: bindings.length, waiting: candidates.length - bindings.length },
        'scheduling pass',
      );
    // Timers: the next retry becoming due, and a live worker expiring (its slots vanish).
    const expiries = alive.map((w) => deps.pool.remainingMs(w.name)).filter((ms) => ms > 0);
    const wake = Math.min(nextWakeMs ?? Number.POSITIVE_INFINITY, ...expiries);
    return Number.isFinite(wake) ? { requeueAfter: wake + 1 } : undefined;
  };

  function isCanonical(item: LiveWorkItem): boolean {
    const group = idempotencyGroup(item);
    if (!group) return true;
    return canonicalOf(deps.items.byIndex(IDEMPOTENCY_INDEX, group))?.metadata.uid === item.metadata.uid;
  }
}

async function runLimited(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const lane = async () => {
    for (let task = tasks[next++]; task; task = tasks[next++]) await task().catch((err) => errors.push(err));
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  if (errors.length > 0) throw errors[0];
}
