// Wires the work queue into a manager: the workers' heartbeat Leases (in the worker namespace
// only) feed the pool; the scheduler (one key, so bursts coalesce into one pass) binds items;
// the item controller handles duplicates, cancellation, lost workers and TTLs.
import { Gauge } from 'prom-client';
import { WORK_ITEMS } from '../../api/resources.ts';
import type { OperatorConfig } from '../../config.ts';
import { idempotencyGroup } from '../../queue/idempotency.ts';
import type { KubeObject } from '../../runtime/client.ts';
import type { Manager } from '../../runtime/manager.ts';
import { LEASES } from '../../runtime/resources.ts';
import { isBound, type LiveWorkItem } from '../../shared/work-phases.ts';
import { WORKER_LEASE_SELECTOR } from '../../shared/worker-names.ts';
import { type LeaseObject, type PoolStatus, WorkerPool } from '../../shared/worker-pool.ts';
import { itemReconciler } from './item.ts';
import { IDEMPOTENCY_INDEX, POOL_KEY, scheduler } from './scheduler.ts';

const WORKER_INDEX = 'worker';

/** The pool's latest figures, for the shim's GET /workers/pool. */
export interface PoolView {
  status(): PoolStatus;
}

export function registerWorkControllers(manager: Manager, config: OperatorConfig): PoolView {
  manager.configureInformer(LEASES, {
    namespaces: [config.workerNamespace],
    labelSelector: WORKER_LEASE_SELECTOR,
  });
  manager.configureInformer(WORK_ITEMS, {
    indexers: {
      [IDEMPOTENCY_INDEX]: (o) => {
        const group = idempotencyGroup(o as LiveWorkItem);
        return group ? [group] : [];
      },
      [WORKER_INDEX]: (o) => {
        const item = o as LiveWorkItem;
        return isBound(item) && item.status?.worker ? [item.status.worker] : [];
      },
    },
  });
  const leases = manager.informer<LeaseObject>(LEASES);
  const items = manager.informer<LiveWorkItem>(WORK_ITEMS);
  const pool = new WorkerPool();
  leases.on({
    add: (l) => pool.observe(l),
    update: (_, l) => pool.observe(l),
    delete: (l) => pool.forget(l),
  });

  let latest: PoolStatus = { workers: 0, capacity: 0, busy: 0, idle: 0, queued: 0 };
  const gauges = Object.fromEntries(
    (['workers', 'capacity', 'busy', 'idle', 'queued'] as const).map((field) => [
      field,
      new Gauge({
        name: `rdev_worker_pool_${field}`,
        help: {
          workers: 'Workers alive (heartbeat Lease renewed)',
          capacity: 'WorkItems the live workers can run at once',
          busy: 'Slots holding a Scheduled or Running WorkItem',
          idle: 'Free slots',
          queued: 'WorkItems ready to run and waiting for a slot',
        }[field],
        registers: [manager.metrics.registry],
      }),
    ]),
  ) as Record<keyof PoolStatus, Gauge>;

  manager
    .controller('workitem-scheduler')
    .watches(WORK_ITEMS, () => [POOL_KEY])
    .watches(LEASES, () => [POOL_KEY])
    .complete(
      scheduler({
        client: manager.client,
        items: items.store,
        pool,
        limits: { maxRunning: config.maxRunning, maxRunningPerProject: config.maxRunningPerProject },
        fieldManager: manager.fieldManager,
        events: manager.events,
        onPoolStatus: (status) => {
          latest = status;
          for (const [field, gauge] of Object.entries(gauges)) gauge.set(status[field as keyof PoolStatus]);
        },
      }),
    );

  const keyOf = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  manager
    .controller('workitem')
    .for(WORK_ITEMS)
    // A change to one item of an idempotency group concerns its duplicates.
    .watches(WORK_ITEMS, (o) => {
      const group = idempotencyGroup(o as LiveWorkItem);
      return group ? items.store.byIndex(IDEMPOTENCY_INDEX, group).map(keyOf) : [];
    })
    // A worker's Lease changing (or vanishing) concerns the items bound to it.
    .watches(LEASES, (lease) => {
      const worker = (lease as LeaseObject).spec?.holderIdentity;
      return worker ? items.store.byIndex(WORKER_INDEX, worker).map(keyOf) : [];
    })
    .withWorkers(config.workers)
    .complete(
      itemReconciler({
        client: manager.client,
        items: items.store,
        pool,
        fieldManager: manager.fieldManager,
        events: manager.events,
        poolSynced: () => leases.hasSynced,
      }),
    );

  return { status: () => latest };
}
