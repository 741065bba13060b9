import { describe, expect, it } from 'vitest';
import { CAPACITY_ANNOTATION } from '../../operator/src/shared/worker-names.ts';
import {
  type LeaseObject,
  poolStatus,
  WorkerPool,
  type WorkerState,
  workerFromLease,
} from '../../operator/src/shared/worker-pool.ts';

const T0 = Date.parse('2026-06-01T12:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function lease(
  holder: string | undefined,
  options: { renewTime?: string; capacity?: string; durationSeconds?: number } = {},
): LeaseObject {
  return {
    metadata: {
      name: `rdev-worker-${holder ?? 'none'}`,
      namespace: 'rdev-system',
      ...(options.capacity === undefined ? {} : { annotations: { [CAPACITY_ANNOTATION]: options.capacity } }),
    },
    spec: {
      ...(holder ? { holderIdentity: holder } : {}),
      ...(options.durationSeconds === undefined ? {} : { leaseDurationSeconds: options.durationSeconds }),
      ...(options.renewTime === undefined ? {} : { renewTime: options.renewTime }),
    },
  };
}

/** A pool on a clock the test moves. */
function clockedPool() {
  const clock = { now: T0 };
  return { clock, pool: new WorkerPool(() => clock.now) };
}

describe('workerFromLease', () => {
  it('reads the name, capacity and lease duration', () => {
    expect(workerFromLease(lease('w1', { capacity: '4', durationSeconds: 20 }))).toEqual({
      name: 'w1',
      capacity: 4,
      leaseDurationMs: 20_000,
    });
  });

  it('defaults the lease duration to 15 seconds', () => {
    expect(workerFromLease(lease('w1', { capacity: '1' }))?.leaseDurationMs).toBe(15_000);
  });

  it('gives no capacity for a missing, negative, fractional or unreadable annotation', () => {
    for (const capacity of [undefined, '', '0', '-2', '2.5', 'many'])
      expect(workerFromLease(lease('w1', { capacity }))?.capacity, String(capacity)).toBe(0);
  });

  it('ignores a Lease without a holder', () => {
    expect(workerFromLease(lease(undefined, { capacity: '2' }))).toBeUndefined();
    expect(workerFromLease({ metadata: { name: 'bare' } })).toBeUndefined();
  });
});

