// A Feature's status from one pass: phases only ever forward, each entered one in phaseHistory
// with an Event; the conditions that tell the story (Ready, Blocked, AwaitingApproval, Released).
import { describe, expect, it } from 'vitest';
import type { LiveFeature } from '../../operator/src/api/v1alpha1/index.ts';
import { featureStatus } from '../../operator/src/controllers/feature/status.ts';

const NOW = new Date('2026-11-29T12:00:00Z');
const feature = (status: LiveFeature['status'] = { phase: 'draft' }): LiveFeature =>
  ({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Feature',
    metadata: {
      name: 'login',
      namespace: 'team',
      uid: 'u',
      generation: 2,
      creationTimestamp: '2026-11-29T11:00:00Z',
    },
    spec: {
      projectRef: { name: 'shop' },
      title: 'Passkeys',
      description: '',
      dependsOn: ['base'],
      paused: false,
      approvalPolicy: {},
      approvals: [],
      rejections: [],
      waivers: [],
      maxFixCycles: 3,
    },
    status,
  }) as unknown as LiveFeature;
const condition = (s: { conditions?: { type: string; status: string; reason: string }[] }, type: string) =>
  s.conditions?.find((c) => c.type === type);

describe('featureStatus', () => {
  it('records every phase entered, in order, with an Event each', () => {
    const { status, transitions } = featureStatus(
      feature(),
      {
        entered: ['specified', 'planned'],
        next: { rule: 'specified/design-to-write', action: 'create_design' },
      },
      NOW,
    );
    expect(status.phase).toBe('planned');
    expect(status.phaseHistory).toEqual([
      { phase: 'draft', enteredAt: '2026-11-29T11:00:00Z' },
      { phase: 'specified', enteredAt: NOW.toISOString() },
      { phase: 'planned', enteredAt: NOW.toISOString() },
    ]);
    expect(transitions.map((t) => t.note)).toEqual(['entered phase specified', 'entered phase planned']);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Progressing' });
  });

  it('never goes back, whatever a pass says', () => {
    const { status, transitions } = featureStatus(
      feature({ phase: 'review' }),
      { entered: ['implementation'] },
      NOW,
    );
    expect(status.phase).toBe('review');
    expect(transitions).toEqual([]);
  });

  it('says who it waits for: a dependency, or a human', () => {
    const blocked = featureStatus(
      feature(),
      {
        entered: [],
        next: { rule: 'blocked/dependencies', action: 'wait_for_dependencies', gate: 'blocked' },
      },
      NOW,
    ).status;
    expect(condition(blocked, 'Blocked')).toMatchObject({
      status: 'True',
      reason: 'DependenciesNotReleased',
    });
    expect(condition(blocked, 'Ready')).toMatchObject({ status: 'False', reason: 'Blocked' });
    const human = featureStatus(
      feature(),
      {
        entered: [],
        next: {
          rule: 'review/review-rejected',
          action: 'wait_for_approval',
          gate: 'human',
          reason: 'FixCyclesExhausted',
          artifact: 'review',
        },
      },
      NOW,
    );
    expect(condition(human.status, 'AwaitingApproval')).toMatchObject({
      status: 'True',
      reason: 'FixCyclesExhausted',
    });
    expect(human.transitions).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'FixCyclesExhausted' }),
    ]);
  });

  it('is Released at the end', () => {
    const { status } = featureStatus(
      feature({ phase: 'merge' }),
      { entered: ['released'], next: { rule: 'released/done', action: 'done' } },
      NOW,
    );
    expect(condition(status, 'Released')?.status).toBe('True');
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Released' });
  });

  it('names the WorkItem it started, and forgets it once it ended', () => {
    const started = featureStatus(
      feature(),
      {
        entered: [],
        workItem: 'login-create-spec-1',
        started: 'login-create-spec-1',
        next: { rule: 'draft/spec-to-write', action: 'create_spec' },
      },
      NOW,
    );
    expect(started.status.workItem).toBe('login-create-spec-1');
    expect(started.transitions).toEqual([expect.objectContaining({ reason: 'ActionStarted' })]);
    expect(featureStatus(feature(started.status), { entered: [] }, NOW).status.workItem).toBeUndefined();
  });
});
