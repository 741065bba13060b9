import { describe, expect, it } from 'vitest';
import { docsPage, openApiDocument } from '../../api-shim/src/http/openapi.ts';
import type { ShimContext } from '../../api-shim/src/routes/context.ts';
import { apiRoutes } from '../../api-shim/src/server.ts';

// Building the route table reads nothing from the context; only handlers do.
const routes = apiRoutes({} as ShimContext);
const doc = openApiDocument(routes, '1.2.3');

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every route once, with its scopes', () => {
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op: op as Record<string, unknown> })),
    );
    expect(operations).toHaveLength(routes.length);
    for (const { path, op } of operations) {
      expect(path).not.toContain(':');
      expect(op['x-rdev-scopes'], path).toEqual(expect.arrayContaining([expect.any(String)]));
      expect(op.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    }
    const ids = operations.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('covers the routes the API promises', () => {
    const methods = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
    expect(methods('/projects')).toEqual(['get', 'post']);
    expect(methods('/projects/{project}')).toEqual(['delete', 'get', 'patch']);
    expect(methods('/projects/{project}/sessions')).toEqual(['get', 'post']);
    expect(methods('/sessions/{id}/exec')).toEqual(['post']);
    expect(methods('/projects/{project}/checkouts')).toEqual(['get', 'post']);
    expect(methods('/checkouts/{id}/checkin')).toEqual(['post']);
    expect(methods('/projects/{project}/work')).toEqual(['get', 'post']);
    expect(methods('/work/{id}')).toEqual(['delete', 'get']);
    expect(methods('/work/{id}/cancel')).toEqual(['post']);
    expect(methods('/work/{id}/logs')).toEqual(['get']);
    expect(methods('/projects/{project}/features')).toEqual(['get', 'post']);
    expect(methods('/features/{id}')).toEqual(['delete', 'get']);
    expect(methods('/features/{id}/approve')).toEqual(['post']);
    expect(methods('/features/{id}/reject')).toEqual(['post']);
    expect(methods('/features/{id}/waive')).toEqual(['post']);
    expect(methods('/queue')).toEqual(['get']);
    expect(methods('/workers/pool')).toEqual(['get']);
    expect(methods('/events')).toEqual(['get']);
    expect(methods('/keys')).toEqual(['get', 'post']);
    expect(methods('/webhooks')).toEqual(['get', 'post']);
  });

  it('describes request bodies from the zod schemas, streams as text/event-stream', () => {
    const post = doc.paths['/projects']?.post as {
      requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } };
    };
    const body = post.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['name', 'spec']));
    const exec = doc.paths['/sessions/{id}/exec']?.post as { responses: Record<string, { content: object }> };
    expect(Object.keys(exec.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
  });

  it('documents the decision bodies with the CRD’s artifact types and git SHA pattern', () => {
    const approve = doc.paths['/features/{id}/approve']?.post as {
      'x-rdev-scopes': string[];
      requestBody: {
        content: {
          'application/json': {
            schema: { required: string[]; properties: Record<string, { enum?: string[]; pattern?: string }> };
          };
        };
      };
    };
    expect(approve['x-rdev-scopes']).toEqual(['features:write']);
    const body = approve.requestBody.content['application/json'].schema;
    expect(body.required.sort()).toEqual(['artifact', 'digest']);
    expect(body.properties.artifact?.enum).toContain('qa_plan');
    expect(body.properties.digest?.pattern).toBe('^[0-9a-f]{40}([0-9a-f]{24})?$');
    expect(approve.requestBody.content['application/json'].schema).toMatchObject({
      additionalProperties: false,
    });
    const read = doc.paths['/features/{id}']?.get as { 'x-rdev-scopes': string[] };
    expect(read['x-rdev-scopes']).toEqual(['features:read']);
  });

  it('declares the 409 of a decision, and refuses decisions in a create', () => {
    for (const verb of ['approve', 'reject', 'waive']) {
      const op = doc.paths[`/features/{id}/${verb}`]?.post as { responses: Record<string, unknown> };
      expect(Object.keys(op.responses), verb).toEqual(expect.arrayContaining(['200', '400', '404', '409']));
    }
    const create = doc.paths['/projects/{project}/features']?.post as {
      requestBody: {
        content: {
          'application/json': {
            schema: { properties: { spec: { required: string[]; properties: Record<string, unknown> } } };
          };
        };
      };
    };
    const spec = create.requestBody.content['application/json'].schema.properties.spec;
    expect(spec.required).toEqual(['title']);
    for (const field of ['projectRef', 'approvals', 'rejections', 'waivers']) {
      expect(spec.properties[field], field).toMatchObject({ not: {} });
    }
  });

  it('is as strict as the validation: closed objects, sets, rules, shared components', () => {
    const text = JSON.stringify(doc);
    const schemas = doc.components.schemas as Record<string, Record<string, unknown>>;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'Project',
        'ProjectSpec',
        'ProjectSpecInput',
        'WorkItem',
        'WorkItemStatus',
        'Feature',
        'FeatureSpec',
        'FeatureStatus',
      ]),
    );
    const spec = schemas.ProjectSpecInput as {
      additionalProperties: unknown;
      properties: { template: { properties: { components: Record<string, unknown> } } };
    };
    expect(spec.additionalProperties).toBe(false);
    expect(spec.properties.template.properties.components).toMatchObject({
      type: 'array',
      uniqueItems: true,
    });
    expect(text).toContain('an agent WorkItem needs a prompt');
    expect(text).toContain('"x-rdev-rules":["not a CIDR"]');
    // Each kind's schema is written once and referred to.
    expect(text.split('"#/components/schemas/WorkItem"').length - 1).toBeGreaterThan(3);
    expect(text.split('"#/components/schemas/Feature"').length - 1).toBeGreaterThan(5);
    // Five kinds, each written once (about 164,000 bytes).
    expect(text.length).toBeLessThan(190_000);
  });

  it('declares what every route answers', () => {
    const get = doc.paths['/work/{id}']?.get as { responses: Record<string, unknown> };
    expect(Object.keys(get.responses).sort()).toEqual(['200', '400', '401', '403', '404', '429', '500']);
    const post = doc.paths['/projects']?.post as { responses: Record<string, unknown> };
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '413', '415', '409', '422']));
    const logs = doc.paths['/work/{id}/logs']?.get as {
      responses: { '200': { content: { 'text/event-stream': { 'x-events': Record<string, unknown> } } } };
    };
    expect(Object.keys(logs.responses['200'].content['text/event-stream']['x-events'])).toEqual([
      'output',
      'phase',
      'end',
    ]);
  });

  it('has a web page that escapes what it shows', () => {
    const html = docsPage(routes, '<v>');
    expect(html).toContain('/projects/{project}/work');
    expect(html).toContain('&lt;v&gt;');
    expect(html).not.toContain('<v>');
  });
});
