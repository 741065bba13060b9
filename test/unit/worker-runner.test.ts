// An attempt run in its Pod: the wait for the Pod to be Ready, and the exec's output, exit code
// and stop, against a fake Pod and a fake exec (the real ones need a cluster).
import { describe, expect, it } from 'vitest';
import type { ExecOptions, ExecResult } from '../../operator/src/shared/pod-exec.ts';
import { type PodView, podState, type RunnerOptions, runInPod } from '../../operator/src/worker/runner.ts';

const pod = (phase: string, ready = false, deleting = false): PodView => ({
  metadata: deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {},
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('podState', () => {
  it.each([
    ['a Running, Ready Pod', pod('Running', true), 'ready'],
    ['a Pending Pod', pod('Pending'), 'waiting'],
    ['a Running Pod not Ready yet', pod('Running'), 'waiting'],
    ['a Pod with no status yet', { metadata: {} }, 'waiting'],
  ] as const)('%s: %s', (_, p, state) => {
    expect(podState(p, 'ns/r1')).toEqual({ state });
  });

  it.each([
    ['gone', undefined, 'Pod ns/r1 is gone'],
    ['being deleted', pod('Running', true, true), 'Pod ns/r1 is being deleted'],
    ['Succeeded', pod('Succeeded'), 'Pod ns/r1 has ended (Succeeded)'],
    ['Failed', pod('Failed'), 'Pod ns/r1 has ended (Failed)'],
  ] as const)('a Pod %s: lost', (_, p, reason) => {
    expect(podState(p, 'ns/r1')).toEqual({ state: 'lost', reason });
  });
});

/** A fake exec: records the command, then runs `script` with the stream callbacks. */
function fakeExec(script: (options: ExecOptions) => Promise<ExecResult>) {
  const calls: string[][] = [];
  return {
    calls,
    exec: (command: string[], options: ExecOptions) => {
      calls.push(command);
      return script(options);
    },
  };
}

/** An exec that runs until aborted, as a stopped command does. */
const untilAborted = (options: ExecOptions) =>
  new Promise<ExecResult>((resolve) => {
    options.onStdout(Buffer.from('started\n'));
    options.signal?.addEventListener('abort', () =>
      resolve({ code: undefined, aborted: true, message: 'the client went away' }),
    );
  });

function run(
  pods: (PodView | undefined)[],
  exec: RunnerOptions['exec'],
  options: Partial<RunnerOptions> = {},
) {
  const lines: [string, string][] = [];
  let reads = 0;
  const proc = runInPod({
    pod: 'ns/r1',
    steps: { command: ['echo', 'hi'] },
    getPod: async () => pods[Math.min(reads++, pods.length - 1)],
    exec,
    waitMs: 5_000,
    pollMs: 1,
    tailBytes: 1024,
    onLine: (line, stream) => lines.push([line, stream]),
    ...options,
  });
  return { proc, lines, reads: () => reads };
}

describe('runInPod', () => {
  it('waits for the Pod to be Ready, then runs the command and streams its output', async () => {
    const fake = fakeExec(async (o) => {
      o.onStdout(Buffer.from('one\ntw'));
      o.onStderr(Buffer.from('oops\n'));
      o.onStdout(Buffer.from('o\nthree'));
      return { code: 3 };
    });
    const r = run([pod('Pending'), pod('Running'), pod('Running', true)], fake.exec);
    const result = await r.proc.result;
    expect(r.reads()).toBe(3);
    expect(fake.calls).toEqual([['echo', 'hi']]);
    expect(result).toEqual({ exitCode: 3, tail: 'one\ntwoops\no\nthree' });
    expect(r.lines).toEqual([
      ['one', 'stdout'],
      ['oops', 'stderr'],
      ['two', 'stdout'],
      ['three', 'stdout'],
    ]);
    expect(r.proc.tail()).toBe(result.tail);
  });

  it.each([
    ['gone', undefined, 'Pod ns/r1 is gone'],
    ['Failed', pod('Failed'), 'Pod ns/r1 has ended (Failed)'],
    ['deleted', pod('Pending', false, true), 'Pod ns/r1 is being deleted'],
  ] as const)('is lost at once, without an exec, when the Pod is %s', async (_, p, reason) => {
    const fake = fakeExec(async () => ({ code: 0 }));
    const r = run([pod('Pending'), p], fake.exec);
    expect(await r.proc.result).toEqual({ lost: reason, tail: '' });
    expect(fake.calls).toEqual([]);
  });

  it('is lost, naming the Pod, when the Pod is not Ready in time; a failed read says why', async () => {
    const fake = fakeExec(async () => ({ code: 0 }));
    const pending = run([pod('Pending')], fake.exec, { waitMs: 30, pollMs: 5 });
    expect(await pending.proc.result).toEqual({
      lost: 'Pod ns/r1 was not Ready within 0.03s (it is not Ready)',
      tail: '',
    });
    const failing = run([], fake.exec, {
      waitMs: 30,
      pollMs: 5,
      getPod: () => Promise.reject(new Error('connection refused')),
    });
    expect(await failing.proc.result).toEqual({
      lost: 'Pod ns/r1 was not Ready within 0.03s (reading it failed: connection refused)',
      tail: '',
    });
    expect(fake.calls).toEqual([]);
  });

  it('runs once a failed read is followed by a Ready Pod', async () => {
    let reads = 0;
    const fake = fakeExec(async () => ({ code: 0 }));
    const r = run([], fake.exec, {
      getPod: async () => {
        if (reads++ === 0) throw new Error('timeout');
        return pod('Running', true);
      },
    });
    expect(await r.proc.result).toEqual({ exitCode: 0, tail: '' });
  });

  it('stops while waiting: no exec, the reason given', async () => {
    const fake = fakeExec(async () => ({ code: 0 }));
    const r = run([pod('Pending')], fake.exec, { pollMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    r.proc.stop('cancelled');
    expect(await r.proc.result).toEqual({
      lost: 'stopped before it started',
      stoppedFor: 'cancelled',
      tail: '',
    });
    expect(fake.calls).toEqual([]);
  });

  it('stops a running command by aborting its exec; the first reason stands', async () => {
    let signal: AbortSignal | undefined;
    const fake = fakeExec((o) => {
      signal = o.signal;
      return untilAborted(o);
    });
    const r = run([pod('Running', true)], fake.exec);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r.lines).toEqual([['started', 'stdout']]);
    r.proc.stop('timedOut');
    r.proc.stop('cancelled');
    expect(await r.proc.result).toEqual({ lost: 'stopped', stoppedFor: 'timedOut', tail: 'started\n' });
    expect(signal?.aborted).toBe(true);
  });

  it('keeps the exit code of a command that ended as it was stopped', async () => {
    const fake = fakeExec(
      (o) => new Promise((resolve) => o.signal?.addEventListener('abort', () => resolve({ code: 143 }))),
    );
    const r = run([pod('Running', true)], fake.exec);
    await new Promise((resolve) => setTimeout(resolve, 10));
    r.proc.stop('cancelled');
    expect(await r.proc.result).toEqual({ exitCode: 143, stoppedFor: 'cancelled', tail: '' });
  });

  it('is lost when the exec gives no exit code or fails outright', async () => {
    const broken = run(
      [pod('Running', true)],
      fakeExec(async (o) => {
        o.onStdout(Buffer.from('partial'));
        return {
          code: undefined,
          aborted: false,
          message: 'the exec stream closed before the command ended',
        };
      }).exec,
    );
    expect(await broken.proc.result).toEqual({
      lost: 'the command did not run in Pod ns/r1: the exec stream closed before the command ended',
      tail: 'partial',
    });
    expect(broken.lines).toEqual([['partial', 'stdout']]);
    const refused = run([pod('Running', true)], () => Promise.reject(new Error('403 Forbidden')));
    expect(await refused.proc.result).toEqual({ lost: 'exec in Pod ns/r1 failed: 403 Forbidden', tail: '' });
  });
});

describe('runInPod with git steps', () => {
  const start = { baseBranch: 'main', head: 'a'.repeat(40) };
  const ready = [pod('Running', true)];
  /** Answers each step by its first argument: prepare, the command, finish. */
  const steps =
    (answers: Record<string, (o: ExecOptions) => Promise<ExecResult>>) =>
    (command: string[], options: ExecOptions) => {
      const answer = answers[command[0] ?? ''];
      if (!answer) throw new Error(`unexpected step ${command[0]}`);
      return answer(options);
    };
  const gitSteps = {
    prepare: ['prepare'],
    command: ['command'],
    finish: (s: typeof start) => ['finish', s.head],
  };
  const says =
    (text: string, code = 0) =>
    async (o: ExecOptions) => {
      o.onStdout(Buffer.from(text));
      return { code };
    };

  it("reads prepare's and finish's stdout back as the worker's, and shows only the command's output", async () => {
    const r = run(
      ready,
      steps({
        prepare: says(`start main ${start.head}\n`),
        command: says('working\n'),
        finish: says(`changed ${'b'.repeat(40)}\n`),
      }),
      { steps: gitSteps },
    );
    expect(await r.proc.result).toEqual({
      exitCode: 0,
      tail: 'working\n',
      git: { start, result: { changed: true, commit: 'b'.repeat(40) } },
    });
    expect(r.lines).toEqual([['working', 'stdout']]);
  });

  it('does not commit the work of a command that failed', async () => {
    const finish = async () => {
      throw new Error('finish must not run');
    };
    const r = run(
      ready,
      steps({ prepare: says(`start main ${start.head}\n`), command: says('', 2), finish }),
      {
        steps: gitSteps,
      },
    );
    expect(await r.proc.result).toEqual({ exitCode: 2, tail: '', git: { start } });
  });

  it('is lost when preparing the repository fails (retried), and failed when the branch moved (not retried)', async () => {
    const broken = run(ready, steps({ prepare: says('', 128) }), { steps: gitSteps });
    expect(await broken.proc.result).toEqual({
      lost: 'preparing the repository failed (exit code 128)',
      tail: '',
    });
    const moved = run(
      ready,
      steps({ prepare: says(`start main ${start.head}\n`), command: says(''), finish: says('', 75) }),
      { steps: gitSteps },
    );
    const result = await moved.proc.result;
    expect('failed' in result && result.failed).toMatch(/moved|was created/);
  });
});
