import { describe, expect, it } from 'vitest';
import { type WorkItemStatus, workItemSpec } from '../../operator/src/api/v1alpha1/index.ts';
import {
  afterAttempt,
  applyPatch,
  isNoop,
  itemKey,
  MAX_RETRY_DELAY_MS,
  queued,
  retryDelayMs,
  running,
  type StatusPatch,
  scheduled,
  timeoutMs,
  ttlRemainingMs,
  waitMs,
} from '../../operator/src/queue/lifecycle.ts';
import { projectKeyOf } from '../../operator/src/shared/project-index.ts';
import {
  isBound,
  isFinished,
  isWaiting,
  type LiveWorkItem,
  type WorkPhase,
} from '../../operator/src/shared/work-phases.ts';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);

function item(
  options: {
    spec?: Record<string, unknown>;
    status?: WorkItemStatus;
    metadata?: Record<string, unknown>;
  } = {},
): LiveWorkItem {
  return {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'WorkItem',
    metadata: {
      name: 'job',
      namespace: 'team',
      uid: 'uid-job',
      generation: 3,
      creationTimestamp: '2026-03-01T09:00:00Z',
      ...options.metadata,
    },
    spec: workItemSpec.parse({
      projectRef: { name: 'shop' },
      type: 'shell',
      command: ['make'],
      ...options.spec,
    }),
    ...(options.status ? { status: options.status } : {}),
  };
}

/** The item after `patch`, as the API server would store it. */
const patched = (i: LiveWorkItem, patch: StatusPatch): LiveWorkItem => ({
  ...i,
  status: applyPatch(i.status, patch),
});

/** A spec without the defaulted fields (as if served without defaults applied). */
/** A spec that sets neither retryBackoff nor timeout, as parsed: the schema's defaults. */
const unset = workItemSpec.parse({ projectRef: { name: 'shop' }, type: 'shell', command: ['make'] });

const ready = (patch: StatusPatch) => patch.conditions?.find((c) => c.type === 'Ready');

describe('phase predicates', () => {
  const phases: (WorkPhase | undefined)[] = [
    undefined,
    'Queued',
    'Scheduled',
    'Running',
    'Succeeded',
    'Failed',
    'Cancelled',
  ];
  const of = (phase: WorkPhase | undefined) => item(phase ? { status: { phase } } : {});

  it('tell waiting, bound and finished items apart, each phase in exactly one group', () => {
    const table = phases.map((p) => [p ?? 'new', isWaiting(of(p)), isBound(of(p)), isFinished(of(p))]);
    expect(table).toEqual([
      ['new', true, false, false],
      ['Queued', true, false, false],
      ['Scheduled', false, true, false],
      ['Running', false, true, false],
      ['Succeeded', false, false, true],
      ['Failed', false, false, true],
      ['Cancelled', false, false, true],
    ]);
  });

  it('treat a status without a phase as new', () => {
    const i = item({ status: { attempts: 0 } });
    expect([isWaiting(i), isBound(i), isFinished(i)]).toEqual([true, false, false]);
  });
});

describe('keys', () => {
  it('name an item and its project within the namespace', () => {
    const i = item({
      metadata: { name: 'build-7', namespace: 'acme' },
      spec: { projectRef: { name: 'web' } },
    });
    expect(itemKey(i)).toBe('acme/build-7');
    expect(projectKeyOf(i)).toBe('acme/web');
  });
});

