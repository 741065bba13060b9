// Each attempt's recent output lines, numbered from 1, held in memory for the shim to stream as
// they are printed (shared/live-output.ts has the protocol; output-server.ts serves it). Bounded
// per attempt by lines and bytes: a reader that falls further behind is told what it missed (a
// gap) and carries on. An ended attempt is kept a little while, so that a client reconnecting
// just after the end still resumes where it was.
import type { OutputFrame, OutputLine, OutputStream } from '../shared/live-output.ts';

export interface OutputLimits {
  /** Lines held per attempt. */
  maxLines: number;
  /** Bytes of text held per attempt (at least the newest line is held). */
  maxBytes: number;
  /** Longer lines are cut to this many characters. */
  maxLineChars: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = {
  maxLines: 10_000,
  maxBytes: 1024 * 1024,
  maxLineChars: 16 * 1024,
};

/** How long an ended attempt's lines stay readable. */
export const ENDED_KEEP_MS = 60_000;

type Listener = (frame: OutputFrame) => void;

/** One attempt's lines: appended by the worker, followed by readers. */
export class AttemptOutput {
  private readonly limits: OutputLimits;
  private readonly onEnd: () => void;
  private lines: OutputLine[] = [];
  /** Index in `lines` of the oldest line still held (dropped ones are compacted away in batches). */
  private head = 0;
  private bytes = 0;
  private seq = 0;
  private done = false;
  private readonly listeners = new Set<Listener>();

  constructor(limits: OutputLimits = DEFAULT_OUTPUT_LIMITS, onEnd: () => void = () => undefined) {
    this.limits = limits;
    this.onEnd = onEnd;
  }

  /** The number of the last line printed (0: none yet). */
  get lastSeq(): number {
    return this.seq;
  }

  /** The number of the oldest line held (lastSeq + 1 when none is). */
  get firstSeq(): number {
    return this.lines[this.head]?.seq ?? this.seq + 1;
  }

  get ended(): boolean {
    return this.done;
  }

  append(text: string, stream: OutputStream): void {
    if (this.done) return;
    const max = this.limits.maxLineChars;
    const line: OutputLine = {
      type: 'line',
      seq: ++this.seq,
      stream,
      text: text.length > max ? `${text.slice(0, max)}…` : text,
    };
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line.text);
    while (
      this.lines.length - this.head > 1 &&
      (this.lines.length - this.head > this.limits.maxLines || this.bytes > this.limits.maxBytes)
    ) {
      const dropped = this.lines[this.head++];
      this.bytes -= dropped ? Buffer.byteLength(dropped.text) : 0;
    }
    if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
    for (const listener of this.listeners) listener(line);
  }

  /** No more lines: readers get `end`. */
  end(): void {
    if (this.done) return;
    this.done = true;
    for (const listener of this.listeners) listener({ type: 'end' });
    this.listeners.clear();
    this.onEnd();
  }

  /**
   * Sends the lines after `after` (a gap first when some are no longer held), then each new line
   * as it is appended, then `end`. Returns the unsubscribe.
   */
  follow(after: number, send: Listener): () => void {
    const first = this.firstSeq;
    if (after + 1 < first) send({ type: 'gap', after, next: first });
    for (let i = this.head; i < this.lines.length; i++) {
      const line = this.lines[i];
      if (line && line.seq > after) send(line);
    }
    if (this.done) {
      send({ type: 'end' });
      return () => undefined;
    }
    const listener: Listener = (frame) => {
      if (frame.type !== 'line' || frame.seq > after) send(frame);
    };
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The output of every attempt a worker runs or just ran, by item and attempt. */
export class LiveOutput {
  private readonly attempts = new Map<string, AttemptOutput>();
  private readonly limits: OutputLimits;
  private readonly keepMs: number;

  constructor(options: { limits?: Partial<OutputLimits>; keepMs?: number } = {}) {
    this.limits = { ...DEFAULT_OUTPUT_LIMITS, ...options.limits };
    this.keepMs = options.keepMs ?? ENDED_KEEP_MS;
  }

  /** Attempts held (running, or ended within the keep period). */
  get size(): number {
    return this.attempts.size;
  }

  /** A new, empty output for an attempt; one held for the same attempt is ended and replaced. */
  open(namespace: string, name: string, attempt: number): AttemptOutput {
    const key = `${namespace}/${name}#${attempt}`;
    this.attempts.get(key)?.end();
    const output = new AttemptOutput(this.limits, () => {
      const timer = setTimeout(() => {
        if (this.attempts.get(key) === output) this.attempts.delete(key);
      }, this.keepMs);
      timer.unref();
    });
    this.attempts.set(key, output);
    return output;
  }

  get(namespace: string, name: string, attempt: number): AttemptOutput | undefined {
    return this.attempts.get(`${namespace}/${name}#${attempt}`);
  }
}
