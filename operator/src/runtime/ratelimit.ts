// How long a key waits before its next attempt, as client-go's default controller rate limiter
// decides it: the larger of a per-key exponential backoff and a global token bucket.
import type { Clock } from './clock.ts';

export interface RateLimiter<K> {
  /** Delay in ms before `key` may be processed again; each call counts as one failure. */
  when(key: K): number;
  /** Stops tracking `key` (after it succeeded). */
  forget(key: K): void;
  /** Failures recorded for `key` since it was last forgotten. */
  retries(key: K): number;
}

/** base * 2^failures, capped at max (5 ms → 1000 s by default). */
export class ExponentialBackoff<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  when(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }

  forget(key: K): void {
    this.failures.delete(key);
  }

  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * A token bucket of `burst` tokens refilled at `qps` per second. Like golang.org/x/time/rate's
 * Reserve, a call always takes a token, going into debt when none is left: the delay is the
 * time until that debt is paid.
 */
export class TokenBucket<K> implements RateLimiter<K> {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;

  constructor(clock: Clock, qps = 10, burst = 100) {
    this.clock = clock;
    this.qps = qps;
    this.burst = burst;
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_key: K): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(_key: K): void {}

  retries(_key: K): number {
    return 0;
  }
}

/** The longest delay of several limiters. */
export class MaxOf<K> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }

  when(key: K): number {
    return Math.max(...this.limiters.map((l) => l.when(key)));
  }

  forget(key: K): void {
    for (const l of this.limiters) l.forget(key);
  }

  retries(key: K): number {
    return Math.max(...this.limiters.map((l) => l.retries(key)));
  }
}

/** client-go's DefaultControllerRateLimiter: max(5 ms → 1000 s per key, 10 qps / 100 burst). */
export function defaultRateLimiter<K>(clock: Clock): RateLimiter<K> {
  return new MaxOf<K>(new ExponentialBackoff<K>(5, 1_000_000), new TokenBucket<K>(clock, 10, 100));
}
