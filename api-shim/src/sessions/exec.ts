// Runs a command in a Session's Pod, streaming its output, and records the activity that keeps
// the Session from its idle timeout. The shim serves this as server-sent events.
import type { KubeConfig } from '@kubernetes/client-node';
import { WORKSPACE_CONTAINER } from '../../../operator/src/api/constants.ts';
import { SESSIONS } from '../../../operator/src/api/resources.ts';
import { durationMs } from '../../../operator/src/api/v1alpha1/duration.ts';
import { parseSession } from '../../../operator/src/api/v1alpha1/index.ts';
import { isNotFound, type KubeClient } from '../../../operator/src/runtime/client.ts';
import { type ExecOptions, execInPod } from '../../../operator/src/shared/pod-exec.ts';

/** The command could not run in the Session (not Active, no Pod, exec refused). */
export class SessionExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionExecError';
  }
}

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
  return Math.min(60_000, durationMs(idleTimeout) / 2);
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
  const session = parseSession(await client.get(SESSIONS, namespace, name));
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
  let result: Awaited<ReturnType<typeof execInPod>>;
  try {
    result = await execInPod(
      kubeConfig,
      { namespace, pod, container: WORKSPACE_CONTAINER },
      command,
      options,
    );
  } finally {
    clearInterval(ticks);
  }
  // A long command is activity too. A Session gone meanwhile (expired, deleted) has nothing to record.
  await touch(client, namespace, name).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
  if (result.code !== undefined) return result.code;
  if (result.aborted) return 130;
  throw new SessionExecError(`the command did not run: ${result.message}`);
}
