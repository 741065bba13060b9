// A route is declared once: method, path, scope, zod schemas of its parameters, query, body and
// answer, and a handler. The same declarations register the Fastify routes (authentication,
// rate limit, validation, envelope) and generate the OpenAPI document.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Principal } from '../auth/authenticate.ts';
import type { Scope } from '../auth/scopes.ts';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

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
  /** Answers with server-sent events (the handler writes them itself). */
  stream?: boolean;
  /** Answers with something other than the JSON envelope (the handler sends it itself). */
  raw?: boolean;
  /** Returns the answer's `data`; a stream or raw route returns nothing. */
  handler(call: Call<P, Q, B>): Promise<unknown>;
}

/**
 * Declares a route with its types inferred from its schemas. The server holds routes of every
 * shape as Route, and calls each handler with what that route's own schemas parsed.
 */
export const route = <P = undefined, Q = undefined, B = undefined>(r: Route<P, Q, B>): Route => r;
