// Keeps a cache in step with the API server, as client-go's reflector does: a paginated list,
// then a watch from the list's resourceVersion with bookmarks, resumed from the last version
// seen whenever it ends; 410 Gone means the version is too old, so it lists again (the sink
// turns what vanished into deletes). Errors never stop it: it retries with a capped, jittered
// backoff until its signal aborts.
import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';
import {
  ApiError,
  isGone,
  type KubeClient,
  type KubeObject,
  type ObjectList,
  type Resource,
  type WatchEvent,
} from './client.ts';
import { type Clock, realClock, sleep } from './clock.ts';

/** Where the objects come from: the REST API, or a fake in unit tests. */
export interface ListWatch<T extends KubeObject> {
  list(options: { limit: number; continue?: string }): Promise<ObjectList<T>>;
  watch(
    options: { resourceVersion: string; timeoutSeconds: number },
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

export interface ListWatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export function clientListWatch<T extends KubeObject>(
  client: KubeClient,
  resource: Resource,
  options: ListWatchOptions = {},
): ListWatch<T> {
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  return {
    list: (o) =>
      client.list<T>(resource, options.namespace, { ...selectors, limit: o.limit, continue: o.continue }),
    watch: (o, onEvent, signal) =>
      client.watch<T>(
        resource,
        options.namespace,
        {
          ...selectors,
          resourceVersion: o.resourceVersion,
          timeoutSeconds: o.timeoutSeconds,
          allowWatchBookmarks: true,
        },
        onEvent,
        signal,
      ),
  };
}

/** What the reflector feeds. */
export interface ReflectorSink<T extends KubeObject> {
  /** The complete current set, after a (re)list. */
  replace(objects: T[]): void;
  /** One change from the watch. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
}

export interface ReflectorOptions {
  pageSize?: number;
  clock?: Clock;
  backoff?: Backoff;
  log?: Logger;
  /** Watch timeout range in seconds; each watch picks one at random so watches do not end together. */
  watchTimeoutSeconds?: [number, number];
}

export interface ReflectorStats {
  lists: number;
  watches: number;
  /** Relists forced by 410 Gone. */
  expired: number;
  errors: number;
}

export class Reflector<T extends KubeObject> {
  readonly stats: ReflectorStats = { lists: 0, watches: 0, expired: 0, errors: 0 };
  private resourceVersion: string | undefined;
  private readonly source: ListWatch<T>;
  private readonly sink: ReflectorSink<T>;
  private readonly pageSize: number;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly log: Logger | undefined;
  private readonly watchTimeout: [number, number];

  constructor(source: ListWatch<T>, sink: ReflectorSink<T>, options: ReflectorOptions = {}) {
    this.source = source;
    this.sink = sink;
    this.pageSize = options.pageSize ?? 500;
    this.clock = options.clock ?? realClock;
    this.backoff = options.backoff ?? new Backoff();
    this.log = options.log;
    this.watchTimeout = options.watchTimeoutSeconds ?? [300, 600];
  }

  /** The resourceVersion the next watch resumes from (undefined: it lists first). */
  get lastResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.listAll();
        if (signal.aborted) return;
        await this.watch(signal);
      } catch (err) {
        if (signal.aborted) return;
        if (isGone(err)) {
          this.stats.expired++;
          this.log?.info({ err: String(err) }, 'resource version expired; listing again');
          this.resourceVersion = undefined;
          continue;
        }
        this.stats.errors++;
        const delay = this.backoff.next();
        this.log?.warn({ err: String(err), retryInMs: Math.round(delay) }, 'list/watch failed; retrying');
        await sleep(this.clock, delay, signal).catch(() => undefined);
      }
    }
  }

  private async listAll(): Promise<void> {
    const objects: T[] = [];
    let page: ObjectList<T> | undefined;
    do {
      page = await this.source.list({ limit: this.pageSize, continue: page?.metadata.continue });
      objects.push(...page.items);
    } while (page.metadata.continue);
    this.stats.lists++;
    this.sink.replace(objects);
    this.resourceVersion = page.metadata.resourceVersion;
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const [min, max] = this.watchTimeout;
    const timeoutSeconds = Math.floor(min + Math.random() * (max - min));
    this.stats.watches++;
    let received = false;
    await this.source.watch(
      { resourceVersion: this.resourceVersion ?? '', timeoutSeconds },
      (event) => {
        if (event.type === 'ERROR') {
          const status = event.object;
          throw new ApiError(status.code ?? 500, status.reason ?? 'Unknown', status.message ?? 'watch error');
        }
        if (!received) this.backoff.reset(); // the connection works again
        received = true;
        if (event.type !== 'BOOKMARK') this.sink.apply(event.type, event.object);
        this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
      },
      signal,
    );
  }
}
