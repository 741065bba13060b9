import { describe, expect, it } from 'vitest';
import { runnerInputsChanged } from '../../operator/src/controllers/runner/index.ts';
import type { KubeObject } from '../../operator/src/runtime/client.ts';

const project = (generation: number, status: Record<string, unknown> = {}) =>
  ({ metadata: { name: 'shop', namespace: 'team', generation }, spec: {}, status }) as KubeObject;
const update = (old: KubeObject, obj: KubeObject) => runnerInputsChanged({ type: 'update', old, obj });
const condition = (type: string, status: string) => ({ type, status, reason: 'X', message: '' });

describe('the runner pool wakes for a Project', () => {
  it('when it is new or gone, its spec changes, or what its runners are made from turns ready', () => {
    expect(runnerInputsChanged({ type: 'add', obj: project(1) })).toBe(true);
    expect(runnerInputsChanged({ type: 'delete', obj: project(1) })).toBe(true);
    expect(update(project(1), project(2))).toBe(true);
    expect(
      update(
        project(1, { conditions: [condition('DatabaseReady', 'False')] }),
        project(1, { conditions: [condition('DatabaseReady', 'True')] }),
      ),
    ).toBe(true);
    expect(update(project(1), project(1, { repo: { cloneURL: 'http://git/x.git' } }))).toBe(true);
  });

  it('not for the status writes that do not change its runners: phase, Ready, its own counts', () => {
    expect(
      update(
        project(1, { phase: 'Provisioning', conditions: [condition('Ready', 'False')] }),
        project(1, {
          phase: 'Ready',
          conditions: [condition('Ready', 'True')],
          runners: { warm: 1, busy: 0 },
        }),
      ),
    ).toBe(false);
  });
});
