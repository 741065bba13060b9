// The shim's HTTP server: each declared route gets authentication, scope check, rate limit and
// validation, in that order, then answers in the {data, meta} envelope. Errors answer in one
// shape; request logs carry the key id, never the key.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { lazyChild } from '../../operator/src/runtime/logging.ts';
import { authenticate, type Principal } from './auth/authenticate.ts';
import { KeyRateLimiter } from './auth/rate-limit.ts';
import { hasScope } from './auth/scopes.ts';
import type { TrustProxy } from './config.ts';
import { errorResponse, forbidden, HttpError, invalid } from './http/errors.ts';
import { ShimMetrics } from './http/metrics.ts';
import { Page } from './http/page.ts';
import type { Call, Route } from './http/route.ts';
import { StreamLimiter } from './http/stream-limit.ts';
import { validate } from './http/validate.ts';
import { LastUsedRecorder } from './keys/last-used.ts';
import { checkoutRoutes } from './routes/checkouts.ts';
import type { ShimContext } from './routes/context.ts';
import { eventRoutes } from './routes/events.ts';
import { featureRoutes } from './routes/features.ts';
import { healthRoutes } from './routes/health.ts';
import { keyRoutes } from './routes/keys.ts';
import { projectRoutes } from './routes/projects.ts';
import { queueRoutes } from './routes/queue.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { workRoutes } from './routes/work.ts';

/**
 * The longest path parameter any route declares: an object name (a DNS subdomain, 253 characters).
 * Fastify's default (100) would answer longer ones with its own 414 before any route is reached.
 */
export const MAX_PARAM_LENGTH = 253;

/** Answers `err` in the error envelope; a 500 is logged with the request id. */
function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, headers } = errorResponse(err);
  if (status >= 500) request.log.error({ err, keyId: request.keyId }, 'request failed');
  // Refused before its body arrived (onRequest): the connection closes after the answer rather
  // than reading a body nobody wants, however slowly it comes.
  if (!request.raw.complete) reply.header('connection', 'close');
  reply
    .code(status)
    .headers(headers)
    .send({ ...body, meta: { requestId: String(request.id) } });
}

export interface ServerOptions {
  log: Logger;
  version: string;
  rateLimit: number;
  rateBurst: number;
  bodyLimit: number;
  /** Which proxies may set X-Forwarded-For: false, a hop count, or their addresses/CIDRs. */
  trustProxy: TrustProxy;
  /** Seconds a client may take to send a whole request (default 30). */
  requestTimeoutSeconds?: number;
  /** Seconds a connection may stay idle (default 120); streams are exempt. */
  connectionTimeoutSeconds?: number;
  /** Streams an API key may hold open at once (default 8). */
  maxStreamsPerKey?: number;
}

/** Every API route (those that need a key). */
export const apiRoutes = (ctx: ShimContext): Route[] => [
  ...keyRoutes(ctx),
  ...projectRoutes(ctx),
  ...sessionRoutes(ctx),
  ...checkoutRoutes(ctx),
  ...workRoutes(ctx),
  ...featureRoutes(ctx),
  ...queueRoutes(ctx),
  ...eventRoutes(ctx),
  ...webhookRoutes(ctx),
];

declare module 'fastify' {
  interface FastifyRequest {
    keyId?: string;
    /** The caller, known once onRequest authenticated it (before the body is read). */
    principal?: Principal;
  }
}

/**
 * What a handler is called with. A class, not an object literal with getters: V8 puts a literal's
 * getters (closures of their own, per request) in accessor pairs it allocates in the old
 * generation, and from there they keep the request they close over alive through every
 * young-generation collection, to be copied, promoted, and collected only by a full one.
 */
class RouteCall implements Call<unknown, unknown, unknown> {
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  private readonly route: Route;
  private made: Logger | undefined;

  constructor(
    route: Route,
    params: unknown,
    query: unknown,
    body: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    this.route = route;
    this.params = params;
    this.query = query;
    this.body = body;
    this.request = request;
    this.reply = reply;
    this.made = undefined;
  }

  /** A public route has no caller to name: reading its principal is a bug. */
  get principal(): Principal {
    const principal = this.request.principal;
    if (!principal) throw new Error(`${this.route.method} ${this.route.url} is public: it has no principal`);
    return principal;
  }

  /** Made for the handlers that log (request.log carries the request id already). */
  get log(): Logger {
    this.made ??= lazyChild(this.request.log as Logger, { keyId: this.request.keyId });
    return this.made;
  }
}