describe('retry delay', () => {
  it('starts at retryBackoff and doubles per failed attempt', () => {
    const spec = { retryBackoff: '5s' };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(spec, n))).toEqual([5_000, 10_000, 20_000, 40_000]);
  });

  it("defaults to 10s (the schema's default), and treats zero attempts like the first", () => {
    expect(retryDelayMs(unset, 1)).toBe(10_000);
    expect(retryDelayMs(unset, 0)).toBe(10_000);
    expect(retryDelayMs({ retryBackoff: '1m30s' }, 1)).toBe(90_000);
  });

  it('is capped at ten minutes', () => {
    expect(MAX_RETRY_DELAY_MS).toBe(600_000);
    expect(retryDelayMs({ retryBackoff: '1h' }, 1)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs({ retryBackoff: '1m' }, 4)).toBe(480_000);
    expect(retryDelayMs({ retryBackoff: '1m' }, 5)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs({ retryBackoff: '10s' }, 60)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('refuses a duration it cannot read: parsing lets none through, so there is nothing to fall back on', () => {
    expect(() => retryDelayMs({ retryBackoff: 'soon' }, 2)).toThrow(/not a duration/);
  });
});

describe('timeout', () => {
  it("reads spec.timeout, 30 minutes by the schema's default, and refuses one it cannot read", () => {
    expect(timeoutMs({ timeout: '90s' })).toBe(90_000);
    expect(timeoutMs({ timeout: '2h' })).toBe(7_200_000);
    expect(timeoutMs(unset)).toBe(1_800_000);
    expect(() => timeoutMs({ timeout: 'forever' })).toThrow(/not a duration/);
  });
});

describe('queued', () => {
  it('sets the phase, the reason, attempts (0 for a new item) and the Ready condition', () => {
    const patch = queued(item(), 'waiting for a free worker', T0);
    expect(patch).toMatchObject({
      phase: 'Queued',
      message: 'waiting for a free worker',
      attempts: 0,
      observedGeneration: 3,
    });
    expect(patch.conditions).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'Queued',
        message: 'waiting for a free worker',
        lastTransitionTime: T0.toISOString(),
      },
    ]);
  });

  it('keeps the attempts made so far', () => {
    expect(queued(item({ status: { phase: 'Queued', attempts: 2 } }), 'again', T0).attempts).toBe(2);
  });
});

describe('scheduled', () => {
  it('binds a new attempt to the worker and clears the retry time', () => {
    const i = item({ status: { phase: 'Queued', attempts: 1, nextAttemptAt: T0.toISOString() } });
    const patch = scheduled(i, 'w1', T0);
    expect(patch).toMatchObject({
      phase: 'Scheduled',
      worker: 'w1',
      attempts: 2,
      nextAttemptAt: null,
      message: 'attempt 2 bound to worker w1',
    });
    expect(patched(i, patch).status).not.toHaveProperty('nextAttemptAt');
  });

  it('counts the first attempt of a new item as 1', () => {
    expect(scheduled(item(), 'w1', T0).attempts).toBe(1);
  });
});

describe('running', () => {
  it('records the start and clears what the last attempt left', () => {
    const i = item({
      status: {
        phase: 'Scheduled',
        attempts: 2,
        worker: 'w1',
        exitCode: 7,
        outputTail: 'old output',
        finishedAt: '2026-03-01T09:30:00Z',
      },
    });
    const patch = running(i, T0);
    expect(patch).toMatchObject({
      phase: 'Running',
      startedAt: T0.toISOString(),
      finishedAt: null,
      exitCode: null,
      outputTail: null,
      message: 'attempt 2 running on worker w1',
    });
    const status = patched(i, patch).status;
    expect(status).toMatchObject({ phase: 'Running', attempts: 2, worker: 'w1' });
    expect(status).not.toHaveProperty('exitCode');
    expect(status).not.toHaveProperty('outputTail');
    expect(status).not.toHaveProperty('finishedAt');
  });
});

