import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { type RunOptions, runProcess, Tail } from '../../operator/src/worker/process.ts';

/** The last `max` bytes of `text`, starting at a character boundary. */
function expectedTail(text: string, max: number): string {
  const bytes = Buffer.from(text);
  let start = Math.max(0, bytes.length - max);
  while (start < bytes.length && ((bytes[start] as number) & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString();
}

describe('Tail', () => {
  it('keeps everything while under the limit', () => {
    const tail = new Tail(100);
    expect(tail.toString()).toBe('');
    tail.push('one\n');
    tail.push('two\n');
    expect(tail.toString()).toBe('one\ntwo\n');
  });

  it('keeps exactly the last bytes when one chunk is larger than the limit', () => {
    const tail = new Tail(10);
    tail.push('0123456789abcdefghij');
    expect(tail.toString()).toBe('abcdefghij');
  });

  it('keeps the last bytes across chunks, not just the last chunks', () => {
    const tail = new Tail(10);
    tail.push('aaaaaaaa');
    tail.push('bbbbbbbb');
    expect(tail.toString()).toBe('aabbbbbbbb');
    tail.push('cc');
    expect(tail.toString()).toBe('bbbbbbbbcc');
  });

  it('never starts in the middle of a character', () => {
    const tail = new Tail(4);
    tail.push('aé€'); // 1 + 2 + 3 bytes
    expect(tail.toString()).toBe('€');
    const wider = new Tail(5);
    wider.push('aé€');
    expect(wider.toString()).toBe('é€');
  });

  it('matches the last bytes of everything pushed, for many chunkings', () => {
    const pieces = ['x', 'yz', 'é', '€', '😀', 'line\n', '', 'abcdefghijklmnop', 'ü'];
    let seed = 7;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const max = 1 + next(24);
      const tail = new Tail(max);
      let all = '';
      for (let i = next(12); i > 0; i--) {
        const piece = Array.from({ length: next(4) }, () => pieces[next(pieces.length)]).join('');
        tail.push(piece);
        all += piece;
        const got = tail.toString();
        expect(got, `round ${round}, max ${max}`).toBe(expectedTail(all, max));
        expect(Buffer.byteLength(got)).toBeLessThanOrEqual(max);
      }
    }
  });
});

interface Run {
  lines: [string, 'stdout' | 'stderr'][];
  proc: ReturnType<typeof runProcess>;
  /** Resolves once a line equal to `text` was seen. */
  line(text: string): Promise<void>;
}

function sh(script: string, options: Partial<RunOptions> = {}): Run {
  const lines: Run['lines'] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  const proc = runProcess({
    command: ['sh', '-c', script],
    cwd: tmpdir(),
    env: { PATH: process.env.PATH },
    tailBytes: 4096,
    killGraceMs: 5_000,
    onLine: (text, stream) => {
      lines.push([text, stream]);
      for (const w of waiters) if (w.text === text) w.resolve();
    },
    ...options,
  });
  return {
    lines,
    proc,
    line: (text) =>
      lines.some(([t]) => t === text)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ text, resolve })),
  };
}

const of = (run: Run, stream: 'stdout' | 'stderr') =>
  run.lines.filter(([, s]) => s === stream).map(([t]) => t);

type StopReason = Parameters<Run['proc']['stop']>[0];

/** Runs `script` until it prints `started`, stops it for each reason in turn, and awaits the result. */
async function stoppedOnceStarted(script: string, options: Partial<RunOptions>, ...reasons: StopReason[]) {
  const run = sh(script, options);
  await run.line('started');
  for (const reason of reasons) run.proc.stop(reason);
  return { run, result: await run.proc.result };
}

