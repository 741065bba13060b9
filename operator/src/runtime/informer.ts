// An informer: reflectors filling a store, and handlers told of each change. Reconcilers read
// the store; controllers' handlers turn changes into work-queue keys. Watching several
// namespaces takes one reflector each (a namespaced Role is enough), all feeding one store.
import type { Logger } from 'pino';
import type { KubeClient, KubeObject, Resource } from './client.ts';
import { type Clock, realClock, type Timer } from './clock.ts';
import {
  clientListWatch,
  type ListWatch,
  type ListWatchOptions,
  Reflector,
  type ReflectorOptions,
  type ReflectorStats,
} from './reflector.ts';
import { type IndexFunc, keyOf, Store } from './store.ts';

export interface EventHandler<T> {
  add?(obj: T): void;
  update?(old: T, obj: T): void;
  delete?(obj: T): void;
}

/** A source and the namespace it covers (undefined: all), which bounds what its relists delete. */
export interface ScopedSource<T extends KubeObject> {
  namespace?: string;
  source: ListWatch<T>;
}

export interface InformerOptions<T extends KubeObject>
  extends ReflectorOptions,
    Omit<ListWatchOptions, 'namespace'> {
  /** Namespaces to watch (empty or unset: all). */
  namespaces?: string[];
  indexers?: Record<string, IndexFunc<T>>;
  /** Applied to every object before it is cached; by default drops managedFields (never read). */
  transform?: (obj: T) => T;
  /**
   * Makes what the cache holds from what the API server sent (after transform): validated, with
   * defaults filled in. It runs once per change, so readers of the cache never default a field
   * again. An object it throws on is skipped - logged, counted in stats.invalid and reported to
   * onInvalid - and the informer carries on: the cache keeps the version it had, if any.
   */
  parse?: (obj: KubeObject) => T;
  /** Told of each object parse refused (a metric). */
  onInvalid?: (obj: KubeObject, err: unknown) => void;
  /** Re-delivers every cached object as an update this often (0: never). */
  resyncMs?: number;
}

export interface InformerStats extends ReflectorStats {
  /** Objects parse refused (skipped). */
  invalid: number;
}

type Change<T> = { kind: 'add'; obj: T } | { kind: 'update'; obj: T; old: T } | { kind: 'delete'; obj: T };

export const dropManagedFields = <T extends KubeObject>(obj: T): T => {
  if (!obj.metadata.managedFields) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
};

export class Informer<T extends KubeObject> {
  readonly store: Store<T>;
  readonly reflectors: Reflector<T>[];
  private readonly handlers: EventHandler<T>[] = [];
  private readonly transform: (obj: T) => T;
  private readonly parse: ((obj: KubeObject) => T) | undefined;
  private readonly onInvalid: ((obj: KubeObject, err: unknown) => void) | undefined;
  private invalid = 0;
  private readonly resyncMs: number;
  private readonly clock: Clock;
  private synced = false;
  private readonly unsynced: Set<Reflector<T>>;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly log: Logger | undefined;

  constructor(sources: ListWatch<T> | ScopedSource<T>[], options: InformerOptions<T> = {}) {
    this.store = new Store<T>(options.indexers);
    this.transform = options.transform ?? dropManagedFields;
    this.parse = options.parse;
    this.onInvalid = options.onInvalid;
    this.resyncMs = options.resyncMs ?? 0;
    this.clock = options.clock ?? realClock;
    this.log = options.log;
    const scoped = Array.isArray(sources) ? sources : [{ source: sources }];
    this.reflectors = scoped.map(({ namespace, source }) => {
      const reflector: Reflector<T> = new Reflector(
        source,
        { replace: (o) => this.replace(o, namespace, reflector), apply: (t, o) => this.apply(t, o) },
        options,
      );
      return reflector;
    });
    this.unsynced = new Set(this.reflectors);
  }

