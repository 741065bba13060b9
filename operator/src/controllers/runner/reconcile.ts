// The runner pool of one Project: keeps its warm runners at size, deletes the runners whose
// attempt is over (one attempt per Pod, never reused), and reports status.runners. Runners are
// found through their owners: idle ones are owned by the Project, claimed ones by their WorkItem.
import type { Logger } from 'pino';
import { PROJECTS } from '../../api/resources.ts';
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { isConflict, isNotFound, type KubeClient } from '../../runtime/client.ts';
import type { Result } from '../../runtime/controller.ts';
import { PODS, type Pod } from '../../runtime/resources.ts';
import type { Store } from '../../runtime/store.ts';
import type { LiveWorkItem } from '../../shared/work-phases.ts';
import type { SecretView } from '../project/reconcile.ts';
import { runnersOf, runnerTemplate } from './claim.ts';
import { desiredRunnerPod } from './desired.ts';
import { FIELD_MANAGER, warmRunnerName } from './names.ts';
import { planPool } from './status.ts';

export interface RunnerPoolDeps {
  client: KubeClient;
  config: OperatorConfig;
  projects: Store<LiveProject>;
  pods: Store<Pod>;
  secrets: Store<SecretView>;
  /** The WorkItems of a Project, by its key namespace/name. */
  itemsOf: (projectKey: string) => LiveWorkItem[];
  now?: () => Date;
}

/** How long a created runner counts as on its way before the cache is trusted again. */
const EXPECT_MS = 60_000;
/**
 * status.runners is written at most this often per Project: under a burst the figures change with
 * every claim, and each write wakes every watcher of the Project. The pass after the window writes
 * what is true then (recomputed from the caches, nothing held in memory but the time).
 */
const STATUS_EVERY_MS = 1_000;

export function runnerPoolReconciler(deps: RunnerPoolDeps) {
  const now = deps.now ?? (() => new Date());
  /** Warm runners created per Project and not yet seen in the cache (ReplicaSet-style expectations). */
  const expected = new Map<string, Map<string, number>>();
  const lastStatus = new Map<string, number>();

  return async function reconcile(key: string, ctx: { log: Logger }): Promise<Result | undefined> {
    const project = deps.projects.get(key);
    // A Project being deleted takes its runners along (owner references): nothing to keep.
    if (!project || project.metadata.deletionTimestamp) {
      expected.delete(key);
      lastStatus.delete(key);
      return undefined;
    }
    const { namespace } = project.metadata;
    const at = now();
    const idle = runnersOf(deps.pods, project.metadata.uid);
    const pending = expected.get(key) ?? new Map<string, number>();
    for (const [name, since] of pending)
      if (deps.pods.get(`${namespace}/${name}`) || at.getTime() - since > EXPECT_MS) pending.delete(name);
    const template = runnerTemplate(project, deps.config, deps.secrets);
    const plan = planPool({
      project,
      runnable: template !== undefined,
      idle,
      items: deps.itemsOf(key).map((item) => ({ item, runners: runnersOf(deps.pods, item.metadata.uid) })),
      pending: pending.size,
      now: at,
      idleMs: deps.config.runnerIdleSeconds * 1000,
    });

    for (const runner of plan.remove) {
      await deps.client
        .delete(PODS, namespace, runner.metadata.name, { uid: runner.metadata.uid })
        .catch((err) => {
          // Gone already, or a new Pod of the same name (the uid precondition): not this one.
          if (!isNotFound(err) && !isConflict(err)) throw err;
        });
    }
    if (template) {
      for (let i = 0; i < plan.create; i++) {
        const name = warmRunnerName(project.metadata.name);
        pending.set(name, at.getTime());
        expected.set(key, pending);
        await deps.client.create(PODS, desiredRunnerPod(project, template, name)).catch((err) => {
          pending.delete(name);
          throw err;
        });
      }
      if (plan.create > 0) ctx.log.debug({ created: plan.create }, 'warm runners started');
    }

    let statusDueMs: number | undefined;
    const shown = project.status?.runners;
    if (shown?.warm !== plan.status.warm || shown?.busy !== plan.status.busy) {
      const since = at.getTime() - (lastStatus.get(key) ?? 0);
      if (since < STATUS_EVERY_MS) statusDueMs = STATUS_EVERY_MS - since;
      else {
        lastStatus.set(key, at.getTime());
        const patch = { status: { runners: plan.status } };
        await deps.client
          .patch(
            PROJECTS,
            namespace,
            project.metadata.name,
            patch,
            'merge',
            { fieldManager: FIELD_MANAGER },
            'status',
          )
          .catch((err) => {
            if (!isNotFound(err)) throw err;
          });
      }
    }
    const wake = Math.min(
      plan.requeueAfterMs ?? Number.POSITIVE_INFINITY,
      statusDueMs ?? Number.POSITIVE_INFINITY,
    );
    return Number.isFinite(wake) ? { requeueAfter: wake + 1 } : undefined;
  };
}
