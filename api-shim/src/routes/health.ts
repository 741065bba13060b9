// Public routes: liveness, readiness (the caches are filled), metrics and the API's description.
import { prometheusContentType } from 'prom-client';
import { z } from 'zod';
import type { ShimMetrics } from '../http/metrics.ts';
import { docsPage, openApiDocument } from '../http/openapi.ts';
import { type Route, route } from '../http/route.ts';
import type { ShimContext } from './context.ts';

export function healthRoutes(
  ctx: ShimContext,
  metrics: ShimMetrics,
  api: () => Route[],
  version: string,
): Route[] {
  return [
    route({
      method: 'GET',
      url: '/health',
      summary: 'Liveness: the process answers',
      tag: 'health',
      response: z.object({ status: z.literal('ok') }),
      handler: async () => ({ status: 'ok' }),
    }),
    route({
      method: 'GET',
      url: '/ready',
      summary: 'Readiness: the caches are filled (503 until then)',
      tag: 'health',
      raw: {
        type: 'application/json',
        schema: z.object({
          data: z.object({ status: z.enum(['ready', 'starting']) }),
          meta: z.object({ requestId: z.string() }),
        }),
      },
      alsoAnswers: { 503: 'the caches are still filling (data.status: starting)' },
      handler: async ({ reply, request }) => {
        const ready = ctx.cache.synced;
        reply.code(ready ? 200 : 503).send({
          data: { status: ready ? 'ready' : 'starting' },
          meta: { requestId: String(request.id) },
        });
      },
    }),
    route({
      method: 'GET',
      url: '/metrics',
      summary: 'Prometheus metrics',
      tag: 'health',
      raw: { type: prometheusContentType },
      handler: async ({ reply }) => {
        reply.type(prometheusContentType).send(await metrics.registry.metrics());
      },
    }),
    descriptionRoute(
      '/openapi.json',
      'This API, as an OpenAPI 3.1 document',
      {
        type: 'application/json',
        schema: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }),
      },
      () => openApiDocument(api(), version),
    ),
    descriptionRoute('/docs', 'This API, as a web page', { type: 'text/html; charset=utf-8' }, () =>
      docsPage(api(), version),
    ),
  ];
}

/** A description of the API, made at its first request (every route is registered by then) and kept. */
function descriptionRoute(
  url: string,
  summary: string,
  raw: NonNullable<Route['raw']>,
  make: () => unknown,
): Route {
  let made: unknown;
  return route({
    method: 'GET',
    url,
    summary,
    tag: 'docs',
    raw,
    handler: async ({ reply }) => {
      made ??= make();
      reply.type(raw.type).send(made);
    },
  });
}
