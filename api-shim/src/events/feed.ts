// Status changes of the kinds, as the shim's informers see them: every change goes to the
// live listeners (log streams, /events), and phase transitions are kept in a ring buffer so that
// an /events client can resume from its Last-Event-ID. An event's id is the object's
// resourceVersion: all the kinds live in one etcd, whose revisions order them across kinds and
// across shim replicas.
import { deletion, phaseTransition, type Tracked } from '../../../operator/src/shared/transitions.ts';
import { KINDS, type Kind, type KindInformers, type RdevObject } from '../cache.ts';

export interface PhaseEvent {
  id: string;
  /** `<kind>.<phase>` in lower case, or `<kind>.deleted`. */
  type: string;
  kind: Kind;
  namespace: string;
  name: string;
  project?: string;
  phase?: string;
  previousPhase?: string;
  at: string;
}

export type ChangeListener = (kind: Kind, obj: RdevObject, deleted: boolean) => void;
export type PhaseListener = (event: PhaseEvent) => void;

const revision = (id: string) => {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : -1;
};

/**
 * The phase event of a change, if it is a transition (pure): the operator's webhook detection
 * decides, so that /events and webhooks report exactly the same transitions.
 */
export function phaseEvent(
  kind: Kind,
  old: Tracked | undefined,
  obj: Tracked,
  deleted: boolean,
  now: Date,
): PhaseEvent | undefined {
  const transition = deleted ? deletion(kind, obj) : phaseTransition(kind, old, obj);
  if (!transition) return undefined;
  return {
    id: obj.metadata.resourceVersion ?? '0',
    type: transition.type,
    kind,
    namespace: transition.namespace,
    name: transition.name,
    project: transition.project ?? undefined,
    phase: transition.phase ?? undefined,
    // A deleted object left the phase it last had.
    previousPhase: (deleted ? transition.phase : transition.previousPhase) ?? undefined,
    at: now.toISOString(),
  };
}

export class EventFeed {
  private readonly buffer: PhaseEvent[] = [];
  private readonly capacity: number;
  private readonly changes = new Set<ChangeListener>();
  private readonly phases = new Set<PhaseListener>();
  /** Events before this revision may have been dropped (buffer full, or before this replica started). */
  private horizon = Number.POSITIVE_INFINITY;

  constructor(informers: KindInformers, capacity = 4096) {
    this.capacity = capacity;
    const watch = <K extends Kind>(kind: K) => {
      const informer = informers[kind];
      informer.on({
        // Adds during the first list are the state at start, not transitions.
        add: (obj) => this.record(kind, undefined, obj, false, informer.hasSynced),
        update: (old, obj) => this.record(kind, old, obj, false, true),
        delete: (obj) => this.record(kind, obj, obj, true, true),
      });
    };
    for (const kind of KINDS) watch(kind);
  }

  onChange(listener: ChangeListener): () => void {
    this.changes.add(listener);
    return () => this.changes.delete(listener);
  }

  onPhase(listener: PhaseListener): () => void {
    this.phases.add(listener);
    return () => this.phases.delete(listener);
  }

  /**
   * The buffered events after `lastEventId`, or undefined when some may be missing (the id is
   * older than what this replica holds): the client must then re-read the state it cares about.
   */
  since(lastEventId: string): PhaseEvent[] | undefined {
    const after = revision(lastEventId);
    if (after < 0 || after + 1 < this.horizon) return undefined;
    return this.buffer.filter((e) => revision(e.id) > after);
  }

  private record(
    kind: Kind,
    old: RdevObject | undefined,
    obj: RdevObject,
    deleted: boolean,
    live: boolean,
  ): void {
    for (const listener of this.changes) listener(kind, obj, deleted);
    if (!live) return;
    const event = phaseEvent(kind, old, obj, deleted, new Date());
    if (!event) return;
    if (this.horizon === Number.POSITIVE_INFINITY) this.horizon = revision(event.id);
    this.buffer.push(event);
    const dropped = this.buffer.length > this.capacity ? this.buffer.shift() : undefined;
    if (dropped) this.horizon = revision(dropped.id) + 1;
    for (const listener of this.phases) listener(event);
  }
}
