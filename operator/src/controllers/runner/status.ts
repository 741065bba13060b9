// What a Project's runner pool should do now, as a pure function of what the caches show: how
// many warm runners to start or stop, which claimed runners served an attempt that is over, and
// the figures for the Project's status.runners.
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import type { Pod } from '../../runtime/resources.ts';
import { isFinished, type LiveWorkItem } from '../../shared/work-phases.ts';
import { isPodReady } from '../session/status.ts';
import { ATTEMPT_LABEL, WORK_ITEM_LABEL } from './names.ts';

export interface PoolInput {
  project: LiveProject;
  /** Whether the Project may run Pods now (not suspended, credentials usable). */
  runnable: boolean;
  /** The Project's idle runners (owned by it, not claimed). */
  idle: Pod[];
  /** Each WorkItem of the Project with the runners it owns. */
  items: { item: LiveWorkItem; runners: Pod[] }[];
  /** Warm runners created and not yet in the cache. */
  pending: number;
  now: Date;
  /** --runner-idle: how long after its last WorkItem a Project keeps one warm runner by default. */
  idleMs: number;
}

export interface PoolPlan {
  /** Warm runners to create. */
  create: number;
  /** Runners to delete: surplus idle ones, broken ones, those whose attempt is over. */
  remove: Pod[];
  status: { warm: number; busy: number };
  /** When the default pool size changes by itself (the last item ages past --runner-idle). */
  requeueAfterMs?: number;
}

const isDeleting = (pod: Pod) => pod.metadata.deletionTimestamp !== undefined;
const hasEnded = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
export const isReady = (pod: Pod) => !isDeleting(pod) && isPodReady(pod);

/**
 * The pool size: spec.runners.warm when set; otherwise one while the Project has had a WorkItem
 * within --runner-idle, else none (a Project nobody sends work to costs nothing).
 */
export function warmTarget(input: Pick<PoolInput, 'project' | 'items' | 'now' | 'idleMs'>): {
  size: number;
  changesInMs?: number;
} {
  const set = input.project.spec.runners?.warm;
  if (set !== undefined) return { size: set };
  const newest = Math.max(
    0,
    ...input.items.map((i) => Date.parse(i.item.metadata.creationTimestamp ?? '') || 0),
  );
  const left = newest + input.idleMs - input.now.getTime();
  return left > 0 ? { size: 1, changesInMs: left } : { size: 0 };
}

/** An attempt is over once the item finished, or moved on to a later attempt or back to the queue. */
export function attemptOver(item: LiveWorkItem, runner: Pod): boolean {
  const attempt = Number(runner.metadata.labels?.[ATTEMPT_LABEL] ?? 0);
  const current = item.status?.attempts ?? 0;
  if (isFinished(item) || current > attempt) return true;
  return current === attempt && item.status?.phase === 'Queued';
}

export function planPool(input: PoolInput): PoolPlan {
  const remove: Pod[] = [];
  let busy = 0;
  for (const { item, runners } of input.items) {
    for (const runner of runners) {
      if (isDeleting(runner) || runner.metadata.labels?.[WORK_ITEM_LABEL] === undefined) continue;
      if (attemptOver(item, runner) || item.metadata.deletionTimestamp) remove.push(runner);
      else busy++;
    }
  }
  const live = input.idle.filter((p) => !isDeleting(p));
  const broken = live.filter(hasEnded);
  remove.push(...broken);
  const usable = live.filter((p) => !hasEnded(p));
  const target = input.runnable ? warmTarget(input) : { size: 0 };
  // Surplus goes starting ones first: a Ready runner is the one an item can claim now. Creates in
  // flight count against the target but are never a reason to remove a runner that exists.
  const surplus = usable.length - target.size;
  if (surplus > 0)
    remove.push(...[...usable].sort((a, b) => Number(isReady(a)) - Number(isReady(b))).slice(0, surplus));
  return {
    create: Math.max(0, target.size - usable.length - input.pending),
    remove,
    status: { warm: usable.filter(isReady).length, busy },
    ...(target.changesInMs !== undefined ? { requeueAfterMs: target.changesInMs } : {}),
  };
}

/** The idle runner an attempt can claim: Ready, and not promised to another claim in flight. */
export function pickIdle(idle: Pod[], promised: ReadonlySet<string>): Pod | undefined {
  return idle.find(
    (p) => isReady(p) && p.metadata.labels?.[WORK_ITEM_LABEL] === undefined && !promised.has(p.metadata.name),
  );
}
