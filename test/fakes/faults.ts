// Fault injection and a request log, shared by the fakes of SaaS APIs (Woodpecker, Cloudflare).
// Faults are set on the fake object in the test, never over HTTP, so that the code under test
// cannot tell a fake failure from a real one.

/** What a faulty request gets instead of its answer. */
export type FaultResponse =
  /** This HTTP status, in the fake's own error format (Retry-After header when given). */
  | { status: number; retryAfterSeconds?: number; message?: string }
  /** Never answered: the client's timeout has to fire. Released when the fake closes. */
  | { hang: true }
  /** The connection is dropped without an answer (a network error on the client). */
  | { reset: true };

export interface FaultMatch {
  /** Only requests of this method (GET, POST, …). */
  method?: string;
  /** Only requests to this path (without the query): exact when a string. */
  path?: string | RegExp;
}

export interface FaultOptions extends FaultMatch {
  /**
   * The request takes effect first and only its answer is replaced: the response was lost on the
   * way back (a crash or timeout after the server acted), the case that makes clients adopt.
   */
  afterEffect?: boolean;
}

interface Fault {
  response: FaultResponse;
  match: FaultMatch;
  afterEffect: boolean;
  /** How many more requests it applies to. */
  remaining: number;
  /** Date.now() after which it no longer applies. */
  until: number;
}

/** One request the fake received, as the test may want to assert on it. */
export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string[]>;
  /** The status answered; undefined when the fault hung or reset the request. */
  status?: number;
  /** Which fault it met, if any. */
  fault?: 'status' | 'hang' | 'reset';
  /** Whether the request was carried out (false when a fault answered instead). */
  applied: boolean;
  /** The parsed JSON body, if any (never the Authorization header). */
  body?: unknown;
}

export class FaultInjector {
  #faults: Fault[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The next `count` matching requests fail with `response`. */
  next(count: number, response: FaultResponse, options: FaultOptions = {}): void {
    this.#add(response, options, count, Number.POSITIVE_INFINITY);
  }

  /** Every matching request fails with `response` for the next `ms` milliseconds. */
  during(ms: number, response: FaultResponse, options: FaultOptions = {}): void {
    this.#add(response, options, Number.POSITIVE_INFINITY, this.#now() + ms);
  }

  /** Every matching request fails with `response` until clear() is called. */
  always(response: FaultResponse, options: FaultOptions = {}): void {
    this.#add(response, options, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  clear(): void {
    this.#faults = [];
  }

  /** The number of faults still pending (expired ones excluded). */
  get pending(): number {
    this.#expire();
    return this.#faults.length;
  }

  /** The fault this request meets, consuming one of its uses; undefined when there is none. */
  take(method: string, path: string): { response: FaultResponse; afterEffect: boolean } | undefined {
    this.#expire();
    const fault = this.#faults.find((f) => matches(f.match, method, path));
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.#expire();
    return { response: fault.response, afterEffect: fault.afterEffect };
  }

  #add(response: FaultResponse, options: FaultOptions, remaining: number, until: number): void {
    const { afterEffect = false, ...match } = options;
    if (afterEffect && !('status' in response)) {
      throw new Error('afterEffect applies to status faults only');
    }
    this.#faults.push({ response, match, afterEffect, remaining, until });
  }

  #expire(): void {
    const now = this.#now();
    this.#faults = this.#faults.filter((f) => f.remaining > 0 && f.until > now);
  }
}

function matches(match: FaultMatch, method: string, path: string): boolean {
  if (match.method && match.method.toUpperCase() !== method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? match.path === path : match.path.test(path);
}
