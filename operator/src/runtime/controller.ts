// A controller: informer events become work-queue keys; N workers reconcile keys one at a time
// each. After a reconcile, as in controller-runtime: an error requeues with backoff (not a
// TerminalError), requeueAfter forgets the backoff and re-adds after the delay, success
// forgets; the key is always marked done. A reconcile that throws or overruns its timeout
// never takes the process down with it.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { apiVersionOf, type KubeObject, type Resource } from './client.ts';
import { deadline } from './clock.ts';
import { TerminalError } from './errors.ts';
import type { EventHandler, Informer } from './informer.ts';
import type { Metrics, ReconcileResult } from './metrics.ts';
import { keyOf } from './store.ts';
import { WorkQueue } from './workqueue.ts';

export interface ReconcileContext {
  /** Aborts on the reconcile timeout, on shutdown and on lost leadership. */
  signal: AbortSignal;
  /** Carries controller, namespace, name and reconcileID. */
  log: Logger;
}

export interface Result {
  /** Reconcile this key again after this many milliseconds (timers: TTLs, polling). */
  requeueAfter?: number;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<Result | undefined>;

export interface WatchEvent<T> {
  type: 'add' | 'update' | 'delete';
  obj: T;
  old?: T;
}

/** Decides whether an event of the primary resource enqueues its key. */
export type Predicate<T extends KubeObject = KubeObject> = (event: WatchEvent<T>) => boolean;

/** Passes updates only when metadata.generation changed (spec edits, deletion), like controller-runtime's. */
export const generationChanged: Predicate = (e) =>
  e.type !== 'update' || e.old?.metadata.generation !== e.obj.metadata.generation;

/** Passes the update that marks an object for deletion, whatever else changed. */
export const deletionStarted: Predicate = (e) =>
  e.type !== 'update' || (!e.old?.metadata.deletionTimestamp && Boolean(e.obj.metadata.deletionTimestamp));

export const labelsChanged: Predicate = (e) =>
  e.type !== 'update' || JSON.stringify(e.old?.metadata.labels) !== JSON.stringify(e.obj.metadata.labels);

export const annotationsChanged: Predicate = (e) =>
  e.type !== 'update' ||
  JSON.stringify(e.old?.metadata.annotations) !== JSON.stringify(e.obj.metadata.annotations);

export const anyOf =
  <T extends KubeObject>(...predicates: Predicate<T>[]): Predicate<T> =>
  (e) =>
    predicates.some((p) => p(e));

export interface ControllerOptions {
  name: string;
  workers: number;
  /** Per-reconcile timeout; its signal aborts (the reconcile is awaited all the same). */
  timeoutMs: number;
  log: Logger;
  metrics: Metrics;
  queue?: WorkQueue<string>;
}

/** A handler that calls `handle` with every object an event names: an update's old one and its new one. */
function onEveryObject<T extends KubeObject>(handle: (obj: T) => void): EventHandler<T> {
  return {
    add: handle,
    update: (old, obj) => {
      handle(old);
      handle(obj);
    },
    delete: handle,
  };
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  private readonly options: ControllerOptions;
  private readonly reconciler: Reconciler;
  private running: Promise<void>[] = [];
  private stopAll = new AbortController();

  constructor(options: ControllerOptions, reconciler: Reconciler) {
    this.options = options;
    this.name = options.name;
    this.reconciler = reconciler;
    this.queue = options.queue ?? new WorkQueue<string>({ metrics: options.metrics.queue(options.name) });
  }

  /** Handler that enqueues the primary object's own key, filtered by predicates. */
  forHandler<T extends KubeObject>(predicates: Predicate<T>[]): EventHandler<T> {
    const pass = (e: WatchEvent<T>) => predicates.every((p) => p(e));
    return {
      add: (obj) => pass({ type: 'add', obj }) && this.queue.add(keyOf(obj)),
      update: (old, obj) => pass({ type: 'update', obj, old }) && this.queue.add(keyOf(obj)),
      delete: (obj) => pass({ type: 'delete', obj }) && this.queue.add(keyOf(obj)),
    };
  }

  /**
   * Handler that enqueues the controller owner (of kind `owner`) of a changed child. A child that
   * changed or went (its Pod turned Running, someone deleted it) is work in flight: its owner is
   * queued urgently, ahead of objects not yet started; a child's creation is the owner's own doing.
   */
  ownsHandler<T extends KubeObject>(owner: Resource, filter?: (obj: T) => boolean): EventHandler<T> {
    const enqueueOwner = (obj: T, urgent: boolean) => {
      if (filter && !filter(obj)) return;
      const ref = obj.metadata.ownerReferences?.find(
        (o) => o.controller && o.kind === owner.kind && o.apiVersion === apiVersionOf(owner),
      );
      if (ref)
        this.queue.add(obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name, urgent);
    };
    return {
      add: (obj) => enqueueOwner(obj, false),
      update: (old, obj) => {
        enqueueOwner(old, true);
        enqueueOwner(obj, true);
      },
      delete: (obj) => enqueueOwner(obj, true),
    };
  }

  /** Handler that enqueues the keys `map` derives from any object. */
  mapHandler<T extends KubeObject>(map: (obj: T) => string[]): EventHandler<T> {
    return onEveryObject((obj) => {
      for (const key of map(obj)) this.queue.add(key);
    });
  }

  /** Starts the workers; they run until stop() or until `signal` aborts (lost leadership). */
  start(signal?: AbortSignal): void {
    this.stopAll = new AbortController();
    const stop = signal ? AbortSignal.any([signal, this.stopAll.signal]) : this.stopAll.signal;
    signal?.addEventListener('abort', () => this.queue.shutdown(), { once: true });
    this.running = Array.from({ length: this.options.workers }, () => this.worker(stop));
  }

  /** Stops taking keys, lets in-flight reconciles finish (drain), and waits for the workers. */
  async stop(): Promise<void> {
    if (this.running.length === 0) {
      this.queue.shutdown(); // never started (a standby): nobody would drain the queue
      return;
    }
    await this.queue.shutdownWithDrain();
    this.stopAll.abort(new Error('controller stopped'));
    await Promise.all(this.running);
  }

  private async worker(stop: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.options.metrics.workers(this.name, 1);
      try {
        await this.process(key, stop);
      } finally {
        this.options.metrics.workers(this.name, -1);
        this.queue.done(key);
      }
    }
  }

