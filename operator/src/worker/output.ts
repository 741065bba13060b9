// An attempt's output as the worker handles it, wherever the attempt runs (a runner Pod, the CI
// pipeline): each stream split into lines for the worker's log, and the last bytes of everything
// kept for the item's status.
import { StringDecoder } from 'node:string_decoder';

interface Ended {
  /** Set when the run was stopped by stop(): the reason given. */
  stoppedFor?: string;
  tail: string;
}

/** A run that ended with an exit code. */
export type Exited = Ended & { exitCode: number };

/**
 * How an attempt's run ended: an exit code; why there is none (it never ran, the stream broke:
 * `lost`, worth another attempt); or why it failed for good (`failed`: another attempt would fail
 * the same way).
 */
export type RunResult = Exited | (Ended & { lost: string }) | (Ended & { failed: string });

export interface RunningProcess<R extends RunResult = RunResult> {
  result: Promise<R>;
  /** Stops the run; resolves `result` with the reason. */
  stop(reason: string): void;
  /** The output so far (its tail). */
  tail(): string;
}

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

/**
 * One output stream split into lines: decoded as UTF-8 across chunks (a character split between
 * two chunks stays whole), each complete line passed to `onLine`, all text pushed to `tail`.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private readonly onLine: (line: string) => void;
  private readonly tail: Tail;

  constructor(tail: Tail, onLine: (line: string) => void) {
    this.tail = tail;
    this.onLine = onLine;
  }

  write(chunk: Buffer): void {
    this.text(this.decoder.write(chunk));
  }

  /** The last line, even without a newline. */
  end(): void {
    this.text(this.decoder.end());
    if (this.partial) this.onLine(this.partial);
    this.partial = '';
  }

  private text(text: string): void {
    if (!text) return;
    this.tail.push(text);
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
  }
}
