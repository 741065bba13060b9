// Runs one attempt's command: in its own process group (so stopping it stops what it started),
// with the parent-death signal set where setpriv exists (a worker that dies takes its children
// along instead of leaving them running unseen), streaming each output line to `onLine`, and
// keeping the last bytes for status.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface RunOptions {
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  tailBytes: number;
  /** Milliseconds between SIGTERM and SIGKILL when stopped. */
  killGraceMs: number;
}

export interface RunResult {
  exitCode: number;
  /** Set when the process was stopped by stop(): the reason given. */
  stoppedFor?: string;
  tail: string;
}

export interface RunningProcess {
  result: Promise<RunResult>;
  /** SIGTERM to the group, SIGKILL after the grace period; resolves `result` with the reason. */
  stop(reason: string): void;
  /** The output so far (its tail). */
  tail(): string;
}

const findOnPath = (bin: string): string | undefined => {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return join(dir, bin);
    } catch {}
  }
  return undefined;
};
const SETPRIV = process.platform === 'linux' ? findOnPath('setpriv') : undefined;

/** Bounded tail of a stream of text. */
export class Tail {
  private chunks: string[] = [];
  private size = 0;
  private readonly max: number;

  constructor(maxBytes: number) {
    this.max = maxBytes;
  }

  push(text: string): void {
    this.chunks.push(text);
    this.size += Buffer.byteLength(text);
    // Drop a chunk only while the rest still holds the last `max` bytes.
    for (let first = this.chunks[0]; first !== undefined && this.chunks.length > 1; first = this.chunks[0]) {
      const bytes = Buffer.byteLength(first);
      if (this.size - bytes < this.max) break;
      this.chunks.shift();
      this.size -= bytes;
    }
  }

  toString(): string {
    const all = this.chunks.join('');
    const bytes = Buffer.from(all);
    if (bytes.length <= this.max) return all;
    // Cut at a character boundary: drop UTF-8 continuation bytes at the start.
    let start = bytes.length - this.max;
    while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString();
  }
}

export function runProcess(options: RunOptions): RunningProcess {
  const [program, ...args] = options.command;
  if (program === undefined) throw new Error('no command to run');
  // With setpriv, the process dies with the worker even if the worker is killed outright.
  const [bin, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', program, ...args]] : [program, args];
  const tail = new Tail(options.tailBytes);
  let stoppedFor: string | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const child = spawn(bin, argv, {
    cwd: options.cwd,
    env: options.env,
    detached: true, // its own process group
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    // The group outlives its leader while anything of it still holds the output open.
    if (child.pid === undefined || closed) return;
    try {
      process.kill(-child.pid, signal);
    } catch {}
  };

  const lineReader = (stream: 'stdout' | 'stderr') => {
    let partial = '';
    return {
      data(text: string) {
        tail.push(text);
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) options.onLine(line, stream);
      },
      end() {
        if (partial) options.onLine(partial, stream);
        partial = '';
      },
    };
  };
  const out = lineReader('stdout');
  const err = lineReader('stderr');
  // Decoded as a stream: a character split across two chunks stays whole.
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', out.data);
  child.stderr.on('data', err.data);

  const result = new Promise<RunResult>((resolve) => {
    child.on('error', (error) => {
      // Could not start at all (no such program): a shell would say 127.
      const message = `cannot run ${program}: ${error.message}\n`;
      tail.push(message);
      options.onLine(message.trimEnd(), 'stderr');
      clearTimeout(killTimer);
      resolve({ exitCode: 127, stoppedFor, tail: tail.toString() });
    });
    // The group may outlive its leader: once the leader exits nothing of it stays behind (what it
    // left holding the output open would otherwise keep the attempt going). When stopping, the
    // grace period still applies.
    child.on('exit', () => {
      if (stoppedFor === undefined) signalGroup('SIGKILL');
    });
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      clearTimeout(killTimer);
      signalGroup('SIGKILL');
      closed = true;
      const exitCode = code ?? 128 + (signal ? signalNumber(signal) : 0);
      resolve({ exitCode, stoppedFor, tail: tail.toString() });
    });
  });

  return {
    result,
    tail: () => tail.toString(),
    stop(reason) {
      if (stoppedFor !== undefined) return;
      stoppedFor = reason;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), options.killGraceMs);
      killTimer.unref();
    },
  };
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
const signalNumber = (signal: NodeJS.Signals) => SIGNALS[signal] ?? 0;
