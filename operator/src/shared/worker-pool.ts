// The workers as the operator sees them: one heartbeat Lease each. A worker is alive while its
// Lease keeps being renewed. Like client-go's leader election, expiry is judged by when this
// process last saw the Lease change, not by the renewTime written on it: the two machines'
// clocks need not agree, and after an operator restart every worker gets a full lease period
// before its items are reclaimed. A worker takes new items only once it is known to be alive:
// its renewTime is recent by our clock, or we have seen it renew. Otherwise an operator that
// restarts often would keep handing items to a worker that died just before.
import type { Lease } from '../runtime/resources.ts';
import { CAPACITY_ANNOTATION } from './worker-names.ts';

/** A worker's heartbeat Lease, as the operator and the shim cache it. */
export type LeaseObject = Lease;

export interface WorkerState {
  name: string;
  capacity: number;
  leaseDurationMs: number;
  /** When this process saw the Lease renewed last (its own clock). */
  observedAt: number;
  /** Known to be alive: seen renewing, or its renewTime was recent when first seen. */
  confirmed: boolean;
}

export interface PoolStatus {
  workers: number;
  capacity: number;
  busy: number;
  idle: number;
  queued: number;
}

/** A worker's name and capacity from its Lease; undefined for a Lease that is not a worker's. */
export function workerFromLease(
  lease: LeaseObject,
): Omit<WorkerState, 'observedAt' | 'confirmed'> | undefined {
  const name = lease.spec?.holderIdentity;
  if (!name) return undefined;
  const capacity = Number(lease.metadata.annotations?.[CAPACITY_ANNOTATION] ?? 0);
  return {
    name,
    capacity: Number.isInteger(capacity) && capacity > 0 ? capacity : 0,
    leaseDurationMs: (lease.spec?.leaseDurationSeconds ?? 15) * 1000,
  };
}

export class WorkerPool {
  private readonly workers = new Map<string, WorkerState & { renewTime?: string }>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Records a Lease as seen now (a new renewTime restarts its expiry). */
  observe(lease: LeaseObject): void {
    const worker = workerFromLease(lease);
    if (!worker) return;
    const seen = this.workers.get(worker.name);
    const renewTime = lease.spec?.renewTime;
    const now = this.now();
    if (seen && seen.renewTime === renewTime) {
      this.workers.set(worker.name, { ...seen, ...worker });
      return;
    }
    const renewedAt = renewTime ? Date.parse(renewTime) : Number.NaN;
    const confirmed = seen !== undefined || now - renewedAt < worker.leaseDurationMs;
    this.workers.set(worker.name, { ...worker, observedAt: now, confirmed, renewTime });
  }

  forget(lease: LeaseObject): void {
    const name = lease.spec?.holderIdentity;
    if (name) this.workers.delete(name);
  }

  /** Milliseconds until `name` counts as lost (≤ 0: lost; a worker without a Lease is lost). */
  remainingMs(name: string): number {
    const w = this.workers.get(name);
    return w ? w.observedAt + w.leaseDurationMs - this.now() : 0;
  }

  isAlive(name: string): boolean {
    return this.remainingMs(name) > 0;
  }

  /** Workers alive now and known to be, with their capacity: those that may take items. */
  alive(): WorkerState[] {
    return [...this.workers.values()].filter((w) => w.confirmed && this.isAlive(w.name));
  }
}

/** Capacity, busy and idle slots of the live workers, and how many items wait. */
export function poolStatus(
  alive: readonly WorkerState[],
  boundPerWorker: ReadonlyMap<string, number>,
  queued: number,
): PoolStatus {
  let capacity = 0;
  let busy = 0;
  for (const w of alive) {
    capacity += w.capacity;
    busy += Math.min(w.capacity, boundPerWorker.get(w.name) ?? 0);
  }
  return { workers: alive.length, capacity, busy, idle: capacity - busy, queued };
}
