import { describe, expect, it } from 'vitest';
import { exitCodeFromStatus } from '../../operator/src/shared/exec-status.ts';

describe('exitCodeFromStatus', () => {
  it('is 0 for Success', () => {
    expect(exitCodeFromStatus({ status: 'Success', metadata: {} })).toBe(0);
  });

  it('reads the ExitCode cause of a NonZeroExitCode status (kubelet)', () => {
    expect(
      exitCodeFromStatus({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3]',
        details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      }),
    ).toBe(3);
  });

  it('reads "exit status N" from an InternalError message (kwok)', () => {
    expect(
      exitCodeFromStatus({
        status: 'Failure',
        reason: 'InternalError',
        message:
          'Internal error occurred: error executing command in container: cmd wait: sh -c exit 3: exit status 3',
      }),
    ).toBe(3);
  });

  it('is undefined when the exec itself failed', () => {
    expect(
      exitCodeFromStatus({ status: 'Failure', reason: 'BadRequest', message: 'container foo is not valid' }),
    ).toBeUndefined();
    expect(
      exitCodeFromStatus({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: 'not-a-number' }] },
      }),
    ).toBeUndefined();
  });
});
