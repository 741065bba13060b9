// A thin JSON client for the Kubernetes REST API, on @kubernetes/client-node's configuration and
// authentication. The generated API classes serialize bodies through typed models, which drops
// fields of custom resources (and keys such as `default` of plain objects); here bodies travel
// as they are, any resource is reachable by its group/version/plural, and every request has a
// timeout and is counted by verb and status code.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import {
  HttpMethod,
  type KubeConfig,
  RequestContext,
  type V1ObjectMeta,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import { type Dispatcher, fetch, type Response } from 'undici';
import { deadline, realClock, sleep } from './clock.ts';

/** A kind of object as the REST API addresses it. */
export interface Resource {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

/**
 * A @kubernetes/client-node model as JSON carries it. client-node's generated classes are what its
 * own serializer makes of the JSON: timestamps become Date objects, and fields named like
 * JavaScript keywords get an underscore (`_from` for `from`). This client sends and receives the
 * JSON as it is, so here timestamps are RFC 3339 strings and fields have their API names.
 */
export type Json<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T as K extends `_${infer Name}` ? Name : K]: Json<T[K]> }
      : T;

export type OwnerReference = V1OwnerReference;

/** metav1.ObjectMeta of an object read from the API server: it always has a name. */
export type ObjectMeta = Json<V1ObjectMeta> & { name: string };

/** Any object read from the API server. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** An object of a client-node model (V1Pod, V1Lease, …) as read from the API server. */
export type Live<T extends { metadata?: object }> = Json<T> & { metadata: ObjectMeta };

/**
 * What can be sent to the API server: an object built from a client-node model (whose metadata
 * is optional in the model; writes check that the name is there) or one read before.
 */
export interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

export interface ObjectList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** A metav1.Status: what the API server answers with when a request fails. */
export interface Status {
  code?: number;
  reason?: string;
  message?: string;
  details?: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
/** One line of a watch: an object (of a bookmark, only its resourceVersion), or a Status. */
export type WatchEvent<T> =
  | { type: Exclude<WatchEventType, 'ERROR'>; object: T }
  | { type: 'ERROR'; object: Status };

/** A failed API call, carrying the Status the API server answered with. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: unknown;

  constructor(code: number, reason: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

export const isNotFound = (err: unknown) => err instanceof ApiError && err.code === 404;
export const isConflict = (err: unknown) => err instanceof ApiError && err.code === 409;
export const isGone = (err: unknown) => err instanceof ApiError && err.code === 410;

/** Called after every request, for metrics. `code` is 0 when no response arrived. */
export type RequestObserver = (verb: string, code: number) => void;

export interface ClientOptions {
  /** Timeout of each request except watches (which end on their own timeoutSeconds). */
  timeoutMs?: number;
  observe?: RequestObserver;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  verb: string;
  query?: Query;
  body?: unknown;
  contentType?: string;
  /** The Accept header (default application/json). */
  accept?: string;
  signal?: AbortSignal;
}

export type PatchType = 'apply' | 'merge' | 'json' | 'strategic';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  apply: 'application/apply-patch+yaml',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export const apiVersionOf = (r: Pick<Resource, 'group' | 'version'>) =>
  r.group ? `${r.group}/${r.version}` : r.version;

/**
 * The connection pool to the API server. client-node builds a new dispatcher (an undici Agent,
 * so new TLS connections) for every request; the first one is kept and reused instead, while
 * authentication headers are still computed per request (tokens may rotate).
 */
interface Connections {
  dispatcher?: Dispatcher;
}

export class KubeClient {
  readonly config: KubeConfig;
  private readonly timeoutMs: number;
  private readonly observe: RequestObserver;
  private readonly connections: Connections;

  constructor(config: KubeConfig, options: ClientOptions = {}, connections: Connections = {}) {
    this.config = config;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.observe = options.observe ?? (() => undefined);
    this.connections = connections;
  }

  /** A client like this one (same connections) whose requests time out after `timeoutMs`. */
  withTimeout(timeoutMs: number): KubeClient {
    return new KubeClient(this.config, { timeoutMs, observe: this.observe }, this.connections);
  }

  /** Closes the pooled connections (on shutdown). */
  async close(): Promise<void> {
    const dispatcher = this.connections.dispatcher;
    this.connections.dispatcher = undefined;
    await dispatcher?.close();
  }

  /** The REST path of a collection (no name) or an object, optionally of its subresource. */
  path(r: Resource, namespace?: string, name?: string, subresource?: string): string {
    const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    const obj = name ? `/${encodeURIComponent(name)}` : '';
    return `${base}${ns}/${r.plural}${obj}${name && subresource ? `/${subresource}` : ''}`;
  }

  /**
   * Sends one request. A 429 (the API server's flow control, or a watch cache still filling after
   * a CRD was installed) was not processed: it is sent again after its Retry-After, as client-go
   * does, while the request's time budget lasts.
   */
  async request<T>(path: string, options: RequestOptions & { method: string }): Promise<T> {
    const started = Date.now();
    const budget = deadline(this.timeoutMs);
    try {
      for (let attempt = 1; ; attempt++) {
        const response = await this.send(path, options, budget.signal);
        const text = await response.text();
        if (response.status < 400) return fromJson<T>(text);
        const wait = throttledWaitMs(response, attempt);
        if (wait === undefined || Date.now() + wait >= started + this.timeoutMs) {
          throw toApiError(response.status, text);
        }
        await sleep(realClock, wait, options.signal);
      }
    } finally {
      budget.clear();
    }
  }

