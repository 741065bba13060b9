import { describe, expect, it } from 'vitest';
import type { LiveSession } from '../../operator/src/api/v1alpha1/index.ts';
import type { PodView } from '../../operator/src/controllers/project/status.ts';
import { deadline } from '../../operator/src/controllers/session/desired.ts';
import { type SessionObserved, sessionStatus } from '../../operator/src/controllers/session/status.ts';

const NOW = new Date('2026-11-24T10:05:00Z');
const EARLIER = '2026-11-24T10:01:00Z';

const session = (status: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) =>
  ({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Session',
    metadata: {
      name: 'fix',
      namespace: 'team',
      uid: 'uid-s',
      generation: 3,
      creationTimestamp: '2026-11-24T10:00:00Z',
    },
    spec: { projectRef: { name: 'shop' }, dedicated: false, ttl: '2h', idleTimeout: '30m', ...spec },
    status,
  }) as unknown as LiveSession;

const pod = (ready: boolean): PodView =>
  ({
    metadata: { name: 'shop-workspace', namespace: 'team' },
    status: {
      phase: ready ? 'Running' : 'Pending',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  }) as PodView;

const observe = (s: LiveSession, more: Partial<SessionObserved> = {}): SessionObserved => ({
  deadline: deadline(s),
  expired: false,
  projectFound: true,
  ...more,
});

const condition = (status: { conditions?: { type: string }[] }, type: string) =>
  status.conditions?.find((c) => c.type === type);

describe('Session status', () => {
  it('is Pending until its Pod is ready, then Active in it, with an Event for each phase', () => {
    const s = session();
    const pending = sessionStatus(s, observe(s, { pod: pod(false) }), NOW);
    expect(pending.status).toMatchObject({
      phase: 'Pending',
      podName: 'shop-workspace',
      expiresAt: '2026-11-24T10:30:00.000Z',
      observedGeneration: 3,
    });
    expect(condition(pending.status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodNotReady',
      observedGeneration: 3,
    });
    expect(pending.transition).toEqual({
      type: 'Normal',
      reason: 'Pending',
      note: 'Pod shop-workspace is not ready yet',
    });

    const active = sessionStatus(session(pending.status), observe(s, { pod: pod(true) }), NOW);
    expect(active.status.phase).toBe('Active');
    expect(condition(active.status, 'Ready')).toMatchObject({ status: 'True', reason: 'PodReady' });
    expect(active.transition).toMatchObject({ type: 'Normal', reason: 'Active' });

    // Unchanged: no Event, and the transition time stays.
    const again = sessionStatus(session(active.status), observe(s, { pod: pod(true) }), new Date());
    expect(again.transition).toBeUndefined();
    expect(again.status).toEqual(active.status);
  });

  it('warns when an Active Session loses its Pod, and says why there is none', () => {
    const s = session({ phase: 'Active', podName: 'shop-workspace' });
    const lost = sessionStatus(
      s,
      observe(s, { noPod: { reason: 'WorkspaceUnavailable', message: 'the Project is suspended' } }),
      NOW,
    );
    expect(lost.status.phase).toBe('Pending');
    expect(lost.status.podName).toBeUndefined();
    expect(condition(lost.status, 'Ready')).toMatchObject({ reason: 'WorkspaceUnavailable' });
    expect(lost.transition).toMatchObject({ type: 'Warning', reason: 'Pending' });
  });

  it('waits for a Project that does not exist', () => {
    const s = session();
    const { status } = sessionStatus(s, observe(s, { projectFound: false }), NOW);
    expect(status.phase).toBe('Pending');
    expect(condition(status, 'Ready')).toMatchObject({
      reason: 'ProjectNotFound',
      message: 'Project shop does not exist',
    });
  });

  it('never carries lastActivityAt, which exec alone writes', () => {
    const s = session({ lastActivityAt: EARLIER });
    const { status } = sessionStatus(s, observe(s, { pod: pod(true) }), NOW);
    expect(status).not.toHaveProperty('lastActivityAt');
    expect(status.expiresAt).toBe('2026-11-24T10:31:00.000Z'); // idle from the last activity
  });

  it('reports the preview, or why there is none, and drops the condition with spec.preview', () => {
    const s = session();
    const url = 'https://fix-shop.p.dev';
    const exposed = sessionStatus(
      s,
      observe(s, { pod: pod(true), preview: { port: 3000, url, dnsRecord: true } }),
      NOW,
    );
    expect(exposed.status.previewURL).toBe(url);
    expect(condition(exposed.status, 'PreviewReady')).toMatchObject({
      status: 'True',
      reason: 'Exposed',
      message: `port 3000 at ${url}, with its DNS record`,
    });
    const taken = sessionStatus(
      s,
      observe(s, { pod: pod(true), preview: { port: 3000, url, dnsRecord: true, dnsConflict: 'taken' } }),
      NOW,
    );
    expect(condition(taken.status, 'PreviewReady')).toMatchObject({
      status: 'False',
      reason: 'DNSRecordTaken',
    });
    const unconfigured = sessionStatus(
      s,
      observe(s, { pod: pod(true), preview: { port: 3000, dnsRecord: false } }),
      NOW,
    );
    expect(unconfigured.status.previewURL).toBeUndefined();
    expect(condition(unconfigured.status, 'PreviewReady')).toMatchObject({ reason: 'NotConfigured' });

    const dropped = sessionStatus(session(exposed.status), observe(s, { pod: pod(true) }), NOW);
    expect(dropped.status.previewURL).toBeUndefined();
    expect(condition(dropped.status, 'PreviewReady')).toBeUndefined();
  });

  it('is Expired at its deadline, saying which one, and keeps what it had', () => {
    const s = session(
      { phase: 'Active', podName: 'shop-workspace', previewURL: 'http://fix-shop.p.dev' },
      { ttl: '1m', idleTimeout: '1m' },
    );
    const ends = deadline(s);
    expect(ends.why).toBe('ttl');
    const { status, transition } = sessionStatus(s, observe(s, { expired: true }), NOW);
    expect(status).toMatchObject({
      phase: 'Expired',
      podName: 'shop-workspace',
      previewURL: 'http://fix-shop.p.dev',
      expiresAt: '2026-11-24T10:01:00.000Z',
    });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'Expired' });
    expect(transition).toEqual({
      type: 'Normal',
      reason: 'Expired',
      note: 'the Session ended after its ttl (1m)',
    });

    const idle = session({ phase: 'Active' }, { ttl: '2h', idleTimeout: '1m' });
    expect(sessionStatus(idle, observe(idle, { expired: true }), NOW).transition?.note).toBe(
      'the Session ended after idleTimeout (1m) without activity',
    );
  });
});
