// The OpenAPI 3.1 document, generated from the route declarations and their zod schemas, and a
// self-contained HTML page that presents it (no scripts from elsewhere: it works offline).
import { z } from 'zod';
import { ERROR_CODES, type ErrorStatus } from './errors.ts';
import type { Route } from './route.ts';

type JsonSchema = Record<string, unknown>;

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  });
  return rest;
};

const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !field.safeParse(undefined).success,
    description: field.description,
    schema: jsonSchema(field, 'input'),
  }));
}

const scopes = (r: Route) => (r.scope === undefined ? [] : Array.isArray(r.scope) ? r.scope : [r.scope]);

function operation(r: Route) {
  const ok = String(r.status ?? 200);
  const success = r.stream
    ? { description: 'server-sent events', content: { 'text/event-stream': { schema: { type: 'string' } } } }
    : {
        description: 'success',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['data', 'meta'],
              properties: {
                data: r.response ? jsonSchema(r.response, 'output') : {},
                meta: { $ref: '#/components/schemas/Meta' },
              },
            },
          },
        },
      };
  const codes: ErrorStatus[] = r.scope ? [400, 401, 403, 404, 409, 422, 429, 500] : [500];
  const errors = Object.fromEntries(
    codes.map((code) => [String(code), { $ref: `#/components/responses/${ERROR_CODES[code]}` }]),
  );
  return {
    operationId: `${r.method.toLowerCase()}${openApiPath(r.url)
      .replace(/[{}]/g, '')
      .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
      .replace(/[^A-Za-z0-9]/g, '')}`,
    summary: r.summary,
    tags: [r.tag],
    ...(r.scope
      ? { security: [{ bearer: [] }, { apiKey: [] }], 'x-rdev-scopes': scopes(r) }
      : { security: [] }),
    parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
    ...(r.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
          },
        }
      : {}),
    responses: { [ok]: success, ...errors },
  };
}

export function openApiDocument(routes: Route[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = openApiPath(r.url);
    const operations = paths[path] ?? {};
    operations[r.method.toLowerCase()] = operation(r);
    paths[path] = operations;
  }
  const errorSchema = {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: [...new Set(Object.values(ERROR_CODES))] },
          message: { type: 'string' },
          details: { description: 'for 400 and 422: [{path, message}] naming each field at fault' },
        },
      },
      meta: { $ref: '#/components/schemas/Meta' },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'rdev API',
      version,
      description:
        'The rdev shim: API-key access to Projects, Sessions, Checkouts, WorkItems and Features. Every write is a write of the custom resource; every read comes from the shim’s cache of them. A method a path does not list answers 405 (method_not_allowed) with an Allow header naming those it does.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer rdev_…' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: {
        Meta: {
          type: 'object',
          required: ['requestId'],
          properties: {
            requestId: { type: 'string' },
            continue: {
              type: 'string',
              description: 'on a page of a list with more to come: pass as ?continue=',
            },
          },
        },
        Error: errorSchema,
      },
      responses: Object.fromEntries(
        Object.entries(ERROR_CODES).map(([status, code]) => [
          code,
          {
            description: `${status} ${code}`,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        ]),
      ),
    },
  };
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/** The /docs page: every route with its scopes, parameters and body schema. */
export function docsPage(routes: Route[], version: string): string {
  const rows = routes.map((r) => {
    const op = operation(r);
    const body = op.requestBody
      ? `<details><summary>request body</summary><pre>${escapeHtml(JSON.stringify(op.requestBody.content['application/json'].schema, null, 2))}</pre></details>`
      : '';
    const params = op.parameters.length
      ? `<ul>${op.parameters.map((p) => `<li><code>${escapeHtml(p.name)}</code> (${p.in}${p.required ? ', required' : ''}) ${escapeHtml(p.description ?? '')}</li>`).join('')}</ul>`
      : '';
    return `<tr><td><b>${r.method}</b></td><td><code>${escapeHtml(openApiPath(r.url))}</code></td><td>${escapeHtml(scopes(r).join(' or ') || 'none')}</td><td>${escapeHtml(r.summary)}${params}${body}</td></tr>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>rdev API ${escapeHtml(version)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}td{vertical-align:top;padding:.4rem;border-bottom:1px solid #ddd}pre{background:#f6f6f6;padding:.5rem;overflow:auto}</style></head>
<body><h1>rdev API ${escapeHtml(version)}</h1>
<p>Authenticate with <code>Authorization: Bearer rdev_…</code> or <code>X-API-Key</code>. Answers are <code>{data, meta: {requestId}}</code>; errors <code>{error: {code, message, details}}</code>. The machine-readable document is <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>Scope</th><th>What it does</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></body></html>`;
}
