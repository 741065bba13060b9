// Time as the runtime sees it: injectable, so that queues and rate limiters are tested with a
// fake clock instead of sleeping.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds unless cancelled. */
  after(ms: number, fn: () => void): Timer;
}

/**
 * The longest delay setTimeout takes (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms,
 * so a reconcile asking to be requeued in a year (a finished WorkItem's ttlSecondsAfterFinished)
 * would run again at once, and again, without end.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    let handle: ReturnType<typeof setTimeout>;
    // Longer delays wait in steps of MAX_TIMER_MS.
    const wait = (left: number) => {
      handle = setTimeout(
        () => (left > MAX_TIMER_MS ? wait(left - MAX_TIMER_MS) : fn()),
        Math.min(left, MAX_TIMER_MS),
      );
    };
    wait(Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};

/** A metav1.MicroTime as the API server expects it: microsecond precision, UTC. */
export const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

/** A promise that resolves after `ms` on `clock`, or early (rejecting) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.after(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A signal that aborts after `ms`, and `clear` to drop its timer once the work is done. Unlike
 * AbortSignal.timeout, whose timer (and what the signal holds) lives until it fires, it costs
 * nothing after a request or reconcile that ended early: a burst leaves no thousands of timers.
 */
export function deadline(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
