// What a webhook reports: an rdev object entering a phase, or going away. Detected from the old
// and new object of an informer event, so that resyncs and status writes that keep the phase
// deliver nothing. Pure: the delivery side adds ids and clocks.
import { field, stringField } from './fields.ts';

export interface PhaseEvent {
  /** `<lowercase kind>.<lowercase phase>`, or `<lowercase kind>.deleted`. */
  type: string;
  /** The Kubernetes kind, e.g. WorkItem. */
  kind: string;
  namespace: string;
  name: string;
  /** A Project's own name; spec.projectRef.name for the other kinds. */
  project: string | null;
  /** The phase entered; for a deletion, the last phase the object had. */
  phase: string | null;
  /** The phase left; null on first appearance and on deletion. */
  previousPhase: string | null;
  object: {
    metadata: {
      name: string;
      namespace?: string;
      uid?: string;
      resourceVersion?: string;
      generation?: number;
    };
    spec: unknown;
    status: unknown;
  };
}

/** The JSON body POSTed to a subscriber. */
export interface WebhookPayload extends PhaseEvent {
  id: string;
  occurredAt: string;
}

/** What a transition reads of an object of any of the kinds: spec and status are not trusted. */
export interface Tracked {
  kind?: string;
  metadata: PhaseEvent['object']['metadata'];
  spec?: unknown;
  status?: unknown;
}

const phaseOf = (obj: Tracked | undefined): string | undefined =>
  stringField(obj?.status, 'phase') || undefined;

const projectOf = (kind: string, obj: Tracked): string | null =>
  kind === 'Project' ? obj.metadata.name : (stringField(field(obj.spec, 'projectRef'), 'name') ?? null);

function event(kind: string, obj: Tracked, type: string, phase?: string, previous?: string): PhaseEvent {
  const { name, namespace, uid, resourceVersion, generation } = obj.metadata;
  return {
    type: `${kind.toLowerCase()}.${type.toLowerCase()}`,
    kind,
    namespace: namespace ?? '',
    name,
    project: projectOf(kind, obj),
    phase: phase ?? null,
    previousPhase: previous ?? null,
    object: {
      metadata: { name, namespace, uid, resourceVersion, generation },
      spec: obj.spec ?? null,
      status: obj.status ?? null,
    },
  };
}

/**
 * The event of an add (`old` undefined) or update of an object of `kind`: its phase changed to
 * a new, non-empty one. Undefined when the phase is unchanged or was cleared.
 */
export function phaseTransition(
  kind: string,
  old: Tracked | undefined,
  obj: Tracked,
): PhaseEvent | undefined {
  const phase = phaseOf(obj);
  const previous = phaseOf(old);
  if (phase === undefined || phase === previous) return undefined;
  return event(kind, obj, phase, phase, previous);
}

/** The event of an object of `kind` being deleted (its last known state). */
export function deletion(kind: string, obj: Tracked): PhaseEvent {
  return event(kind, obj, 'deleted', phaseOf(obj));
}

/** The body sent for `event`: the same bytes on every attempt, so the delivery id stays stable. */
export function payloadOf(event: PhaseEvent, id: string, occurredAt: Date): string {
  const payload: WebhookPayload = { id, occurredAt: occurredAt.toISOString(), ...event };
  return JSON.stringify(payload);
}
