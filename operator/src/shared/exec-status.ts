import type { V1Status } from '@kubernetes/client-node';

/**
 * The exit code of a command run through pods/exec, from the Status the API server sends on
 * the exec stream's error channel when the command ends.
 *
 * A kubelet reports a non-zero exit as `reason: NonZeroExitCode` with an `ExitCode` cause. Some
 * kubelets (kwok among them) report it only as an InternalError whose message ends in
 * "exit status N". Returns undefined when the status carries no exit code (the exec itself
 * failed: no such container, permission denied, …).
 */
export function exitCodeFromStatus(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause?.message !== undefined) return toExitCode(cause.message);
  const match = /exit status (\d+)\s*$/.exec(status.message ?? '');
  return match?.[1] === undefined ? undefined : toExitCode(match[1]);
}

function toExitCode(text: string): number | undefined {
  const code = Number(text);
  return Number.isInteger(code) && code >= 0 && code <= 255 ? code : undefined;
}
