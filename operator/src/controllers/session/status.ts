// A Session's status as a pure function of what the reconciler observed: its deadline, its
// Project, the Pod it is bound to and its preview. lastActivityAt is not part of it: exec alone
// writes that field, and a status applied by the controller must never carry an old value back.

import type { LiveSession } from '../../api/v1alpha1/index.ts';
import type { SessionStatus } from '../../api/v1alpha1/session.ts';
import { type Condition, type ConditionUpdate, setCondition } from '../../runtime/conditions.ts';
import type { PodView } from '../project/status.ts';
import type { Deadline } from './desired.ts';

export interface SessionObserved {
  deadline: Deadline;
  /** The deadline has passed: the Session ends now. */
  expired: boolean;
  projectFound: boolean;
  /** The Pod commands run in, when there is one. */
  pod?: PodView;
  /** Why there is no Pod (reason, message), when there is none. */
  noPod?: { reason: string; message: string };
  /** Set when spec.preview asks for a port. */
  preview?: {
    port: number;
    /** Undefined without a preview domain. */
    url?: string;
    /** Whether the Session has a DNS record of its own (--preview-dns-records). */
    dnsRecord: boolean;
    /** Set when the preview host's DNS name is someone else's. */
    dnsConflict?: string;
  };
}

export interface Transition {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

export const isPodReady = (pod: PodView | undefined) =>
  pod?.status?.phase === 'Running' &&
  pod.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

/** Why the Session ended, in words. */
export function endedBecause(s: LiveSession, deadline: Deadline): string {
  return deadline.why === 'ttl'
    ? `the Session ended after its ttl (${s.spec.ttl})`
    : `the Session ended after idleTimeout (${s.spec.idleTimeout}) without activity`;
}

export function previewCondition(preview: NonNullable<SessionObserved['preview']>): ConditionUpdate {
  if (!preview.url) {
    return {
      type: 'PreviewReady',
      status: 'False',
      reason: 'NotConfigured',
      message: 'no preview domain is configured (operator option --preview-domain)',
    };
  }
  if (preview.dnsConflict !== undefined) {
    return { type: 'PreviewReady', status: 'False', reason: 'DNSRecordTaken', message: preview.dnsConflict };
  }
  return {
    type: 'PreviewReady',
    status: 'True',
    reason: 'Exposed',
    message: `port ${preview.port} at ${preview.url}${preview.dnsRecord ? ', with its DNS record' : ''}`,
  };
}

export function readyCondition(s: LiveSession, observed: SessionObserved): ConditionUpdate {
  const notReady = (reason: string, message: string): ConditionUpdate => ({
    type: 'Ready',
    status: 'False',
    reason,
    message,
  });
  if (observed.expired) return notReady('Expired', endedBecause(s, observed.deadline));
  if (!observed.projectFound)
    return notReady('ProjectNotFound', `Project ${s.spec.projectRef.name} does not exist`);
  const { pod } = observed;
  if (!pod) {
    return notReady(
      observed.noPod?.reason ?? 'PodMissing',
      observed.noPod?.message ?? 'the Pod to run commands in does not exist',
    );
  }
  if (!isPodReady(pod)) return notReady('PodNotReady', `Pod ${pod.metadata.name} is not ready yet`);
  return {
    type: 'Ready',
    status: 'True',
    reason: 'PodReady',
    message: `commands run in Pod ${pod.metadata.name}`,
  };
}

/**
 * The status to apply (without lastActivityAt) and the transition to report as an Event, if the
 * phase changed. An expired Session keeps the Pod and preview it had, for whoever looks last.
 */
export function sessionStatus(
  s: LiveSession,
  observed: SessionObserved,
  now: Date,
): { status: SessionStatus; transition?: Transition } {
  const { lastActivityAt: _exec, ...current } = s.status ?? {};
  const generation = s.metadata.generation;
  const ready = readyCondition(s, observed);
  const updates: ConditionUpdate[] = [ready];
  let conditions: Condition[] = current.conditions ?? [];
  if (!observed.expired) {
    if (observed.preview) updates.push(previewCondition(observed.preview));
    else conditions = conditions.filter((c) => c.type !== 'PreviewReady');
  }
  for (const c of updates)
    conditions = setCondition(conditions, { ...c, observedGeneration: generation }, now);

  const phase = observed.expired ? 'Expired' : ready.status === 'True' ? 'Active' : 'Pending';
  const podName = observed.expired ? current.podName : observed.pod?.metadata.name;
  const previewURL = observed.expired ? current.previewURL : observed.preview?.url;
  const status: SessionStatus = {
    phase,
    ...(podName ? { podName } : {}),
    ...(previewURL ? { previewURL } : {}),
    expiresAt: observed.deadline.at.toISOString(),
    observedGeneration: generation,
    conditions,
  };
  if (phase === current.phase) return { status };
  return {
    status,
    transition: {
      // Back to Pending from Active means the Pod went away: worth a warning.
      type: phase === 'Pending' && current.phase === 'Active' ? 'Warning' : 'Normal',
      reason: phase,
      note: ready.message,
    },
  };
}