export function buildServer(ctx: ShimContext, options: ServerOptions) {
  const metrics = new ShimMetrics();
  const limiter = new KeyRateLimiter(options.rateLimit, options.rateBurst);
  const sweep = setInterval(() => limiter.sweep(), 60_000);
  sweep.unref();
  const streams = new StreamLimiter(options.maxStreamsPerKey ?? 8);
  const lastUsed = new LastUsedRecorder(ctx.client, ctx.config.namespace, options.log);
  const app = Fastify({
    loggerInstance: options.log,
    // One line per request, written in onResponse with the key id; none of Fastify's own.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    // A request's logger (bound to its id) is made when the request writes a line, not before.
    childLoggerFactory: (logger, bindings, options) => lazyChild(logger as Logger, bindings, options),
    bodyLimit: options.bodyLimit,
    // A hop count trusts that many proxies nearest the shim (the socket's peer first); Fastify's
    // own number form trusts none, so it is given as a function.
    trustProxy:
      typeof options.trustProxy === 'number'
        ? (
            (hops: number) => (_: string, i: number) =>
              i < hops
          )(options.trustProxy)
        : options.trustProxy,
    // A client that sends a request slowly, or leaves a connection idle, does not hold it for ever.
    requestTimeout: (options.requestTimeoutSeconds ?? 30) * 1000,
    connectionTimeout: (options.connectionTimeoutSeconds ?? 120) * 1000,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors of the router itself (a longer parameter, a malformed URL) answer in the envelope too.
    frameworkErrors: (err, request, reply) =>
      sendError(
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? invalid(`a path parameter is longer than ${MAX_PARAM_LENGTH} characters`, [
              { path: 'path', message: `longer than ${MAX_PARAM_LENGTH} characters` },
            ])
          : err,
        request,
        reply,
      ),
  });
  // JSON only: anything else is a 415, not a string a route would then reject as a 400.
  app.removeContentTypeParser('text/plain');
  const routes: Route[] = [];
  routes.push(...healthRoutes(ctx, metrics, () => routes, options.version), ...apiRoutes(ctx));

  // A known path asked with a method it lacks is a 405 naming those it has, answered before the
  // body is read (a body a route would never take is no reason for a 400 or 415).
  const methods = [...new Set(routes.flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method])))];
  // The hooks every request runs take a callback: an async hook costs a promise and its turns of
  // the microtask queue, per request, for work that never waits.
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) return done();
    const allow = methods.filter((method) => app.findRoute({ method, url: request.url })).sort();
    if (allow.length === 0) return done();
    sendError(
      new HttpError(405, `${request.method} is not allowed here; allowed: ${allow.join(', ')}`, undefined, {
        allow: allow.join(', '),
      }),
      request,
      reply,
    );
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', String(request.id));
    done(null, payload);
  });
  // The request line holds the method, the route's pattern (never the URL), numbers and the key's
  // id: nothing the redaction list could match, which pino would nonetheless run over each of its
  // fields (each value against every path), at a cost several times the rest of a cached read.
  const requestLines = options.log.child({}, { redact: [] });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: reply.statusCode });
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (route === '/health' || route === '/ready' || route === '/metrics') return done();
    requestLines.info(
      {
        requestId: request.id,
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        keyId: request.keyId,
      },
      'request',
    );
    done();
  });
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` },
      meta: { requestId: String(request.id) },
    });
  });

  const authorize = (r: Route, request: FastifyRequest): Principal => {
    const principal = authenticate(ctx.keys, request.headers, request.ip);
    request.keyId = principal.key.id;
    const wanted = Array.isArray(r.scope) ? r.scope : [r.scope ?? 'admin'];
    const wait = limiter.take(principal.key.id);
    if (wait > 0) {
      throw new HttpError(
        429,
        `the API key ${principal.key.id} is over its rate limit; retry in ${wait} s`,
        undefined,
        {
          'retry-after': String(wait),
        },
      );
    }
    if (!wanted.some((s) => hasScope(principal.key.scopes, s))) {
      throw forbidden(`the API key ${principal.key.id} lacks the scope ${wanted.join(' or ')}`);
    }
    lastUsed.used(principal.key);
    return principal;
  };

  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.url,
      // Who is calling is settled before the body is read: a client without a valid key gets its
      // 401 (or 403, 429) without the shim reading, let alone parsing, what it sends.
      onRequest: r.scope
        ? (request, reply, done) => {
            let principal: Principal;
            try {
              principal = authorize(r, request);
            } catch (err) {
              return done(err as Error);
            }
            if (r.stream) {
              const wait = streams.acquire(principal.key.id);
              if (wait > 0) {
                return done(
                  new HttpError(
                    429,
                    `the API key ${principal.key.id} holds ${streams.limit} streams already; close one, or retry in ${wait} s`,
                    undefined,
                    { 'retry-after': String(wait) },
                  ),
                );
              }
              reply.raw.once('close', () => streams.release(principal.key.id));
            }
            request.principal = principal;
            done();
          }
        : undefined,
      handler: async (request, reply) => {
        const params = r.params ? validate(r.params, request.params, 'path') : undefined;
        const query = r.query ? validate(r.query, request.query ?? {}, 'query') : undefined;
        const body = r.body ? validate(r.body, request.body, 'body') : undefined;
        if (r.stream) metrics.streams.inc({ route: r.url });
        try {
          const data = await r.handler(new RouteCall(r, params, query, body, request, reply));
          if (r.stream || r.raw) return reply;
          reply.code(r.status ?? 200);
          const meta = { requestId: String(request.id) };
          if (data instanceof Page)
            return { data: data.items, meta: data.next ? { ...meta, continue: data.next } : meta };
          return { data, meta };
        } finally {
          if (r.stream) {
            if (reply.raw.writableEnded || reply.raw.destroyed) metrics.streams.dec({ route: r.url });
            else reply.raw.once('close', () => metrics.streams.dec({ route: r.url }));
          }
        }
      },
    });
  }
  app.addHook('onClose', async () => clearInterval(sweep));
  return app;
}
