// Jittered, capped exponential backoff for retry loops that must never give up (watches,
// leader election): every retry loop in the runtime has a cap on its delay.

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(initialMs = 800, maxMs = 30_000, random: () => number = Math.random) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.random = random;
  }

  /** The next delay: initial * 2^attempt capped at max, then jittered up to +100% (still capped). */
  next(): number {
    const base = Math.min(this.initialMs * 2 ** this.attempt, this.maxMs);
    this.attempt++;
    return Math.min(base * (1 + this.random()), this.maxMs);
  }

  reset(): void {
    this.attempt = 0;
  }
}
