import { describe, expect, it } from 'vitest';
import type { LiveCheckout } from '../../operator/src/api/v1alpha1/index.ts';
import {
  branchOf,
  expiresAt,
  nextStatus,
  tokenNameOf,
} from '../../operator/src/controllers/checkout/lease.ts';

const co = (spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) =>
  ({
    metadata: {
      name: 'login',
      namespace: 'team',
      uid: 'uid-1',
      generation: 1,
      creationTimestamp: '2026-11-24T10:00:00Z',
      ...meta,
    },
    spec: { projectRef: { name: 'shop' }, baseBranch: 'main', ttl: '4h', ...spec },
  }) as unknown as LiveCheckout;

describe('a Checkout lease', () => {
  it('works on checkout/<name> unless a branch is given', () => {
    expect(branchOf(co())).toBe('checkout/login');
    expect(branchOf(co({ branch: 'feature/x' }))).toBe('feature/x');
  });

  it('ends at creation plus the TTL', () => {
    expect(expiresAt(co()).toISOString()).toBe('2026-11-24T14:00:00.000Z');
    expect(expiresAt(co({ ttl: '90m' })).toISOString()).toBe('2026-11-24T11:30:00.000Z');
  });

  it('names its token uniquely per Checkout object, within what Gitea accepts', () => {
    expect(tokenNameOf(co())).toMatch(/^rdev-team-login-[0-9a-f]{10}$/);
    expect(tokenNameOf(co({}, { uid: 'uid-2' }))).not.toBe(tokenNameOf(co()));
    expect(tokenNameOf(co({}, { name: 'x'.repeat(253) })).length).toBeLessThanOrEqual(255);
  });

  it('keeps what status recorded and sets Ready from the phase', () => {
    const now = new Date('2026-11-24T10:00:05Z');
    const withToken = { ...co(), status: { token: { name: 't' } } } as LiveCheckout;
    const status = nextStatus(
      withToken,
      { phase: 'Active' },
      { status: 'True', reason: 'Active', message: 'leased' },
      now,
    );
    expect(status).toMatchObject({ phase: 'Active', token: { name: 't' }, observedGeneration: 1 });
    expect(status.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'Active' });
  });
});
