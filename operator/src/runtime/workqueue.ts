// A work queue with client-go's guarantees: a key is queued at most once (dirty set); a key
// added while it is being processed is queued again when done, so it runs once more and never
// twice at once (processing set); delayed adds keep the earliest time per key; failures back
// off through a rate limiter; shutdown can drain what is queued and in flight. An urgent key (work
// in flight: a child of an object already reconciled changed) is handed out before the others,
// so a burst of new objects does not delay the ones about to be done.
import { type Clock, realClock, type Timer } from './clock.ts';
import { defaultRateLimiter, type RateLimiter } from './ratelimit.ts';

/** Observations for the workqueue_* metrics. */
export interface QueueMetrics {
  added(): void;
  depth(n: number): void;
  /** Seconds a key waited between being queued and handed to a worker. */
  queued(seconds: number): void;
  /** Seconds a worker held a key. */
  worked(seconds: number): void;
  retried(): void;
}

const noMetrics: QueueMetrics = { added() {}, depth() {}, queued() {}, worked() {}, retried() {} };

export interface QueueOptions<K> {
  clock?: Clock;
  rateLimiter?: RateLimiter<K>;
  metrics?: QueueMetrics;
}

export class WorkQueue<K = string> {
  private readonly queue: K[] = [];
  private readonly urgentQueue: K[] = [];
  /** Dirty keys asked for urgently: queued in urgentQueue, or (while processed) to be. */
  private readonly urgent = new Set<K>();
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly queuedAt = new Map<K, number>();
  private readonly startedAt = new Map<K, number>();
  private readonly waiting = new Map<K, { readyAt: number; timer: Timer }>();
  private readonly getters: ((key: K | undefined) => void)[] = [];
  private readonly drained: (() => void)[] = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter<K>;
  private readonly metrics: QueueMetrics;

  constructor(options: QueueOptions<K> = {}) {
    this.clock = options.clock ?? realClock;
    this.limiter = options.rateLimiter ?? defaultRateLimiter<K>(this.clock);
    this.metrics = options.metrics ?? noMetrics;
  }

  /** Keys queued and not yet handed out. */
  get length(): number {
    return this.queue.length + this.urgentQueue.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Queues `key` (once); `urgent`: before every key that is not, or moved there if queued already. */
  add(key: K, urgent = false): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) {
      if (urgent && !this.urgent.has(key)) {
        this.urgent.add(key);
        const at = this.queue.indexOf(key);
        if (at >= 0) {
          this.queue.splice(at, 1);
          this.urgentQueue.push(key);
        }
      }
      return;
    }
    this.metrics.added();
    this.dirty.add(key);
    if (urgent) this.urgent.add(key);
    this.queuedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  /** Adds `key` after `ms`; an earlier pending time for the same key wins. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + ms;
    const pending = this.waiting.get(key);
    if (pending && pending.readyAt <= readyAt) return;
    pending?.timer.cancel();
    const timer = this.clock.after(ms, () => {
      this.waiting.delete(key);
      this.add(key);
    });
    this.waiting.set(key, { readyAt, timer });
  }

  /** Adds `key` after the delay its rate limiter asks for (one more failure). */
  addRateLimited(key: K): void {
    this.metrics.retried();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Resets the backoff of `key`. */
  forget(key: K): void {
    this.limiter.forget(key);
  }

  retries(key: K): number {
    return this.limiter.retries(key);
  }

  /** The next key, waiting for one; undefined once shut down and empty. */
  get(): Promise<K | undefined> {
    if (this.length > 0) return Promise.resolve(this.take());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` as processed; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    const started = this.startedAt.get(key);
    if (started !== undefined) this.metrics.worked((this.clock.now() - started) / 1000);
    this.startedAt.delete(key);
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
    if (this.processing.size === 0 && this.length === 0)
      for (const resolve of this.drained.splice(0)) resolve();
  }

  /** Stops accepting keys; workers get what is queued, then undefined. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    if (this.length === 0) for (const resolve of this.getters.splice(0)) resolve(undefined);
  }

  /** Shuts down, then resolves once every queued and in-flight key is done. */
  shutdownWithDrain(): Promise<void> {
    this.shutdown();
    if (this.processing.size === 0 && this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private push(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      getter(this.takeKey(key));
      return;
    }
    (this.urgent.has(key) ? this.urgentQueue : this.queue).push(key);
    this.metrics.depth(this.length);
  }

  private take(): K | undefined {
    const key = this.urgentQueue.shift() ?? this.queue.shift();
    this.metrics.depth(this.length);
    if (key === undefined) return undefined;
    const taken = this.takeKey(key);
    if (this.shuttingDown && this.length === 0)
      for (const resolve of this.getters.splice(0)) resolve(undefined);
    return taken;
  }

  private takeKey(key: K): K {
    const now = this.clock.now();
    this.metrics.queued((now - (this.queuedAt.get(key) ?? now)) / 1000);
    this.queuedAt.delete(key);
    this.startedAt.set(key, now);
    this.processing.add(key);
    this.dirty.delete(key);
    this.urgent.delete(key);
    return key;
  }
}