  private async process(key: string, stop: AbortSignal): Promise<void> {
    const slash = key.indexOf('/');
    const log = this.options.log.child({
      controller: this.name,
      namespace: slash < 0 ? undefined : key.slice(0, slash),
      name: slash < 0 ? key : key.slice(slash + 1),
      reconcileID: randomUUID(),
    });
    const timeout = deadline(this.options.timeoutMs);
    const signal = AbortSignal.any([stop, timeout.signal]);
    const started = performance.now();
    let result: ReconcileResult = 'success';
    let terminal = false;
    try {
      const outcome = await this.reconciler(key, { signal, log });
      if (outcome?.requeueAfter !== undefined && outcome.requeueAfter >= 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, outcome.requeueAfter);
        result = 'requeue_after';
      } else {
        this.queue.forget(key);
      }
    } catch (err) {
      result = 'error';
      if (err instanceof TerminalError) {
        terminal = true;
        this.queue.forget(key);
        log.error({ err }, 'reconcile failed terminally; waiting for the object to change');
      } else {
        this.queue.addRateLimited(key);
        log.error({ err, retries: this.queue.retries(key) }, 'reconcile failed; retrying with backoff');
      }
    } finally {
      timeout.clear();
      this.options.metrics.reconciled(this.name, result, (performance.now() - started) / 1000, terminal);
    }
  }
}

/** The shared informer of a resource, holding the T its configuration makes of the objects. */
export type InformerOf = <T extends KubeObject>(resource: Resource) => Informer<T>;

/** Fluent construction, bound to a manager's shared informers. */
export class ControllerBuilder {
  private primary: { resource: Resource; predicates: Predicate[] } | undefined;
  private readonly children: { resource: Resource; filter?: (obj: KubeObject) => boolean }[] = [];
  /** Handlers of watches(), each put on its informer when the manager wires the controller. */
  private readonly watched: ((informer: InformerOf, controller: Controller) => void)[] = [];
  private workers = 1;
  private timeoutMs = 5 * 60_000;
  private readonly name: string;
  private readonly register: (c: Controller, wire: (informer: InformerOf) => void) => void;
  private readonly make: (o: Omit<ControllerOptions, 'log' | 'metrics'>, r: Reconciler) => Controller;

  constructor(
    name: string,
    make: (o: Omit<ControllerOptions, 'log' | 'metrics'>, r: Reconciler) => Controller,
    register: (c: Controller, wire: (informer: InformerOf) => void) => void,
  ) {
    this.name = name;
    this.make = make;
    this.register = register;
  }

  /** The primary resource: its keys are what the reconciler receives. */
  for(resource: Resource, predicates: Predicate[] = []): this {
    this.primary = { resource, predicates };
    return this;
  }

  /**
   * A child resource: a change to one enqueues its controller owner of the primary kind (only for
   * the children `filter` passes, when given: those the reconciler reads).
   */
  owns(resource: Resource, filter?: (obj: KubeObject) => boolean): this {
    this.children.push({ resource, filter });
    return this;
  }

  /** Any resource, mapped to primary keys by `map` (T: what its informer holds). */
  watches<T extends KubeObject = KubeObject>(resource: Resource, map: (obj: T) => string[]): this {
    this.watched.push((informer, controller) => informer<T>(resource).on(controller.mapHandler(map)));
    return this;
  }

  withWorkers(n: number): this {
    this.workers = n;
    return this;
  }

  withTimeout(ms: number): this {
    this.timeoutMs = ms;
    return this;
  }

  /**
   * Builds the controller. Without for(), it has only watches(): a singleton controller whose
   * watches all map to one key (a scheduler's pass), so bursts of events coalesce.
   */
  complete(reconciler: Reconciler): Controller {
    const primary = this.primary;
    if (!primary && this.watched.length === 0)
      throw new Error(`controller ${this.name}: call for() or watches() before complete()`);
    const controller = this.make(
      { name: this.name, workers: this.workers, timeoutMs: this.timeoutMs },
      reconciler,
    );
    this.register(controller, (informer) => {
      if (primary) {
        informer(primary.resource).on(controller.forHandler(primary.predicates));
        for (const child of this.children)
          informer(child.resource).on(controller.ownsHandler(primary.resource, child.filter));
      }
      for (const watch of this.watched) watch(informer, controller);
    });
    return controller;
  }
}
