import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, realClock } from '../../operator/src/runtime/clock.ts';

describe('realClock.after', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('waits longer than setTimeout can in steps it can, never firing early', () => {
    vi.useFakeTimers();
    const delays: (number | undefined)[] = [];
    const setTimer = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      delays.push(ms);
      return setTimer(fn, ms);
    }) as typeof setTimeout);
    const fired = vi.fn();
    const year = 365 * 24 * 3600 * 1000;
    realClock.after(year, fired);
    vi.advanceTimersByTime(year - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
    expect(delays.length).toBeGreaterThan(1);
    for (const ms of delays) expect(ms).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  it('is cancelled between the steps too', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const timer = realClock.after(MAX_TIMER_MS * 2, fired);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    timer.cancel();
    vi.advanceTimersByTime(MAX_TIMER_MS * 2);
    expect(fired).not.toHaveBeenCalled();
  });

  it('fires a short or negative delay as setTimeout does', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    realClock.after(-5, fired);
    realClock.after(10, fired);
    vi.advanceTimersByTime(10);
    expect(fired).toHaveBeenCalledTimes(2);
  });
});
