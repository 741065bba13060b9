// Public routes: liveness, readiness (the caches are filled), metrics and the API's description.

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
  let document: unknown;
  let page: string | undefined;
  return [
    route({
      method: 'GET',
      url: '/health',
      summary: 'Liveness: the process answers',
      tag: 'health',
      handler: async () => ({ status: 'ok' }),
    }),
    route({
      method: 'GET',
      url: '/ready',
      summary: 'Readiness: the caches are filled (503 until then)',
      tag: 'health',
      raw: true,
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
      raw: true,
      handler: async ({ reply }) => {
        reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
      },
    }),
    route({
      method: 'GET',
      url: '/openapi.json',
      summary: 'This API, as an OpenAPI 3.1 document',
      tag: 'docs',
      raw: true,
      handler: async ({ reply }) => {
        document ??= openApiDocument(api(), version);
        reply.type('application/json').send(document);
      },
    }),
    route({
      method: 'GET',
      url: '/docs',
      summary: 'This API, as a web page',
      tag: 'docs',
      raw: true,
      handler: async ({ reply }) => {
        page ??= docsPage(api(), version);
        reply.type('text/html; charset=utf-8').send(page);
      },
    }),
  ];
}