describe('after an attempt', () => {
  const runningItem = (attempts: number, spec: Record<string, unknown> = {}) =>
    item({
      spec,
      status: { phase: 'Running', attempts, worker: 'w1', startedAt: T0.toISOString() },
    });

  it('succeeds on exit code 0 and reports the output tail', () => {
    const patch = afterAttempt(runningItem(1), { kind: 'exited', exitCode: 0 }, later(5_000), {
      outputTail: 'done\n',
    });
    expect(patch).toMatchObject({
      phase: 'Succeeded',
      message: 'exited with code 0',
      exitCode: 0,
      outputTail: 'done\n',
      finishedAt: later(5_000).toISOString(),
      nextAttemptAt: null,
    });
    expect(ready(patch)).toMatchObject({ status: 'True', reason: 'Succeeded' });
  });

  it('leaves the output tail alone when none is given', () => {
    const patch = afterAttempt(runningItem(1), { kind: 'exited', exitCode: 0 }, T0);
    expect(patch).not.toHaveProperty('outputTail');
  });

  it('retries a failed attempt with attempts left: back to the queue, unbound, after the backoff', () => {
    const i = runningItem(1, { retryBackoff: '20s', maxAttempts: 3 });
    const patch = afterAttempt(i, { kind: 'exited', exitCode: 2 }, T0, { outputTail: 'boom' });
    const next = later(20_000).toISOString();
    expect(patch).toMatchObject({
      phase: 'Queued',
      exitCode: 2,
      outputTail: 'boom',
      worker: null,
      finishedAt: null,
      nextAttemptAt: next,
      message: `attempt 1 of 3: exited with code 2; retrying at ${next}`,
    });
    expect(ready(patch)).toMatchObject({ status: 'False', reason: 'Queued' });
    const status = patched(i, patch).status;
    expect(status).not.toHaveProperty('worker');
    expect(status?.attempts).toBe(1);
    expect(waitMs(patched(i, patch), T0)).toBe(20_000);
  });

  it('doubles the wait for each further failed attempt', () => {
    const patch = afterAttempt(
      runningItem(3, { retryBackoff: '20s', maxAttempts: 5 }),
      { kind: 'timedOut' },
      T0,
    );
    expect(patch.nextAttemptAt).toBe(later(80_000).toISOString());
  });

  it('fails once no attempts are left', () => {
    const patch = afterAttempt(runningItem(3, { maxAttempts: 3 }), { kind: 'exited', exitCode: 1 }, T0);
    expect(patch).toMatchObject({
      phase: 'Failed',
      exitCode: 1,
      finishedAt: T0.toISOString(),
      nextAttemptAt: null,
      message: 'exited with code 1; no attempts left (3 of 3)',
    });
    expect(patch).not.toHaveProperty('worker');
    expect(ready(patch)).toMatchObject({ status: 'False', reason: 'Failed' });
  });

  it('fails a single-attempt item at once', () => {
    expect(afterAttempt(runningItem(1, { maxAttempts: 1 }), { kind: 'exited', exitCode: 1 }, T0).phase).toBe(
      'Failed',
    );
  });

  it('says how long a timed-out attempt ran and records no exit code', () => {
    const patch = afterAttempt(runningItem(1, { timeout: '5m', maxAttempts: 1 }), { kind: 'timedOut' }, T0);
    expect(patch.message).toBe('timed out after 5m; no attempts left (1 of 1)');
    expect(patch).not.toHaveProperty('exitCode');
  });

  it('counts a lost attempt as a failed one', () => {
    const reason = 'worker w1 stopped renewing its Lease';
    const retried = afterAttempt(runningItem(1), { kind: 'lost', reason }, T0);
    expect(retried).toMatchObject({ phase: 'Queued', worker: null });
    expect(retried.message).toContain(reason);
    expect(retried).not.toHaveProperty('exitCode');
    const failed = afterAttempt(runningItem(3), { kind: 'lost', reason }, T0);
    expect(failed).toMatchObject({ phase: 'Failed', message: `${reason}; no attempts left (3 of 3)` });
  });

  it('does not retry what cannot run, whatever attempts are left', () => {
    const patch = afterAttempt(
      runningItem(1, { maxAttempts: 10 }),
      { kind: 'unrunnable', reason: 'no CI configured' },
      T0,
    );
    expect(patch).toMatchObject({ phase: 'Failed', message: 'no CI configured', nextAttemptAt: null });
  });

  it('ends a cancelled attempt as Cancelled with its reason, keeping an exit code it had', () => {
    const patch = afterAttempt(runningItem(1), { kind: 'cancelled', reason: 'cancelled while running' }, T0);
    expect(patch).toMatchObject({
      phase: 'Cancelled',
      message: 'cancelled while running',
      nextAttemptAt: null,
    });
    expect(ready(patch)).toMatchObject({ status: 'False', reason: 'Cancelled' });
    const exited = afterAttempt(runningItem(1, { cancel: true }), { kind: 'exited', exitCode: 143 }, T0);
    expect(exited).toMatchObject({ phase: 'Cancelled', message: 'cancelled', exitCode: 143 });
  });

  it('does not retry an item whose spec asks to cancel, even with attempts left', () => {
    for (const outcome of [
      { kind: 'timedOut' as const },
      { kind: 'lost' as const, reason: 'gone' },
      { kind: 'unrunnable' as const, reason: 'nothing to run' },
    ])
      expect(afterAttempt(runningItem(1, { cancel: true }), outcome, T0).phase).toBe('Cancelled');
  });

  it('still reports a success that came in after cancel was asked for', () => {
    expect(afterAttempt(runningItem(1, { cancel: true }), { kind: 'exited', exitCode: 0 }, T0).phase).toBe(
      'Succeeded',
    );
  });

  it('treats an item without recorded attempts as on its first', () => {
    const i = item({ spec: { maxAttempts: 1 }, status: { phase: 'Running' } });
    expect(afterAttempt(i, { kind: 'exited', exitCode: 1 }, T0).message).toContain('(1 of 1)');
  });
});