describe('WorkerPool', () => {
  it('does not know a worker it has not seen', () => {
    const { pool } = clockedPool();
    expect(pool.remainingMs('w1')).toBe(0);
    expect(pool.isAlive('w1')).toBe(false);
    expect(pool.alive()).toEqual([]);
  });

  it('ignores Leases that are not a worker’s', () => {
    const { pool } = clockedPool();
    pool.observe(lease(undefined, { renewTime: iso(0), capacity: '2' }));
    expect(pool.alive()).toEqual([]);
  });

  it('lists the live workers with their capacity and lease period', () => {
    const { pool } = clockedPool();
    pool.observe(lease('w1', { renewTime: iso(0), capacity: '3', durationSeconds: 10 }));
    pool.observe(lease('w2', { renewTime: iso(-1_000), capacity: '1', durationSeconds: 10 }));
    expect(pool.alive()).toEqual([
      {
        name: 'w1',
        capacity: 3,
        leaseDurationMs: 10_000,
        observedAt: T0,
        confirmed: true,
        renewTime: iso(0),
      },
      {
        name: 'w2',
        capacity: 1,
        leaseDurationMs: 10_000,
        observedAt: T0,
        confirmed: true,
        renewTime: iso(-1_000),
      },
    ]);
  });

  it('counts the lease period from when it saw the renewal, not from the renewTime written', () => {
    const { clock, pool } = clockedPool();
    // The worker's clock is 4s behind: its renewTime looks old, but is within the period.
    pool.observe(lease('w1', { renewTime: iso(-4_000), capacity: '1', durationSeconds: 10 }));
    expect(pool.remainingMs('w1')).toBe(10_000);
    clock.now += 7_500;
    expect(pool.remainingMs('w1')).toBe(2_500);
    expect(pool.isAlive('w1')).toBe(true);
    clock.now += 2_500;
    expect(pool.remainingMs('w1')).toBe(0);
    expect(pool.isAlive('w1')).toBe(false);
    clock.now += 1_000;
    expect(pool.remainingMs('w1')).toBe(-1_000);
  });

  it('does not extend the period when the Lease is seen again unrenewed, but takes its new capacity', () => {
    const { clock, pool } = clockedPool();
    pool.observe(lease('w1', { renewTime: iso(0), capacity: '2', durationSeconds: 10 }));
    clock.now += 6_000;
    pool.observe(lease('w1', { renewTime: iso(0), capacity: '0', durationSeconds: 10 }));
    expect(pool.remainingMs('w1')).toBe(4_000);
    expect(pool.alive().map((w) => [w.name, w.capacity])).toEqual([['w1', 0]]);
  });

  it('extends the period on each renewal', () => {
    const { clock, pool } = clockedPool();
    pool.observe(lease('w1', { renewTime: iso(0), capacity: '1', durationSeconds: 10 }));
    for (let i = 1; i <= 5; i++) {
      clock.now += 8_000;
      pool.observe(lease('w1', { renewTime: iso(i * 8_000), capacity: '1', durationSeconds: 10 }));
    }
    expect(pool.remainingMs('w1')).toBe(10_000);
  });

  it('takes a worker whose clock runs ahead of ours', () => {
    const { pool } = clockedPool();
    pool.observe(lease('ahead', { renewTime: iso(60_000), capacity: '1', durationSeconds: 10 }));
    expect(pool.alive().map((w) => w.name)).toEqual(['ahead']);
  });

  it('gives a worker that never wrote a renewTime no items until it renews', () => {
    const { clock, pool } = clockedPool();
    pool.observe(lease('w1', { capacity: '1', durationSeconds: 10 }));
    expect(pool.alive()).toEqual([]);
    expect(pool.isAlive('w1')).toBe(true);
    clock.now += 1_000;
    pool.observe(lease('w1', { capacity: '1', durationSeconds: 10 }));
    expect(pool.alive()).toEqual([]);
    // Seen renewing: alive, even though its clock is far behind ours.
    pool.observe(lease('w1', { renewTime: iso(-50_000), capacity: '1', durationSeconds: 10 }));
    expect(pool.alive().map((w) => w.name)).toEqual(['w1']);
  });

  it('takes a lost worker back once it renews again', () => {
    const { clock, pool } = clockedPool();
    pool.observe(lease('w1', { renewTime: iso(0), capacity: '1', durationSeconds: 10 }));
    clock.now += 30_000;
    expect(pool.alive()).toEqual([]);
    pool.observe(lease('w1', { renewTime: iso(30_000), capacity: '1', durationSeconds: 10 }));
    expect(pool.alive().map((w) => w.name)).toEqual(['w1']);
    expect(pool.remainingMs('w1')).toBe(10_000);
  });

  it('keeps workers apart: one expiring leaves the others alive', () => {
    const { clock, pool } = clockedPool();
    pool.observe(lease('short', { renewTime: iso(0), capacity: '1', durationSeconds: 5 }));
    pool.observe(lease('long', { renewTime: iso(0), capacity: '1', durationSeconds: 30 }));
    clock.now += 6_000;
    expect(pool.alive().map((w) => w.name)).toEqual(['long']);
    expect(pool.isAlive('short')).toBe(false);
  });

  it('forgets only the worker whose Lease was deleted, and ignores a Lease without a holder', () => {
    const { pool } = clockedPool();
    pool.observe(lease('w1', { renewTime: iso(0), capacity: '1' }));
    pool.observe(lease('w2', { renewTime: iso(0), capacity: '1' }));
    pool.forget(lease(undefined));
    pool.forget(lease('w1'));
    expect(pool.alive().map((w) => w.name)).toEqual(['w2']);
    expect(pool.remainingMs('w1')).toBe(0);
  });
});

describe('poolStatus', () => {
  const worker = (name: string, capacity: number): WorkerState => ({
    name,
    capacity,
    leaseDurationMs: 10_000,
    observedAt: T0,
    confirmed: true,
  });

  it.each([
    {
      what: 'adds up capacity and busy slots of the live workers',
      alive: [worker('w1', 4), worker('w2', 2)],
      busy: { w1: 1, w2: 2 },
      queued: 7,
      status: { workers: 2, capacity: 6, busy: 3, idle: 3, queued: 7 },
    },
    {
      what: 'counts no more busy slots than a worker has, and none for workers not alive',
      alive: [worker('w1', 2), worker('draining', 0)],
      busy: { w1: 5, draining: 3, dead: 4 },
      queued: 0,
      status: { workers: 2, capacity: 2, busy: 2, idle: 0, queued: 0 },
    },
    {
      what: 'is all zero for an empty pool, apart from what waits',
      alive: [],
      busy: {},
      queued: 3,
      status: { workers: 0, capacity: 0, busy: 0, idle: 0, queued: 3 },
    },
  ])('$what', ({ alive, busy, queued, status }) => {
    expect(poolStatus(alive, new Map(Object.entries(busy)), queued)).toEqual(status);
  });
});
