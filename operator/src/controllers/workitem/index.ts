// Wires the work queue into a manager: the workers' heartbeat Leases (in the worker namespace
// only) feed the pool; the scheduler (one key, so bursts coalesce into one pass) binds items;
// the item controller handles duplicates, cancellation, lost workers and TTLs.
import { Gauge } from 'prom-client';
import { PROJECTS, WORK_ITEMS } from '../../api/resources.ts';
import { type LiveProject, parseWorkItem } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { idempotencyGroup } from '../../queue/idempotency.ts';
import type { KubeObject } from '../../runtime/client.ts';
import type { Manager } from '../../runtime/manager.ts';
import { LEASES, PODS, type Pod, SECRETS } from '../../runtime/resources.ts';
import { PROJECT_INDEX, projectKeyOf } from '../../shared/project-index.ts';
import { isBound, type LiveWorkItem } from '../../shared/work-phases.ts';
import { WORKER_LEASE_SELECTOR } from '../../shared/worker-names.ts';
import { type LeaseObject, type PoolStatus, WorkerPool } from '../../shared/worker-pool.ts';
import type { SecretView } from '../project/reconcile.ts';
import { runnerClaims } from '../runner/claim.ts';
import { registerRunnerController } from '../runner/index.ts';
import { itemReconciler } from './item.ts';
import { pullRequestOpener } from './pull-request.ts';
import { IDEMPOTENCY_INDEX, POOL_KEY, scheduler } from './scheduler.ts';

const WORKER_INDEX = 'worker';
const POOL_FIELDS: readonly (keyof PoolStatus)[] = ['workers', 'capacity', 'busy', 'idle', 'queued'];

/** The pool's latest figures, for the shim's GET /workers/pool. */
export interface PoolView {
  status(): PoolStatus;
}

/**
 * Registers the scheduler, the item controller and the runner pool. Runners are built from the
 * Project controller's informers (Projects, Pods, Secrets' key names): register it first.
 */
export function registerWorkControllers(manager: Manager, config: OperatorConfig): PoolView {
  const leases = manager.configureInformer<LeaseObject>(LEASES, {
    namespaces: [config.workerNamespace],
    labelSelector: WORKER_LEASE_SELECTOR,
  });
  const items = manager.configureInformer(WORK_ITEMS, {
    parse: parseWorkItem,
    indexers: {
      [IDEMPOTENCY_INDEX]: (item) => {
        const group = idempotencyGroup(item);
        return group ? [group] : [];
      },
      [WORKER_INDEX]: (item) => (isBound(item) && item.status?.worker ? [item.status.worker] : []),
      [PROJECT_INDEX]: (item) => [projectKeyOf(item)],
    },
  });
  const pool = new WorkerPool();
  leases.on({
    add: (l) => pool.observe(l),
    update: (_, l) => pool.observe(l),
    delete: (l) => pool.forget(l),
  });

  let latest: PoolStatus = { workers: 0, capacity: 0, busy: 0, idle: 0, queued: 0 };
  const gauge = (field: keyof PoolStatus, help: string) =>
    new Gauge({ name: `rdev_worker_pool_${field}`, help, registers: [manager.metrics.registry] });
  const gauges: Record<keyof PoolStatus, Gauge> = {
    workers: gauge('workers', 'Workers alive (heartbeat Lease renewed)'),
    capacity: gauge('capacity', 'WorkItems the live workers can run at once'),
    busy: gauge('busy', 'Slots holding a Scheduled or Running WorkItem'),
    idle: gauge('idle', 'Free slots'),
    queued: gauge('queued', 'WorkItems ready to run and waiting for a slot'),
  };

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
        podFor: runnerClaims({
          client: manager.client,
          config,
          projects: manager.informer<LiveProject>(PROJECTS).store,
          pods: manager.informer<Pod>(PODS).store,
          secrets: manager.informer<SecretView>(SECRETS).store,
          fieldManager: manager.fieldManager,
        }),
        onPoolStatus: (status) => {
          latest = status;
          for (const field of POOL_FIELDS) gauges[field].set(status[field]);
        },
      }),
    );

  const keyOf = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  manager
    .controller('workitem')
    .for(WORK_ITEMS)
    // A change to one item of an idempotency group concerns its duplicates.
    .watches<LiveWorkItem>(WORK_ITEMS, (item) => {
      const group = idempotencyGroup(item);
      return group ? items.store.byIndex(IDEMPOTENCY_INDEX, group).map(keyOf) : [];
    })
    // A worker's Lease changing (or vanishing) concerns the items bound to it.
    .watches<LeaseObject>(LEASES, (lease) => {
      const worker = lease.spec?.holderIdentity;
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
        openPullRequest: pullRequestOpener({
          client: manager.client,
          config,
          projects: manager.informer<LiveProject>(PROJECTS).store,
        }),
      }),
    );

  registerRunnerController(manager, config);
  return { status: () => latest };
}
