// Runs a command in a Session's Pod through pods/exec, streaming its output as it comes, and
// records the activity that keeps the Session from its idle timeout. The shim serves this as
// server-sent events; anything else holding a kubeconfig can call it the same way.
import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { SESSIONS } from '../api/resources.ts';
import { parseDuration } from '../api/v1alpha1/duration.ts';
import { type LiveSession, WORKSPACE_CONTAINER } from '../controllers/session/desired.ts';
import { exitCodeFromStatus } from '../kube/exec-status.ts';
import { isNotFound, type KubeClient } from '../runtime/client.ts';
import { announcingPid, PidFilter, stopCommand } from './exec-pid.ts';

export interface ExecOptions {
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
  /** Aborting closes the stream and stops the command (TERM, then KILL after a grace period). */
  signal?: AbortSignal;
}

/** The command could not run in the Session (not Active, no Pod, exec refused). */
export class SessionExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionExecError';
  }
}

const sink = (write: (chunk: Buffer) => void) =>
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      write(chunk);
      done();
    },
  });

/** Records activity now: a merge patch of status.lastActivityAt, which only exec writes. */
const touch = (client: KubeClient, namespace: string, name: string) =>
  client.patch(
    SESSIONS,
    namespace,
    name,
    { status: { lastActivityAt: new Date().toISOString() } },
    'merge',
    { fieldManager: 'rdev-session-exec' },
    'status',
  );

/**
 * How often a running command records activity: often enough that a command running longer than
 * the idle timeout keeps its Session, at most once a minute.
 */
export function activityInterval(idleTimeout: string): number {
  return Math.min(60_000, (parseDuration(idleTimeout) ?? 1_800_000) / 2);
}

/** Stops a command whose caller went away; a failure here is not the caller's to handle. */
async function stop(exec: Exec, namespace: string, pod: string, pid: number): Promise<void> {
  const ignore = sink(() => undefined);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 15_000);
    exec
      .exec(namespace, pod, WORKSPACE_CONTAINER, stopCommand(pid), ignore, ignore, null, false, () => {
        clearTimeout(timer);
        resolve();
      })
      .catch(() => resolve());
  });
}

/** Runs `command` in the Session's Pod; resolves with its exit code. */
export async function execInSession(
  kubeConfig: KubeConfig,
  client: KubeClient,
  namespace: string,
  name: string,
  command: string[],
  options: ExecOptions,
): Promise<number> {
  const session = await client.get<LiveSession>(SESSIONS, namespace, name);
  const pod = session.status?.podName;
  if (session.status?.phase !== 'Active' || !pod) {
    throw new SessionExecError(
      `Session ${namespace}/${name} is ${session.status?.phase ?? 'Pending'}, not Active`,
    );
  }
  await touch(client, namespace, name);
  // A failed tick is retried by the next one; the touch after the command reports a lasting failure.
  const ticks = setInterval(
    () => void touch(client, namespace, name).catch(() => undefined),
    activityInterval(session.spec.idleTimeout),
  );
  const stderr = new PidFilter(options.onStderr);
  const exec = new Exec(kubeConfig);
  let status: V1Status;
  try {
    status = await new Promise<V1Status>((resolve, reject) => {
      exec
        .exec(
          namespace,
          pod,
          WORKSPACE_CONTAINER,
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
    if (options.signal?.aborted && stderr.pid !== undefined) await stop(exec, namespace, pod, stderr.pid);
  } finally {
    clearInterval(ticks);
  }
  // A long command is activity too. A Session gone meanwhile (expired, deleted) has nothing to record.
  await touch(client, namespace, name).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
  const code = exitCodeFromStatus(status);
  if (code === undefined) {
    if (options.signal?.aborted) return 130;
    throw new SessionExecError(
      `the command did not run: ${status.message ?? status.reason ?? 'unknown error'}`,
    );
  }
  return code;
}
