// An informer: a reflector filling a store, and handlers told of each change. Reconcilers read
// the store; controllers' handlers turn changes into work-queue keys.
import type { Logger } from 'pino';
import type { KubeClient, KubeObject, Resource } from './client.ts';
import { type Clock, realClock, type Timer } from './clock.ts';
import {
  clientListWatch,
  type ListWatch,
  type ListWatchOptions,
  Reflector,
  type ReflectorOptions,
} from './reflector.ts';
import { type IndexFunc, keyOf, Store } from './store.ts';

export interface EventHandler<T> {
  add?(obj: T): void;
  update?(old: T, obj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions<T extends KubeObject> extends ReflectorOptions, ListWatchOptions {
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
  readonly reflector: Reflector<T>;
  private readonly handlers: EventHandler<T>[] = [];
  private readonly transform: (obj: T) => T;
  private readonly resyncMs: number;
  private readonly clock: Clock;
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly log: Logger | undefined;

  constructor(source: ListWatch<T>, options: InformerOptions<T> = {}) {
    this.store = new Store<T>(options.indexers);
    this.transform = options.transform ?? dropManagedFields;
    this.resyncMs = options.resyncMs ?? 0;
    this.clock = options.clock ?? realClock;
    this.log = options.log;
    this.reflector = new Reflector(
      source,
      { replace: (o) => this.replace(o), apply: (t, o) => this.apply(t, o) },
      options,
    );
  }

  static forResource<T extends KubeObject>(
    client: KubeClient,
    resource: Resource,
    options: InformerOptions<T> & { log?: Logger } = {},
  ): Informer<T> {
    return new Informer(clientListWatch<T>(client, resource, options), options);
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
      await this.reflector.run(signal);
    } finally {
      resync?.cancel();
    }
  }

  private replace(objects: T[]): void {
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
      const gone = this.store.remove(key);
      if (gone) this.emit('delete', gone);
    }
    if (!this.synced) {
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