describe('runProcess', () => {
  it('reports the exit code and each line with its stream, a last line without newline included', async () => {
    const run = sh("echo out1; echo err1 >&2; echo out2; printf 'no newline'; exit 3");
    const result = await run.proc.result;
    expect(result.exitCode).toBe(3);
    expect(result.stoppedFor).toBeUndefined();
    expect(of(run, 'stdout')).toEqual(['out1', 'out2', 'no newline']);
    expect(of(run, 'stderr')).toEqual(['err1']);
    expect(result.tail).toContain('out1\n');
    expect(result.tail).toContain('err1\n');
    expect(result.tail).toContain('no newline');
    expect(run.proc.tail()).toBe(result.tail);
  });

  it('exits 0 for a command that succeeds', async () => {
    expect((await sh('true').proc.result).exitCode).toBe(0);
  });

  it('runs in the given directory with exactly the given environment', async () => {
    const run = sh('echo "$GREETING"; echo "home:$HOME"; pwd', {
      env: { PATH: process.env.PATH, GREETING: 'hello there' },
      cwd: '/',
    });
    expect((await run.proc.result).exitCode).toBe(0);
    expect(of(run, 'stdout')).toEqual(['hello there', 'home:', '/']);
  });

  it('exits 127 for a program that does not exist', async () => {
    const lines: string[] = [];
    const proc = runProcess({
      command: ['/nonexistent/program', 'arg'],
      cwd: tmpdir(),
      env: { PATH: process.env.PATH },
      tailBytes: 1024,
      killGraceMs: 1_000,
      onLine: (line) => lines.push(line),
    });
    const result = await proc.result;
    expect(result.exitCode).toBe(127);
    expect(result.tail).toContain('/nonexistent/program');
    expect(lines.join('\n')).toContain('/nonexistent/program');
  });

  it('joins a line that arrives in many chunks and keeps only the tail in the result', async () => {
    const run = sh("head -c 200000 /dev/zero | tr '\\0' x; echo; echo last", { tailBytes: 100 });
    const result = await run.proc.result;
    expect(run.lines.map(([t]) => t.length)).toEqual([200_000, 4]);
    expect(result.tail).toBe(`${'x'.repeat(94)}\nlast\n`);
  });

  it('keeps characters whole when a chunk ends inside one', async () => {
    const run = sh("printf '\\342'; sleep 0.2; printf '\\202\\254 euro\\n'");
    const result = await run.proc.result;
    expect(of(run, 'stdout')).toEqual(['€ euro']);
    expect(result.tail).toBe('€ euro\n');
  });

  it('stops the process group with SIGTERM and reports why', async () => {
    // Stopped twice: the first reason stands.
    const { result } = await stoppedOnceStarted('sleep 30 & echo started; wait', {}, 'timedOut', 'cancelled');
    // The background sleep held the output pipes: the result came only after it was stopped too.
    expect(result).toMatchObject({ exitCode: 143, stoppedFor: 'timedOut' });
  }, 15_000);

  it.each([
    {
      what: 'kills with SIGKILL what ignores SIGTERM, after the grace period',
      script: "trap '' TERM; echo started; sleep 30",
      reason: 'cancelled',
      outcome: { exitCode: 137, stoppedFor: 'cancelled' },
    },
    {
      what: 'kills what ignores SIGTERM after the grace period even when the leader has exited',
      script: "(trap '' TERM; echo started; sleep 30) & wait",
      reason: 'timedOut',
      outcome: { stoppedFor: 'timedOut' },
    },
  ])(
    '$what',
    async ({ script, reason, outcome }) => {
      const { result } = await stoppedOnceStarted(script, { killGraceMs: 200 }, reason);
      expect(result).toMatchObject(outcome);
    },
    15_000,
  );

  it('gives what the leader started the grace period to clean up when stopped', async () => {
    const child =
      "trap 'echo cleaning; sleep 0.2; echo cleaned; exit 0' TERM; echo started; while :; do sleep 0.05; done";
    const { run, result } = await stoppedOnceStarted(`sh -c "${child}" & wait`, {}, 'cancelled');
    expect(result.stoppedFor).toBe('cancelled');
    expect(of(run, 'stdout')).toContain('cleaned');
  }, 15_000);

  it('ends with its leader: nothing it left in the background keeps the attempt going', async () => {
    const run = sh('sleep 30 & echo started');
    const result = await run.proc.result;
    expect(result).toMatchObject({ exitCode: 0, tail: 'started\n' });
    expect(result.stoppedFor).toBeUndefined();
  }, 15_000);
});
