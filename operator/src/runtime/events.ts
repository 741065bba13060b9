// Kubernetes Events (events.k8s.io/v1), shown by `kubectl describe`. A repeat of the same event
// for the same object updates the first one's series count instead of creating another.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { apiVersionOf, type KubeClient, type KubeObject, type Resource } from './client.ts';
import { type Clock, microTime, realClock } from './clock.ts';
import { EVENTS } from './resources.ts';

export type EventType = 'Normal' | 'Warning';

const SERIES_WINDOW_MS = 10 * 60_000;
const MAX_TRACKED = 4096;
const MAX_NOTE = 1024;

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstSeen: number;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly client: KubeClient;
  private readonly controller: string;
  private readonly instance: string;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;

  constructor(
    client: KubeClient,
    options: { controller: string; instance: string; clock?: Clock; log?: Logger },
  ) {
    this.client = client;
    this.controller = options.controller;
    this.instance = options.instance;
    this.clock = options.clock ?? realClock;
    this.log = options.log;
  }

  /**
   * Records an event about `regarding`. Never throws: an event that cannot be written is logged,
   * it must not fail the reconcile that emits it.
   */
  async record(
    regarding: KubeObject,
    resource: Resource,
    event: { type: EventType; reason: string; action: string; note: string },
  ): Promise<void> {
    const namespace = regarding.metadata.namespace ?? 'default';
    const note = event.note.length > MAX_NOTE ? `${event.note.slice(0, MAX_NOTE - 1)}…` : event.note;
    const key = [regarding.metadata.uid, event.type, event.reason, event.action, note].join('\u0000');
    const now = this.clock.now();
    const previous = this.seen.get(key);
    try {
      if (previous && now - previous.firstSeen < SERIES_WINDOW_MS) {
        previous.count++;
        await this.client.patch(
          EVENTS,
          previous.namespace,
          previous.name,
          { series: { count: previous.count, lastObservedTime: microTime(now) } },
          'merge',
        );
        return;
      }
      const name = `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`;
      await this.client.create(EVENTS, {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: microTime(now),
        reportingController: this.controller,
        reportingInstance: this.instance,
        action: event.action,
        reason: event.reason,
        note,
        type: event.type,
        regarding: {
          apiVersion: regarding.apiVersion ?? apiVersionOf(resource),
          kind: regarding.kind ?? resource.kind,
          name: regarding.metadata.name,
          namespace: regarding.metadata.namespace,
          uid: regarding.metadata.uid,
          resourceVersion: regarding.metadata.resourceVersion,
        },
      });
      this.remember(key, { name, namespace, count: 1, firstSeen: now });
    } catch (err) {
      this.log?.warn({ err: String(err), reason: event.reason }, 'could not record event');
    }
  }

  private remember(key: string, seen: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, seen);
    if (this.seen.size > MAX_TRACKED) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
