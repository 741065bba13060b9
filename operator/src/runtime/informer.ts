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
  /** Re-delivers every cached object as an update this often (0: never). */
  resyncMs?: number;
}

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
  private readonly resyncMs: number;
  private readonly clock: Clock;
  private synced = false;
  private readonly unsynced: Set<Reflector<T>>;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly log: Logger | undefined;

  constructor(sources: ListWatch<T> | ScopedSource<T>[], options: InformerOptions<T> = {}) {
    this.store = new Store<T>(options.indexers);
    this.transform = options.transform ?? dropManagedFields;
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

  /** The reflectors' counters, summed. */
  get stats(): ReflectorStats {
    const total: ReflectorStats = { lists: 0, watches: 0, expired: 0, errors: 0 };
    for (const r of this.reflectors) {
      for (const key of Object.keys(total) as (keyof ReflectorStats)[]) total[key] += r.stats[key];
    }
    return total;
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
        for (const obj of this.store.list()) this.emit('update', obj, obj);
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
      const obj = this.transform(raw);
      seen.add(keyOf(obj));
      const old = this.store.upsert(obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    // What vanished while nobody watched: deliver the deletes the watch never sent.
    for (const key of this.store.keys()) {
      if (seen.has(key)) continue;
      if (namespace !== undefined && !key.startsWith(`${namespace}/`)) continue; // another reflector's
      const gone = this.store.remove(key);
      if (gone) this.emit('delete', gone);
    }
    this.unsynced.delete(from);
    if (!this.synced && this.unsynced.size === 0) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', raw: T): void {
    const obj = this.transform(raw);
    if (type === 'DELETED') {
      const old = this.store.remove(keyOf(obj));
      this.emit('delete', old ?? obj);
      return;
    }
    const old = this.store.upsert(obj);
    if (old) this.emit('update', obj, old);
    else this.emit('add', obj);
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      // A failing handler must not stall the cache for everyone else.
      try {
        if (kind === 'add') h.add?.(obj);
        else if (kind === 'update') h.update?.(old as T, obj);
        else h.delete?.(obj);
      } catch (err) {
        this.log?.error({ err, key: keyOf(obj) }, 'informer event handler failed');
      }
    }
  }
}
