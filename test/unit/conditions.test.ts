import { describe, expect, it } from 'vitest';
import {
  findCondition,
  isConditionTrue,
  removeCondition,
  setCondition,
} from '../../operator/src/runtime/conditions.ts';

const t1 = new Date('2026-01-01T00:00:00Z');
const t2 = new Date('2026-01-01T00:05:00Z');
const ready = (status: 'True' | 'False', reason = 'R', message = '') => ({
  type: 'Ready',
  status,
  reason,
  message,
  observedGeneration: 1,
});

describe('setCondition', () => {
  it('adds a condition with the transition time', () => {
    const out = setCondition([], ready('False'), t1);
    expect(out).toEqual([{ ...ready('False'), lastTransitionTime: t1.toISOString() }]);
  });

  it('keeps lastTransitionTime when the status stays, even if reason and message change', () => {
    const before = setCondition([], ready('False', 'Waiting'), t1);
    const after = setCondition(
      before,
      { ...ready('False', 'StillWaiting', 'more detail'), observedGeneration: 2 },
      t2,
    );
    expect(after[0]).toMatchObject({ reason: 'StillWaiting', message: 'more detail', observedGeneration: 2 });
    expect(after[0]?.lastTransitionTime).toBe(t1.toISOString());
  });

  it('moves lastTransitionTime when the status flips', () => {
    const after = setCondition(setCondition([], ready('False'), t1), ready('True'), t2);
    expect(after[0]?.lastTransitionTime).toBe(t2.toISOString());
    expect(isConditionTrue(after, 'Ready')).toBe(true);
  });

  it('keeps one condition per type and leaves the others and the input alone', () => {
    const other = { type: 'RepoReady', status: 'True' as const, reason: 'Created', message: '' };
    const input = setCondition(setCondition([], other, t1), ready('False'), t1);
    const out = setCondition(input, ready('True'), t2);
    expect(out.map((c) => c.type)).toEqual(['RepoReady', 'Ready']);
    expect(findCondition(input, 'Ready')?.status).toBe('False');
    expect(removeCondition(out, 'Ready').map((c) => c.type)).toEqual(['RepoReady']);
  });
});