  /** Reads one object; T is what the caller knows the resource to hold (a client-node model, a kind). */
  get<T extends KubeObject = KubeObject>(
    r: Resource,
    namespace: string | undefined,
    name: string,
    query: Query = {},
  ): Promise<T> {
    return this.request(this.path(r, namespace, name), { method: 'GET', verb: 'get', query });
  }

  /** Reads one object's metadata only (a PartialObjectMetadata): a Secret's labels, not its data. */
  getMetadata(r: Resource, namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.request(this.path(r, namespace, name), {
      method: 'GET',
      verb: 'get',
      accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json',
    });
  }

  list<T extends KubeObject = KubeObject>(
    r: Resource,
    namespace?: string,
    query: Query = {},
  ): Promise<ObjectList<T>> {
    return this.request(this.path(r, namespace), { method: 'GET', verb: 'list', query });
  }

  /** Creates `obj` and resolves with it as the API server stored it. */
  create<T extends Manifest>(r: Resource, obj: T, query: Query = {}): Promise<Live<T>> {
    return this.request(this.path(r, obj.metadata?.namespace), {
      method: 'POST',
      verb: 'create',
      body: obj,
      query,
    });
  }

  replace<T extends KubeObject>(r: Resource, obj: T, subresource?: string): Promise<T> {
    const path = this.path(r, obj.metadata.namespace, obj.metadata.name, subresource);
    return this.request(path, { method: 'PUT', verb: 'update', body: obj });
  }

  patch<T extends KubeObject = KubeObject>(
    r: Resource,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType,
    query: Query = {},
    subresource?: string,
  ): Promise<T> {
    return this.request(this.path(r, namespace, name, subresource), {
      method: 'PATCH',
      verb: 'patch',
      body: patch,
      contentType: PATCH_CONTENT_TYPE[type],
      query,
    });
  }

  /** Deletes an object; resolves with the API server's answer (the object while finalizers hold it). */
  delete(
    r: Resource,
    namespace: string | undefined,
    name: string,
    options: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; uid?: string } = {},
  ): Promise<unknown> {
    const body = {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: options.propagationPolicy,
      preconditions: options.uid ? { uid: options.uid } : undefined,
    };
    return this.request(this.path(r, namespace, name), { method: 'DELETE', verb: 'delete', body });
  }

  /**
   * Streams a watch: resolves when the server ends it, rejects on errors (an HTTP 410 as an
   * ApiError with code 410). ERROR events are passed on for the caller to judge.
   */
  async watch<T extends KubeObject>(
    r: Resource,
    namespace: string | undefined,
    query: Query,
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const response = await this.send(
      this.path(r, namespace),
      { method: 'GET', verb: 'watch', query: { ...query, watch: true } },
      signal,
    );
    if (response.status >= 400) throw toApiError(response.status, await response.text());
    if (!response.body) return;
    const body = Readable.fromWeb(response.body);
    const lines = createInterface({ input: body, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) {
        if (line.trim()) onEvent(fromJson<WatchEvent<T>>(line));
      }
    } finally {
      lines.close();
      body.destroy();
    }
  }

  private async send(path: string, options: RequestOptions & { method: string }, signal: AbortSignal) {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    await this.config.applySecurityAuthentication(ctx);
    this.connections.dispatcher ??= ctx.getDispatcher();
    const headers: Record<string, string> = {
      ...ctx.getHeaders(),
      accept: options.accept ?? 'application/json',
    };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const combined = options.signal ? AbortSignal.any([signal, options.signal]) : signal;
    try {
      const response = await fetch(url, {
        method: options.method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: combined,
        // the dispatcher carries the cluster's CA and client certificate
        dispatcher: this.connections.dispatcher,
      });
      this.observe(options.verb, response.status);
      return response;
    } catch (err) {
      this.observe(options.verb, 0);
      throw err;
    }
  }
}

/**
 * The JSON boundary: a body is taken to be the T its caller names, as any Kubernetes client takes
 * the API server's answers to match the resource's schema (typed readers parse what they cache).
 */
function fromJson<T>(text: string): T {
  return JSON.parse(text || 'null') ?? undefined; // an empty body: undefined
}

const MAX_THROTTLED_ATTEMPTS = 10;
const MAX_RETRY_AFTER_MS = 10_000;

/** How long to wait before sending a throttled (429) request again; undefined: do not. */
function throttledWaitMs(response: Response, attempt: number): number | undefined {
  if (response.status !== 429 || attempt >= MAX_THROTTLED_ATTEMPTS) return undefined;
  const seconds = Number(response.headers.get('retry-after') ?? '1');
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : 1000;
}

function toApiError(code: number, text: string): ApiError {
  try {
    const status = fromJson<Status>(text);
    return new ApiError(code, status.reason ?? 'Unknown', status.message ?? text, status.details);
  } catch {
    return new ApiError(code, 'Unknown', text || `HTTP ${code}`);
  }
}
