// The pure part of a Feature's human decisions: a decision binds to the artifact's current digest,
// the same decision is recorded once, an artifact is waived once, and the shim's body schemas
// accept exactly what the CRD accepts.
import { describe, expect, it } from 'vitest';
import {
  artifactField,
  type Decision,
  decidedBy,
  digestField,
  digestMismatch,
  sameDecision,
  waiverReasonField,
  withDecision,
  withWaiver,
} from '../../api-shim/src/features/decisions.ts';
import { ARTIFACT_TYPES, type LiveFeature } from '../../operator/src/api/v1alpha1/index.ts';

const SHA1 = 'a'.repeat(40);
const SHA1_NEW = 'b'.repeat(40);
const SHA256 = 'c'.repeat(64);

const withArtifacts = (artifacts: NonNullable<LiveFeature['status']>['artifacts']) =>
  ({ status: { artifacts } }) as Pick<LiveFeature, 'status'>;

const feature = withArtifacts([
  { type: 'spec', status: 'draft', path: 'features/login/spec.md', digest: SHA1 },
  { type: 'design', status: 'missing', path: 'features/login/design.md' },
  { type: 'tasks', status: 'approved', path: 'features/login/tasks.md', digest: SHA256 },
]);

describe('digestMismatch', () => {
  it('accepts the artifact’s current digest, SHA-1 or SHA-256', () => {
    expect(digestMismatch(feature, 'spec', SHA1)).toBeUndefined();
    expect(digestMismatch(feature, 'tasks', SHA256)).toBeUndefined();
  });

  it('names the current digest when the decision is on another version', () => {
    expect(digestMismatch(feature, 'spec', SHA1_NEW)).toBe(
      `the artifact spec is at digest ${SHA1}, not ${SHA1_NEW}: read it again and decide on that version`,
    );
  });

  it('says the artifact does not exist yet: missing, unlisted, or no status at all', () => {
    for (const [f, artifact] of [
      [feature, 'design'],
      [feature, 'qa_plan'],
      [{ status: undefined }, 'spec'],
      [withArtifacts(undefined), 'spec'],
      [withArtifacts([{ type: 'audit', status: 'missing', path: 'a.md', digest: SHA1 }]), 'audit'],
    ] as const) {
      expect(digestMismatch(f, artifact, SHA1), artifact).toMatch(/does not exist yet/);
    }
  });
});

describe('withDecision', () => {
  const approval: Decision = { artifact: 'spec', digest: SHA1, by: 'ci (key k1)' };

  it('appends a new decision, keeping the others in order', () => {
    const earlier: Decision = { artifact: 'design', digest: SHA1, by: 'ann (key k2)', reason: 'fine' };
    expect(withDecision([earlier], approval)).toEqual([earlier, approval]);
    expect(withDecision([], approval)).toEqual([approval]);
  });

  it('is a no-op for a decision already recorded (no reason and an empty one are the same)', () => {
    expect(withDecision([approval], { ...approval })).toBeUndefined();
    expect(withDecision([approval], { ...approval, reason: '' })).toBeUndefined();
    expect(withDecision([{ ...approval, reason: 'ok' }], { ...approval, reason: 'ok' })).toBeUndefined();
  });

  it('records a decision that differs in any field', () => {
    for (const other of [
      { ...approval, digest: SHA1_NEW },
      { ...approval, artifact: 'design' as const },
      { ...approval, by: 'ci (key k9)' },
      { ...approval, reason: 'now with a reason' },
    ]) {
      expect(sameDecision(approval, other)).toBe(false);
      expect(withDecision([approval], other)).toEqual([approval, other]);
    }
  });
});

describe('withWaiver', () => {
  it('waives an artifact once, whoever waives it again and why', () => {
    const waiver = { artifact: 'qa_plan' as const, by: 'ci (key k1)', reason: 'a one-line fix' };
    expect(withWaiver([], waiver)).toEqual([waiver]);
    expect(withWaiver([waiver], { ...waiver, by: 'ann (key k2)', reason: 'other' })).toBeUndefined();
    const audit = { ...waiver, artifact: 'audit' as const };
    expect(withWaiver([waiver], audit)).toEqual([waiver, audit]);
  });
});

describe('what a decision carries', () => {
  it('names the key by its name and its id', () => {
    expect(decidedBy({ id: 'k1', name: 'release bot' })).toBe('release bot (key k1)');
  });

  it('takes the CRD’s artifact types and git SHAs, and nothing else', () => {
    for (const type of ARTIFACT_TYPES) expect(artifactField.safeParse(type).success).toBe(true);
    expect(artifactField.safeParse('readme').success).toBe(false);
    for (const digest of [SHA1, SHA256]) expect(digestField.safeParse(digest).success).toBe(true);
    for (const digest of ['a'.repeat(39), 'A'.repeat(40), 'a'.repeat(50), `${'a'.repeat(39)}g`, ''])
      expect(digestField.safeParse(digest).success, digest).toBe(false);
    expect(waiverReasonField.safeParse('').success).toBe(false);
  });
});
