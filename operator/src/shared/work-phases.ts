// Where a WorkItem stands, as both the scheduler and the shim read it from their caches.
import type { LiveWorkItem, WorkItemStatus } from '../api/v1alpha1/index.ts';

export type { LiveWorkItem };
export type WorkPhase = NonNullable<WorkItemStatus['phase']>;

const FINISHED: readonly WorkPhase[] = ['Succeeded', 'Failed', 'Cancelled'];
const BOUND: readonly WorkPhase[] = ['Scheduled', 'Running'];

/** Anything with a phase: a typed item, or one as a cache of untyped objects holds it. */
type Phased = { status?: { phase?: string } };

const hasPhase = (phases: readonly string[], item: Phased) =>
  item.status?.phase !== undefined && phases.includes(item.status.phase);

export const isFinished = (item: Phased) => hasPhase(FINISHED, item);
/** Bound to a worker: counts against capacity and limits. */
export const isBound = (item: Phased) => hasPhase(BOUND, item);
/** Waiting for a worker (a new item has no phase yet). */
export const isWaiting = (item: Phased) => item.status?.phase === undefined || item.status.phase === 'Queued';
