import { describe, expect, it } from 'vitest';
import { phaseEvent } from '../../api-shim/src/events/feed.ts';
import {
  CHECKOUT_PHASES,
  FEATURE_PHASES,
  PROJECT_PHASES,
  SESSION_PHASES,
  WORK_PHASES,
} from '../../operator/src/api/v1alpha1/index.ts';
import { deletion, payloadOf, phaseTransition } from '../../operator/src/shared/transitions.ts';
import { EVENT_PATTERN } from '../../operator/src/shared/webhook-subscription.ts';
import { retryDelayMs, verdictOf } from '../../operator/src/webhooks/policy.ts';

const item = (phase?: string, resourceVersion = '1') => ({
  apiVersion: 'rdev.dev/v1alpha1',
  kind: 'WorkItem',
  metadata: {
    name: 'build',
    namespace: 'team-a',
    uid: 'u1',
    resourceVersion,
    generation: 2,
    labels: { a: 'b' },
  },
  spec: { projectRef: { name: 'shop' }, type: 'shell' },
  ...(phase === undefined ? {} : { status: { phase } }),
});

describe('phaseTransition', () => {
  it('reports a phase change as <kind>.<phase>, with the phase left', () => {
    expect(phaseTransition('WorkItem', item('Running'), item('Succeeded', '2'))).toEqual({
      type: 'workitem.succeeded',
      kind: 'WorkItem',
      namespace: 'team-a',
      name: 'build',
      project: 'shop',
      phase: 'Succeeded',
      previousPhase: 'Running',
      object: {
        metadata: { name: 'build', namespace: 'team-a', uid: 'u1', resourceVersion: '2', generation: 2 },
        spec: { projectRef: { name: 'shop' }, type: 'shell' },
        status: { phase: 'Succeeded' },
      },
    });
  });

  it('reports the first phase an object gets, on update or on add', () => {
    expect(phaseTransition('WorkItem', item(), item('Queued'))).toMatchObject({
      type: 'workitem.queued',
      previousPhase: null,
    });
    expect(phaseTransition('WorkItem', undefined, item('Queued'))?.type).toBe('workitem.queued');
  });

  it('reports nothing when the phase stays, is absent or is cleared', () => {
    expect(phaseTransition('WorkItem', item('Running'), item('Running', '2'))).toBeUndefined();
    expect(phaseTransition('WorkItem', item(), item(undefined, '2'))).toBeUndefined();
    expect(phaseTransition('WorkItem', undefined, item())).toBeUndefined();
    expect(phaseTransition('WorkItem', item('Running'), item(undefined, '2'))).toBeUndefined();
    expect(phaseTransition('WorkItem', item('Running'), item('', '2'))).toBeUndefined();
  });

  it("takes a Project's project from its own name", () => {
    const project = { metadata: { name: 'shop', namespace: 'team-a' }, spec: {}, status: { phase: 'Ready' } };
    expect(phaseTransition('Project', undefined, project)).toMatchObject({
      type: 'project.ready',
      project: 'shop',
    });
    const orphan = { metadata: { name: 's', namespace: 'n' }, status: { phase: 'Active' } };
    expect(phaseTransition('Session', undefined, orphan)).toMatchObject({
      type: 'session.active',
      project: null,
      object: { spec: null },
    });
  });
});

describe('event names of every kind', () => {
  const of = (phase: string) => ({
    metadata: { name: 'x', namespace: 'team-a', resourceVersion: '7' },
    spec: { projectRef: { name: 'shop' } },
    status: { phase },
  });
  const kinds: [string, readonly string[]][] = [
    ['Project', PROJECT_PHASES],
    ['Session', SESSION_PHASES],
    ['Checkout', CHECKOUT_PHASES],
    ['WorkItem', WORK_PHASES],
    ['Feature', FEATURE_PHASES],
  ];

  it('are <kind>.<phase> in lower case, each one a subscription can name', () => {
    for (const [kind, phases] of kinds) {
      for (const phase of phases) {
        const type = phaseTransition(kind, undefined, of(phase))?.type ?? '';
        expect(type).toBe(`${kind.toLowerCase()}.${phase.toLowerCase()}`);
        expect(type, type).toMatch(EVENT_PATTERN);
      }
      expect(`${kind.toLowerCase()}.*`).toMatch(EVENT_PATTERN);
      expect(deletion(kind, of(phases[0] ?? '')).type).toMatch(EVENT_PATTERN);
    }
  });

  it('keep the names of the older kinds, and give Features theirs (already lower case)', () => {
    expect(phaseTransition('WorkItem', undefined, of('Succeeded'))?.type).toBe('workitem.succeeded');
    expect(phaseTransition('Project', undefined, of('Ready'))?.type).toBe('project.ready');
    expect(phaseTransition('Checkout', undefined, of('Merged'))?.type).toBe('checkout.merged');
    expect(phaseTransition('Session', undefined, of('Active'))?.type).toBe('session.active');
    expect(phaseTransition('Feature', of('merge'), of('released'))).toMatchObject({
      type: 'feature.released',
      kind: 'Feature',
      project: 'shop',
      phase: 'released',
      previousPhase: 'merge',
    });
  });

  it("are the same on the shim's /events as in webhooks", () => {
    const event = phaseEvent('Feature', of('qa'), of('merge'), false, new Date(0));
    expect(event).toMatchObject({
      id: '7',
      type: 'feature.merge',
      kind: 'Feature',
      project: 'shop',
      phase: 'merge',
      previousPhase: 'qa',
    });
    expect(phaseEvent('Feature', of('qa'), of('qa'), true, new Date(0))?.type).toBe('feature.deleted');
  });
});

describe('deletion', () => {
  it('is <kind>.deleted with the last known phase', () => {
    expect(deletion('Checkout', { ...item('Merged'), kind: 'Checkout' })).toMatchObject({
      type: 'checkout.deleted',
      kind: 'Checkout',
      phase: 'Merged',
      previousPhase: null,
      project: 'shop',
    });
    expect(deletion('WorkItem', item()).phase).toBeNull();
  });
});

describe('payloadOf', () => {
  it('adds the id and time to the event', () => {
    const event = phaseTransition('WorkItem', item('Running'), item('Failed', '2'));
    if (!event) throw new Error('no event');
    const body = JSON.parse(payloadOf(event, 'id-1', new Date('2026-01-02T03:04:05Z')));
    expect(body).toEqual({ id: 'id-1', occurredAt: '2026-01-02T03:04:05.000Z', ...event });
  });
});

describe('retry policy', () => {
  it('delivers on 2xx, retries 408, 429 and 5xx, fails other answers at once', () => {
    expect([200, 202, 204].map(verdictOf)).toEqual(['delivered', 'delivered', 'delivered']);
    expect([408, 429, 500, 502, 503].map(verdictOf)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry']);
    expect([301, 400, 401, 404, 410, 422].map(verdictOf)).toEqual(Array(6).fill('failed'));
  });

  it('doubles the wait from the base and caps it at 5 minutes', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(1, 0.2)).toBe(200);
    expect(retryDelayMs(20, 1)).toBe(300_000);
    expect(retryDelayMs(3, 1000)).toBe(300_000);
  });
});