  /** The reflectors' counters, summed, and the objects parse refused. */
  get stats(): InformerStats {
    const sum = (key: keyof ReflectorStats) => this.reflectors.reduce((n, r) => n + r.stats[key], 0);
    return {
      lists: sum('lists'),
      watches: sum('watches'),
      expired: sum('expired'),
      errors: sum('errors'),
      invalid: this.invalid,
    };
  }

  static forResource<T extends KubeObject>(
    client: KubeClient,
    resource: Resource,
    options: InformerOptions<T> & { log?: Logger } = {},
  ): Informer<T> {
    const namespaces = resource.namespaced && options.namespaces?.length ? options.namespaces : [undefined];
    return new Informer(
      namespaces.map((namespace) => ({
        namespace,
        source: clientListWatch<T>(client, resource, { ...options, namespace }),
      })),
      options,
    );
  }

  on(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    // A handler added late sees the objects already cached, as client-go's informers do.
    if (this.synced) for (const obj of this.store.list()) handler.add?.(obj);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list is in the store. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Lists and watches until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let resync: Timer | undefined;
    const scheduleResync = () => {
      if (this.resyncMs <= 0 || signal.aborted) return;
      resync = this.clock.after(this.resyncMs, () => {
        for (const obj of this.store.list()) this.emit({ kind: 'update', obj, old: obj });
        scheduleResync();
      });
    };
    scheduleResync();
    try {
      await Promise.all(this.reflectors.map((r) => r.run(signal)));
    } finally {
      resync?.cancel();
    }
  }

  private replace(objects: T[], namespace: string | undefined, from: Reflector<T>): void {
    const seen = new Set<string>();
    for (const raw of objects) {
      seen.add(keyOf(raw)); // even when it does not parse: the version cached before stays
      const obj = this.admit(raw);
      if (!obj) continue;
      const old = this.store.upsert(obj);
      if (!old) this.emit({ kind: 'add', obj });
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion)
        this.emit({ kind: 'update', obj, old });
    }
    // What vanished while nobody watched: deliver the deletes the watch never sent.
    for (const key of this.store.keys()) {
      if (seen.has(key)) continue;
      if (namespace !== undefined && !key.startsWith(`${namespace}/`)) continue; // another reflector's
      const gone = this.store.remove(key);
      if (gone) this.emit({ kind: 'delete', obj: gone });
    }
    this.unsynced.delete(from);
    if (!this.synced && this.unsynced.size === 0) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', raw: T): void {
    if (type === 'DELETED') {
      // What was cached goes; an object never cached (it did not parse) was never delivered.
      const gone = this.store.remove(keyOf(raw)) ?? this.admit(raw);
      if (gone) this.emit({ kind: 'delete', obj: gone });
      return;
    }
    const obj = this.admit(raw);
    if (!obj) return;
    const old = this.store.upsert(obj);
    this.emit(old ? { kind: 'update', obj, old } : { kind: 'add', obj });
  }

  /** What the cache holds of `raw`, or undefined when parse refuses it (never thrown). */
  private admit(raw: T): T | undefined {
    const obj = this.transform(raw);
    if (!this.parse) return obj;
    try {
      return this.parse(obj);
    } catch (err) {
      this.invalid++;
      this.log?.warn(
        {
          key: keyOf(raw),
          resourceVersion: raw.metadata.resourceVersion,
          err: err instanceof Error ? err.message : String(err),
        },
        'skipping an object that does not parse',
      );
      this.onInvalid?.(raw, err);
      return undefined;
    }
  }

  private emit(change: Change<T>): void {
    for (const h of this.handlers) {
      // A failing handler must not stall the cache for everyone else.
      try {
        if (change.kind === 'add') h.add?.(change.obj);
        else if (change.kind === 'update') h.update?.(change.old, change.obj);
        else h.delete?.(change.obj);
      } catch (err) {
        this.log?.error({ err, key: keyOf(change.obj) }, 'informer event handler failed');
      }
    }
  }
}