describe('the Ready condition across transitions', () => {
  it('keeps its transition time while it stays False and moves it when it turns True', () => {
    let i = item();
    i = patched(i, queued(i, 'waiting', T0));
    i = patched(i, scheduled(i, 'w1', later(1_000)));
    i = patched(i, running(i, later(2_000)));
    expect(i.status?.conditions).toEqual([
      expect.objectContaining({ status: 'False', reason: 'Running', lastTransitionTime: T0.toISOString() }),
    ]);
    i = patched(i, afterAttempt(i, { kind: 'exited', exitCode: 0 }, later(3_000)));
    expect(i.status?.conditions).toEqual([
      expect.objectContaining({
        status: 'True',
        reason: 'Succeeded',
        lastTransitionTime: later(3_000).toISOString(),
      }),
    ]);
  });
});

describe('a whole life', () => {
  it('goes through a failed attempt, a retry and a success', () => {
    let i = item({ spec: { maxAttempts: 2, retryBackoff: '1s' } });
    i = patched(i, queued(i, 'waiting for a worker', T0));
    i = patched(i, scheduled(i, 'w1', later(1)));
    i = patched(i, running(i, later(2)));
    i = patched(i, afterAttempt(i, { kind: 'exited', exitCode: 1 }, later(3), { outputTail: 'first' }));
    expect(i.status).toMatchObject({ phase: 'Queued', attempts: 1, exitCode: 1, outputTail: 'first' });
    expect(isWaiting(i)).toBe(true);
    expect(waitMs(i, later(3))).toBe(1_000);
    i = patched(i, scheduled(i, 'w2', later(1_003)));
    expect(i.status).toMatchObject({ phase: 'Scheduled', attempts: 2, worker: 'w2' });
    expect(i.status).not.toHaveProperty('nextAttemptAt');
    i = patched(i, running(i, later(1_004)));
    expect(i.status).not.toHaveProperty('exitCode');
    expect(i.status).not.toHaveProperty('outputTail');
    i = patched(i, afterAttempt(i, { kind: 'exited', exitCode: 0 }, later(1_005), { outputTail: 'second' }));
    expect(i.status).toMatchObject({
      phase: 'Succeeded',
      attempts: 2,
      worker: 'w2',
      exitCode: 0,
      outputTail: 'second',
      startedAt: later(1_004).toISOString(),
      finishedAt: later(1_005).toISOString(),
    });
    expect(isFinished(i)).toBe(true);
  });
});

describe('waitMs', () => {
  it('is 0 without a retry time or once it has passed, else the time left', () => {
    expect(waitMs(item(), T0)).toBe(0);
    const retrying = item({ status: { phase: 'Queued', nextAttemptAt: later(30_000).toISOString() } });
    expect(waitMs(retrying, T0)).toBe(30_000);
    expect(waitMs(retrying, later(29_000))).toBe(1_000);
    expect(waitMs(retrying, later(30_000))).toBe(0);
    expect(waitMs(retrying, later(90_000))).toBe(0);
  });
});

