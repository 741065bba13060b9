import { describe, expect, it } from 'vitest';
import { CAPACITY_ANNOTATION } from '../../operator/src/shared/worker-names.ts';
import { type LeaseObject, WorkerPool } from '../../operator/src/shared/worker-pool.ts';

const lease = (name: string, renewTime: string, capacity = 2): LeaseObject => ({
  metadata: {
    name: `rdev-worker-${name}`,
    namespace: 'rdev-system',
    annotations: { [CAPACITY_ANNOTATION]: String(capacity) },
  },
  spec: { holderIdentity: name, leaseDurationSeconds: 10, renewTime },
});

describe('the worker pool', () => {
  const t0 = Date.parse('2026-11-24T12:00:00Z');
  const at = (ms: number) => new Date(t0 + ms).toISOString();

  it('takes a worker whose Lease was renewed recently, and loses it a lease period after the last renewal seen', () => {
    let now = t0;
    const pool = new WorkerPool(() => now);
    pool.observe(lease('w1', at(-2_000)));
    expect(pool.alive().map((w) => w.name)).toEqual(['w1']);
    now += 6_000;
    pool.observe(lease('w1', at(5_000))); // renewed
    now += 9_000;
    expect(pool.isAlive('w1')).toBe(true);
    now += 2_000;
    expect(pool.isAlive('w1')).toBe(false);
    expect(pool.alive()).toEqual([]);
  });

  it('gives a stale Lease first seen after a restart no items, yet a full period before its items are reclaimed', () => {
    let now = t0;
    const pool = new WorkerPool(() => now);
    pool.observe(lease('dead', at(-60_000)));
    expect(pool.alive()).toEqual([]); // not known to be alive: no new items
    expect(pool.isAlive('dead')).toBe(true); // its items are not reclaimed at once
    now += 10_001;
    expect(pool.isAlive('dead')).toBe(false);
  });

  it('takes a stale-looking worker once it is seen renewing (its clock may be behind)', () => {
    let now = t0;
    const pool = new WorkerPool(() => now);
    pool.observe(lease('slow-clock', at(-60_000)));
    now += 3_000;
    pool.observe(lease('slow-clock', at(-57_000)));
    expect(pool.alive().map((w) => w.name)).toEqual(['slow-clock']);
  });

  it('forgets a deleted Lease: the worker is lost at once', () => {
    const pool = new WorkerPool(() => t0);
    pool.observe(lease('w1', at(0)));
    pool.forget(lease('w1', at(0)));
    expect(pool.isAlive('w1')).toBe(false);
  });
});
