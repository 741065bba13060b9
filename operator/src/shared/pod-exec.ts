// Runs a command in a container through pods/exec, streaming its output as it comes. The command
// runs under a wrapper that announces its PID, so that a caller who goes away (abort) stops it:
// closing the exec stream alone leaves the process running in the container.
import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { announcingPid, PidFilter, stopCommand } from './exec-pid.ts';
import { exitCodeFromStatus } from './exec-status.ts';

export interface ExecOptions {
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
  /** Aborting closes the stream and stops the command (TERM, then KILL after a grace period). */
  signal?: AbortSignal;
  /** Seconds between TERM and KILL when stopped (default: stopCommand's); rounded up to whole seconds. */
  graceSeconds?: number;
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

/** How a command ended: its exit code, or why there is none (it never ran, the stream broke). */
export type ExecResult = { code: number } | { code: undefined; aborted: boolean; message: string };

const sink = (write: (chunk: Buffer) => void) =>
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      write(chunk);
      done();
    },
  });

/** Stops a command whose caller went away; a failure here is not the caller's to handle. */
async function stop(exec: Exec, target: ExecTarget, pid: number, graceSeconds?: number): Promise<void> {
  const ignore = sink(() => undefined);
  // Whole seconds: the stop command counts the grace in tenths and its shell compares integers.
  const grace = graceSeconds === undefined ? undefined : Math.ceil(graceSeconds);
  await new Promise<void>((resolve) => {
    // Long enough for the grace period to run out inside the Pod, and the KILL after it.
    const timer = setTimeout(resolve, ((grace ?? 5) + 10) * 1000);
    exec
      .exec(
        target.namespace,
        target.pod,
        target.container,
        stopCommand(pid, grace),
        ignore,
        ignore,
        null,
        false,
        () => {
          clearTimeout(timer);
          resolve();
        },
      )
      .catch(() => resolve());
  });
}

/** Runs `command` in the target container; resolves once it ended (or was stopped). */
export async function execInPod(
  kubeConfig: KubeConfig,
  target: ExecTarget,
  command: string[],
  options: ExecOptions,
): Promise<ExecResult> {
  const stderr = new PidFilter(options.onStderr);
  const exec = new Exec(kubeConfig);
  const status = await new Promise<V1Status>((resolve, reject) => {
    exec
      .exec(
        target.namespace,
        target.pod,
        target.container,
        announcingPid(command),
        sink(options.onStdout),
        sink((chunk) => stderr.write(chunk)),
        null,
        false,
        resolve,
      )
      .then((socket) => {
        const close = () => {
          socket.close();
          resolve({ status: 'Failure', message: 'the client went away' });
        };
        if (options.signal?.aborted) close();
        options.signal?.addEventListener('abort', close, { once: true });
        socket.on('close', () => {
          options.signal?.removeEventListener('abort', close);
          // The status arrives before the close; without one the stream was cut mid-command.
          resolve({ status: 'Failure', message: 'the exec stream closed before the command ended' });
        });
      }, reject);
  });
  stderr.end();
  const aborted = options.signal?.aborted === true;
  if (aborted && stderr.pid !== undefined) await stop(exec, target, stderr.pid, options.graceSeconds);
  const code = exitCodeFromStatus(status);
  if (code !== undefined) return { code };
  return { code: undefined, aborted, message: status.message ?? status.reason ?? 'unknown error' };
}
