// docs/api.md: the shim's routes, from the same OpenAPI document /openapi.json serves.
import { openApiDocument } from '../../api-shim/src/http/openapi.ts';
import type { ShimContext } from '../../api-shim/src/routes/context.ts';
import { apiRoutes } from '../../api-shim/src/server.ts';

type Operation = {
  summary: string;
  tags: string[];
  'x-rdev-scopes'?: string[];
  parameters: { name: string; in: string; required: boolean; description?: string }[];
  requestBody?: {
    content: {
      'application/json': {
        schema: { properties?: Record<string, { description?: string; type?: string }>; required?: string[] };
      };
    };
  };
  responses: Record<string, unknown>;
};

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function apiReference(): string {
  // Building the route table reads nothing from the context; only handlers do.
  const doc = openApiDocument(apiRoutes({} as ShimContext), 'v1');
  const byTag = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(operations)) {
      const op = raw as Operation;
      const params = op.parameters.map((p) => `\`${p.name}\` (${p.in}${p.required ? ', required' : ''})`);
      const body = op.requestBody?.content['application/json'].schema;
      const fields = Object.keys(body?.properties ?? {}).map(
        (f) => `\`${f}\`${(body?.required ?? []).includes(f) ? ' (required)' : ''}`,
      );
      const statuses = Object.keys(op.responses);
      const ok = statuses.find((s) => s.startsWith('2')) ?? '200';
      const errors = statuses.filter((s) => Number(s) >= 400).join(', ');
      const line = `| \`${method.toUpperCase()} ${path}\` | ${(op['x-rdev-scopes'] ?? []).join(' or ')} | ${cell(op.summary)} | ${params.join(', ')} | ${fields.join(', ')} | ${ok} | ${errors} |`;
      const tag = op.tags[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), line]);
    }
  }
  const sections = [...byTag].map(
    ([tag, lines]) => `## ${tag}

| route | scope | what it does | parameters | body fields | success | errors |
|---|---|---|---|---|---|---|
${lines.join('\n')}`,
  );
  return `# REST API reference

Generated from the shim's route declarations (the same OpenAPI 3.1 document \`GET /openapi.json\`
serves) by \`make docs\`; do not edit. Field-level schemas are in that document; \`GET /docs\` on a
running shim shows them.

Authenticate with \`Authorization: Bearer rdev_…\` or \`X-API-Key: rdev_…\`. Answers are
\`{data, meta: {requestId}}\`; errors are \`{error: {code, message, details}, meta}\` with 400
(\`details\`: each field at fault), 401, 403, 404, 405 (a method the path lacks; \`Allow\` lists
those it has), 409, 413, 415, 422, 429 (\`Retry-After\`), 500, 502, 503, 504; each route lists
those it can answer.
\`/health\`, \`/ready\`, \`/metrics\`, \`/openapi.json\` and \`/docs\` need no key.

${sections.join('\n\n')}
`;
}
