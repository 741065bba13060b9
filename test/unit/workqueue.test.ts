import { describe, expect, it } from 'vitest';
import { ExponentialBackoff, TokenBucket } from '../../operator/src/runtime/ratelimit.ts';
import { WorkQueue } from '../../operator/src/runtime/workqueue.ts';
import { FakeClock } from '../support/fake-clock.ts';

const queueOn = (clock: FakeClock) =>
  new WorkQueue<string>({ clock, rateLimiter: new ExponentialBackoff(5, 1000) });

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = queueOn(new FakeClock());
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('runs a key added during processing once more afterwards, never twice at once', async () => {
    const q = queueOn(new FakeClock());
    q.add('a');
    const first = await q.get();
    q.add('a'); // while processing
    q.add('a');
    expect(q.length).toBe(0); // not handed to a second worker
    q.done(first as string);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  it('hands urgent keys out first, in their order, and promotes a queued key added urgently', async () => {
    const q = queueOn(new FakeClock());
    for (const key of ['new-1', 'new-2', 'new-3']) q.add(key);
    q.add('running-1', true);
    q.add('new-2', true); // queued already: moves ahead, once
    q.add('new-2', true);
    q.add('new-1'); // a normal add leaves it where it is
    expect(q.length).toBe(4);
    const order: string[] = [];
    while (q.length > 0) order.push((await q.get()) as string);
    expect(order).toEqual(['running-1', 'new-2', 'new-1', 'new-3']);
  });

  it('requeues a key added urgently while processed ahead of the others', async () => {
    const q = queueOn(new FakeClock());
    q.add('a');
    const a = (await q.get()) as string;
    q.add('b');
    q.add('a', true); // while processing
    q.done(a);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('hands a key to a waiting worker as soon as it is added', async () => {
    const q = queueOn(new FakeClock());
    const waiting = q.get();
    q.add('x');
    expect(await waiting).toBe('x');
  });

  it('adds delayed keys when due, keeping the earliest time per key', async () => {
    const clock = new FakeClock();
    const q = queueOn(clock);
    q.addAfter('a', 1000);
    q.addAfter('a', 300); // earlier: replaces
    q.addAfter('a', 5000); // later: ignored
    expect(clock.pendingTimers).toBe(1);
    clock.advance(299);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
    clock.advance(10_000);
    expect(q.length).toBe(1); // the ignored later add never fires
  });

  it('backs off exponentially on failures and resets on forget', async () => {
    const clock = new FakeClock();
    const q = queueOn(clock);
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = clock.pendingTimers;
      q.addRateLimited('k');
      expect(clock.pendingTimers).toBe(before + 1);
      let waited = 0;
      while (q.length === 0) {
        clock.advance(1);
        waited++;
      }
      delays.push(waited);
      q.done((await q.get()) as string);
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(q.retries('k')).toBe(10);
    q.forget('k');
    expect(q.retries('k')).toBe(0);
  });

  it('on shutdown stops taking keys and releases waiting workers', async () => {
    const q = queueOn(new FakeClock());
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
    q.add('late');
    expect(q.length).toBe(0);
  });

  it('drains on shutdown: queued and in-flight keys finish first', async () => {
    const q = queueOn(new FakeClock());
    q.add('a');
    q.add('b');
    const a = await q.get();
    let drained = false;
    const drain = q.shutdownWithDrain().then(() => {
      drained = true;
    });
    q.add('c'); // refused while shutting down
    expect(await q.get()).toBe('b'); // still handed out
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(a as string);
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done('b');
    await drain;
    expect(drained).toBe(true);
    expect(await q.get()).toBeUndefined();
  });
});

describe('rate limiters', () => {
  it('exponential backoff doubles from base to max per key, independently', () => {
    const limiter = new ExponentialBackoff<string>(5, 1_000_000);
    const a = Array.from({ length: 22 }, () => limiter.when('a'));
    expect(a.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(a[17]).toBe(655_360);
    expect(a[18]).toBe(1_000_000);
    expect(a[21]).toBe(1_000_000);
    expect(limiter.when('b')).toBe(5);
  });

  it('token bucket lets a burst through, then paces at qps', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket<string>(clock, 10, 100);
    const burst = Array.from({ length: 100 }, (_, i) => bucket.when(`k${i}`));
    expect(burst.every((d) => d === 0)).toBe(true);
    expect(bucket.when('x')).toBe(100); // 1 token in debt at 10/s
    expect(bucket.when('y')).toBe(200);
    clock.advance(1000); // 10 tokens back: debt of 2 becomes a credit of 8
    expect(Array.from({ length: 8 }, () => bucket.when('z'))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(bucket.when('z')).toBe(100);
  });
});