describe('ttlRemainingMs', () => {
  const finished = (finishedAt: string | undefined, ttl = 60, metadata: Record<string, unknown> = {}) =>
    item({
      spec: { ttlSecondsAfterFinished: ttl },
      status: { phase: 'Succeeded', ...(finishedAt ? { finishedAt } : {}) },
      metadata,
    });

  it('is undefined for an item that has not finished', () => {
    for (const phase of ['Queued', 'Scheduled', 'Running'] as const)
      expect(ttlRemainingMs(item({ status: { phase, finishedAt: T0.toISOString() } }), T0)).toBeUndefined();
    expect(ttlRemainingMs(item(), T0)).toBeUndefined();
  });

  it('counts from finishedAt, down to 0 once due', () => {
    const i = finished(T0.toISOString(), 60);
    expect(ttlRemainingMs(i, T0)).toBe(60_000);
    expect(ttlRemainingMs(i, later(45_000))).toBe(15_000);
    expect(ttlRemainingMs(i, later(60_000))).toBe(0);
    expect(ttlRemainingMs(i, later(600_000))).toBe(0);
    expect(ttlRemainingMs(finished(T0.toISOString(), 0), T0)).toBe(0);
  });

  it('counts from creation when finishedAt is missing, and is due at once when neither is known', () => {
    const created = finished(undefined, 60, { creationTimestamp: T0.toISOString() });
    expect(ttlRemainingMs(created, later(10_000))).toBe(50_000);
    const unknown = finished(undefined, 60, { creationTimestamp: undefined });
    expect(ttlRemainingMs(unknown, T0)).toBe(0);
  });
});

describe('applyPatch', () => {
  it('sets values, clears fields patched with null and skips undefined ones', () => {
    const before: WorkItemStatus = { phase: 'Running', worker: 'w1', exitCode: 3, attempts: 1 };
    const after = applyPatch(before, {
      phase: 'Queued',
      worker: null,
      exitCode: undefined,
      message: 'retry',
    });
    expect(after).toEqual({ phase: 'Queued', exitCode: 3, attempts: 1, message: 'retry' });
    expect(after).not.toHaveProperty('worker');
  });

  it('leaves the original status unchanged', () => {
    const before: WorkItemStatus = { phase: 'Running', worker: 'w1' };
    applyPatch(before, { phase: 'Succeeded', worker: null });
    expect(before).toEqual({ phase: 'Running', worker: 'w1' });
  });

  it('starts from an empty status', () => {
    expect(applyPatch(undefined, { phase: 'Queued', worker: null })).toEqual({ phase: 'Queued' });
  });
});

describe('isNoop', () => {
  const status: WorkItemStatus = {
    phase: 'Running',
    attempts: 1,
    worker: 'w1',
    message: 'attempt 1 running on worker w1',
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'Running',
        message: 'attempt 1 running on worker w1',
        lastTransitionTime: T0.toISOString(),
      },
    ],
  };

  it('is true when every field already has its value', () => {
    expect(isNoop(status, { phase: 'Running', worker: 'w1' })).toBe(true);
    expect(isNoop(status, {})).toBe(true);
    expect(isNoop(status, { phase: 'Running', exitCode: undefined })).toBe(true);
  });

  it('is false when a field changes or is added', () => {
    expect(isNoop(status, { phase: 'Succeeded' })).toBe(false);
    expect(isNoop(status, { attempts: 2 })).toBe(false);
    expect(isNoop(status, { exitCode: 0 })).toBe(false);
    expect(isNoop(undefined, { phase: 'Queued' })).toBe(false);
  });

  it('treats clearing as a change only when the field is set', () => {
    expect(isNoop(status, { worker: null })).toBe(false);
    expect(isNoop(status, { exitCode: null, outputTail: null })).toBe(true);
    expect(isNoop(undefined, { worker: null })).toBe(true);
  });

  it('ignores the conditions (their times follow the other fields)', () => {
    expect(isNoop(status, { conditions: [] })).toBe(true);
  });

  it('is true for a transition applied already, so repeating it writes nothing', () => {
    const i = item({ status: { phase: 'Scheduled', attempts: 1, worker: 'w1' } });
    const patch = running(i, T0);
    expect(isNoop(i.status, patch)).toBe(false);
    const now = patched(i, patch);
    expect(isNoop(now.status, running(now, later(5_000)))).toBe(false); // a new start time
    expect(isNoop(now.status, patch)).toBe(true);
    const done = afterAttempt(now, { kind: 'exited', exitCode: 0 }, T0, { outputTail: 'x' });
    expect(isNoop(patched(now, done).status, done)).toBe(true);
  });
});
