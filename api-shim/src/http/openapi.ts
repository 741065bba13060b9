// The OpenAPI 3.1 document, generated from the route declarations and their zod schemas, and a
// self-contained HTML page that presents it (no scripts from elsewhere: it works offline).
import { z } from 'zod';
import { ERROR_CODES, type ErrorStatus } from './errors.ts';
import type { Route, StreamEvent } from './route.ts';
import { type JsonSchema, renameRefs, SchemaSet } from './schemas.ts';

const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

function parameters(schemas: SchemaSet, schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !field.safeParse(undefined).success,
    description: field.description,
    schema: schemas.json(field, 'input'),
  }));
}

const scopes = (r: Route) => (r.scope === undefined ? [] : Array.isArray(r.scope) ? r.scope : [r.scope]);

/** What a write answers when the Kubernetes API fails, is overloaded or does not answer in time. */
const UPSTREAM: ErrorStatus[] = [502, 503, 504];

/**
 * Every error a route can answer: what its declaration implies (parameters, a query or a body can
 * be invalid; a key can be missing, lack the scope or be over its rate limit; a named object can
 * be missing; a body can be too large or not JSON; a write can be refused by the API server or
 * find it unavailable), what its handler declares, and 500.
 */
export function errorStatuses(r: Route): ErrorStatus[] {
  const codes = new Set<ErrorStatus>(r.errors ?? []);
  if (r.params || r.query || r.body) codes.add(400);
  if (r.scope) for (const code of [401, 403, 429] as const) codes.add(code);
  if (r.params) codes.add(404);
  if (r.body) for (const code of [413, 415] as const) codes.add(code);
  if (r.scope && r.method !== 'GET') {
    for (const code of [400, 409, 422, ...UPSTREAM] as const) codes.add(code);
  }
  codes.add(500);
  return [...codes].sort((a, b) => a - b);
}

/** The media type a route answers its success with. */
export function successType(r: Route): string {
  return r.stream ? 'text/event-stream' : r.raw ? r.raw.type : 'application/json';
}

function streamResponse(schemas: SchemaSet, events: Record<string, StreamEvent>) {
  const names = Object.keys(events);
  return {
    description: `server-sent events: ${names.join(', ')} (each event's data is JSON; x-events describes it)`,
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          description: 'event: <name>, optionally id: <id>, then data: <JSON>, per event',
        },
        'x-events': Object.fromEntries(
          Object.entries(events).map(([name, e]) => [
            name,
            {
              description: e.description,
              ...(e.id ? { id: e.id } : {}),
              data: schemas.json(e.data, 'output'),
            },
          ]),
        ),
      },
    },
  };
}

function successResponse(schemas: SchemaSet, r: Route) {
  if (r.stream) return streamResponse(schemas, r.stream);
  if (r.raw) {
    return {
      description: 'success',
      content: {
        [r.raw.type.split(';')[0] ?? r.raw.type]: {
          schema: r.raw.schema ? schemas.json(r.raw.schema, 'output') : { type: 'string' },
        },
      },
    };
  }
  return {
    description: 'success',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['data', 'meta'],
          additionalProperties: false,
          properties: {
            data: r.response ? schemas.json(r.response, 'output') : {},
            meta: { $ref: '#/components/schemas/Meta' },
          },
        },
      },
    },
  };
}

function operation(schemas: SchemaSet, r: Route) {
  const success = successResponse(schemas, r);
  const responses: Record<string, unknown> = { [String(r.status ?? 200)]: success };
  for (const [status, description] of Object.entries(r.alsoAnswers ?? {})) {
    responses[status] = { ...success, description };
  }
  for (const code of errorStatuses(r)) {
    responses[String(code)] = { $ref: `#/components/responses/${ERROR_CODES[code]}` };
  }
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
    parameters: [...parameters(schemas, r.params, 'path'), ...parameters(schemas, r.query, 'query')],
    ...(r.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemas.json(r.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

const fieldIssue = {
  type: 'object',
  required: ['path', 'message'],
  additionalProperties: false,
  properties: {
    path: { type: 'string', description: 'the field at fault, e.g. body.spec.ttl or query.limit' },
    message: { type: 'string' },
  },
};

const errorSchema = (details: JsonSchema, required: string[]) => ({
  type: 'object',
  required: ['error', 'meta'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required,
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: [...new Set(Object.values(ERROR_CODES))] },
        message: { type: 'string' },
        details,
      },
    },
    meta: { $ref: '#/components/schemas/Meta' },
  },
});

/** Headers some errors carry. */
const ERROR_HEADERS: Partial<Record<ErrorStatus, Record<string, unknown>>> = {
  401: {
    'WWW-Authenticate': { description: 'Bearer realm="rdev"', schema: { type: 'string' } },
  },
  405: { Allow: { description: 'the methods the path has', schema: { type: 'string' } } },
  429: {
    'Retry-After': {
      description: 'seconds until the key may call again',
      required: true,
      schema: { type: 'integer', minimum: 1 },
    },
  },
};

function errorResponses() {
  return Object.fromEntries(
    (Object.entries(ERROR_CODES) as unknown as [string, string][]).map(([status, code]) => {
      const headers = ERROR_HEADERS[Number(status) as ErrorStatus];
      return [
        code,
        {
          description: `${status} ${code}`,
          ...(headers ? { headers } : {}),
          content: {
            'application/json': {
              schema: { $ref: `#/components/schemas/${status === '400' ? 'InvalidRequest' : 'Error'}` },
            },
          },
        },
      ];
    }),
  );
}

export function openApiDocument(routes: Route[], version: string) {
  const schemas = new SchemaSet();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = openApiPath(r.url);
    const operations = paths[path] ?? {};
    operations[r.method.toLowerCase()] = operation(schemas, r);
    paths[path] = operations;
  }
  const shared = schemas.components();
  const doc = {
    openapi: '3.1.0',
    info: {
      title: 'rdev API',
      version,
      description:
        'The rdev shim: API-key access to Projects, Sessions, Checkouts, WorkItems and Features. Every write is a write of the custom resource; every read comes from the shim’s cache of them. A method a path does not list answers 405 (method_not_allowed) with an Allow header naming those it does. Request bodies and query strings are checked before anything is written: a field or query parameter the schema does not declare is refused with 400, as is a duplicate in an array with uniqueItems; rules JSON Schema cannot state are given as x-kubernetes-validations (CEL, as the API server checks them) or x-rdev-rules.',
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
          additionalProperties: false,
          properties: {
            requestId: { type: 'string' },
            continue: {
              type: 'string',
              description: 'on a page of a list with more to come: pass as ?continue=',
            },
          },
        },
        Error: errorSchema(
          { type: 'array', items: fieldIssue, description: 'for 422: the API server’s causes, by field' },
          ['code', 'message'],
        ),
        InvalidRequest: errorSchema(
          { type: 'array', items: fieldIssue, minItems: 1, description: 'each field at fault' },
          ['code', 'message', 'details'],
        ),
        ...shared.schemas,
      },
      responses: errorResponses(),
    },
  };
  renameRefs(doc, shared.rename);
  return doc;
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
  const schemas = new SchemaSet();
  const rows = routes.map((r) => {
    const op = operation(schemas, r);
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
