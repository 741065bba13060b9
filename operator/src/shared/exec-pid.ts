// Closing an exec stream does not stop the command: kubelets (and kwok) leave it running. So a
// command runs under a tiny shell wrapper that first prints its PID on stderr, then execs the
// command in its place (same PID, same exit code); a caller that goes away has it killed by PID.

const MARKER = 'rdev-exec-pid:';

/** `command`, wrapped to announce its PID on the first line of stderr. */
export const announcingPid = (command: string[]): string[] => [
  'sh',
  '-c',
  `echo ${MARKER}$$ >&2; exec "$@"`,
  'rdev-exec',
  ...command,
];

/** The command that stops the process `pid` (and, with the grace period, kills it). */
export const stopCommand = (pid: number, graceSeconds = 5): string[] => [
  'sh',
  '-c',
  `kill -TERM ${pid} 2>/dev/null || exit 0; i=0; while kill -0 ${pid} 2>/dev/null && [ $i -lt ${graceSeconds * 10} ]; do sleep 0.1; i=$((i+1)); done; kill -KILL ${pid} 2>/dev/null; exit 0`,
];

/** Strips the PID line from the start of stderr, passing everything else on (pure apart from `forward`). */
export class PidFilter {
  pid: number | undefined;
  private pending: Buffer | undefined = Buffer.alloc(0);
  private readonly forward: (chunk: Buffer) => void;

  constructor(forward: (chunk: Buffer) => void) {
    this.forward = forward;
  }

  write(chunk: Buffer): void {
    if (!this.pending) {
      this.forward(chunk);
      return;
    }
    const data = Buffer.concat([this.pending, chunk]);
    const newline = data.indexOf(0x0a);
    if (newline < 0 && data.length < 64 && MARKER.startsWith(data.toString().slice(0, MARKER.length))) {
      this.pending = data; // the marker line is still arriving
      return;
    }
    this.pending = undefined;
    const first = data.subarray(0, newline < 0 ? data.length : newline).toString();
    if (newline >= 0 && first.startsWith(MARKER) && /^\d+$/.test(first.slice(MARKER.length))) {
      this.pid = Number(first.slice(MARKER.length));
      const rest = data.subarray(newline + 1);
      if (rest.length) this.forward(rest);
      return;
    }
    this.forward(data);
  }

  /** Whatever is held back when the stream ends. */
  end(): void {
    if (this.pending?.length) this.forward(this.pending);
    this.pending = undefined;
  }
}
