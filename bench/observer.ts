// Watches of a benchmark's own: objects of a few resources in one namespace, each event timestamped
// as it arrives (an informer each), so that latencies are not quantised by a poll interval.
import type { KubeClient, KubeObject, Resource } from '../operator/src/runtime/client.ts';
import { Informer } from '../operator/src/runtime/informer.ts';
import { keyOf } from '../operator/src/runtime/store.ts';

/** What the observer knows of one object (by UID): its latest version and the times of its events. */
export interface Tracked {
  resource: Resource;
  obj: KubeObject;
  /** performance.now() of its first event (its ADDED, or the list that found it). */
  seenAt: number;
  /** performance.now() of the first event in which `ready` held. */
  readyAt?: number;
  /** performance.now() of its DELETED event. */
  goneAt?: number;
}

export interface Watched<T extends KubeObject = KubeObject> {
  resource: Resource;
  /** When an object of the resource counts as ready (unset: never timed). */
  ready?: (obj: T) => boolean;
}

/**
 * Watches resources in one namespace (an informer each) and timestamps their events as they
 * arrive, so that latencies are not quantised by a poll interval. `until` waits for a condition
 * re-checked on each event (and on `poke`), never by polling.
 */
export class Observer {
  private readonly informers = new Map<Resource, Informer<KubeObject>>();
  private readonly byUid = new Map<string, Tracked>();
  private readonly waiters = new Set<() => void>();
  private readonly stopping = new AbortController();

  constructor(client: KubeClient, namespace: string, watched: readonly Watched[]) {
    for (const { resource, ready } of watched) {
      const informer = Informer.forResource<KubeObject>(client, resource, { namespaces: [namespace] });
      const seen = (obj: KubeObject) => {
        const now = performance.now();
        const uid = obj.metadata.uid ?? keyOf(obj);
        const tracked = this.byUid.get(uid) ?? { resource, obj, seenAt: now };
        tracked.obj = obj;
        if (tracked.readyAt === undefined && ready?.(obj)) tracked.readyAt = now;
        this.byUid.set(uid, tracked);
        this.poke();
      };
      informer.on({
        add: seen,
        update: (_, obj) => seen(obj),
        delete: (obj) => {
          const now = performance.now();
          const tracked = this.byUid.get(obj.metadata.uid ?? keyOf(obj)) ?? { resource, obj, seenAt: now };
          tracked.goneAt ??= now;
          this.byUid.set(obj.metadata.uid ?? keyOf(obj), tracked);
          this.poke();
        },
      });
      this.informers.set(resource, informer);
    }
  }

  /** Starts the informers; resolves once each has listed. */
  async start(): Promise<void> {
    for (const informer of this.informers.values()) {
      informer.run(this.stopping.signal).catch((err) => console.error('observer informer stopped:', err));
    }
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  stop(): void {
    this.stopping.abort();
    for (const wake of this.waiters) wake();
  }

  /** The object of `resource` named `name` as now cached (undefined when there is none). */
  get(resource: Resource, namespace: string, name: string): Tracked | undefined {
    const obj = this.informers.get(resource)?.store.get(`${namespace}/${name}`);
    return obj ? this.byUid.get(obj.metadata.uid ?? keyOf(obj)) : undefined;
  }

  /** `roots` and every cached object they own, at any depth (through any owner reference). */
  tree(roots: readonly Tracked[]): Tracked[] {
    const dependents = new Map<string, string[]>();
    for (const [uid, t] of this.byUid) {
      if (t.goneAt !== undefined) continue;
      for (const owner of t.obj.metadata.ownerReferences ?? []) {
        dependents.set(owner.uid, [...(dependents.get(owner.uid) ?? []), uid]);
      }
    }
    const found = new Set<string>();
    const queue = roots.flatMap((r) => (r.obj.metadata.uid ? [r.obj.metadata.uid] : []));
    for (let uid = queue.shift(); uid !== undefined; uid = queue.shift()) {
      if (found.has(uid)) continue;
      found.add(uid);
      queue.push(...(dependents.get(uid) ?? []));
    }
    return [...found].flatMap((uid) => {
      const t = this.byUid.get(uid);
      return t ? [t] : [];
    });
  }

  /** Re-checks the waiters (for conditions on things other than the watched objects). */
  poke(): void {
    for (const wake of this.waiters) wake();
  }

  /** Resolves when `done()` holds, re-checked on every event; rejects after `timeoutMs`. */
  until(done: () => boolean, what: () => string, timeoutMs = 600_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        if (err) reject(err);
        else resolve();
      };
      const wake = () => {
        if (this.stopping.signal.aborted) finish(new Error('observer stopped'));
        else if (done()) finish();
      };
      const timer = setTimeout(
        () => finish(new Error(`not within ${timeoutMs / 1000} s: ${what()}`)),
        timeoutMs,
      );
      this.waiters.add(wake);
    });
  }
}
