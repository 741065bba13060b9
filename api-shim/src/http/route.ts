// A route is declared once: method, path, scope, zod schemas of its parameters, query, body and
// answer, and a handler. The same declarations register the Fastify routes (authentication,
// rate limit, validation, envelope) and generate the OpenAPI document.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Principal } from '../auth/authenticate.ts';
import type { Scope } from '../auth/scopes.ts';
import type { ErrorStatus } from './errors.ts';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One kind of server-sent event a stream sends: its data (JSON) and, when it has one, its id. */
export interface StreamEvent {
  data: z.ZodType;
  description: string;
  /** What the event's id is, when it carries one (a client resumes after it with Last-Event-ID). */
  id?: string;
}

export interface Call<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  request: FastifyRequest;
  reply: FastifyReply;
  log: Logger;
}

export interface Route<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** Fastify syntax: /projects/:project. */
  url: string;
  summary: string;
  tag: string;
  /** The scope the key needs (a list: any one of them); a route without one is public. */
  scope?: Scope | Scope[];
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Schema of `data` in the answer (OpenAPI only). */
  response?: z.ZodType;
  /** Success status (default 200). */
  status?: number;
  /**
   * Answers with server-sent events (the handler writes them itself): every event it may send, by
   * name (a name in angle brackets stands for a family, e.g. `<kind>.<phase>`).
   */
  stream?: Record<string, StreamEvent>;
  /**
   * Answers with something other than the JSON envelope (the handler sends it itself): its media
   * type, and the schema of what it sends (a string when unset).
   */
  raw?: { type: string; schema?: z.ZodType };
  /**
   * Errors the handler itself answers besides those the route's declaration implies (400 for
   * parameters, query or body; 401, 403 and 429 for a key; 404 for parameters; 413 and 415 for a
   * body; 500 always): e.g. 409 when the object is in the wrong state.
   */
  errors?: ErrorStatus[];
  /** Other statuses answered in the route's own success shape, with what each means (e.g. /ready's 503). */
  alsoAnswers?: Record<number, string>;
  /** Returns the answer's `data`; a stream or raw route returns nothing. */
  handler(call: Call<P, Q, B>): Promise<unknown>;
}

/**
 * Declares a route with its types inferred from its schemas. The server holds routes of every
 * shape as Route, and calls each handler with what that route's own schemas parsed.
 */
export const route = <P = undefined, Q = undefined, B = undefined>(r: Route<P, Q, B>): Route => r;
