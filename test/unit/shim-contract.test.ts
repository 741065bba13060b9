// The OpenAPI document is a contract: this walks every path and method /openapi.json lists and
// sends the real server (with a fake cluster behind it) the requests that should draw each
// error the operation declares: no key, a key without the scope, an unknown name, a bad body, a
// bad query, a body that is not JSON, a body too large, one call over the rate limit. Every
// answer's status must be declared for the operation, its media type must be the declared one,
// and a JSON answer must match the declared schema; streams' events must match x-events.
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../api-shim/src/keys/api-key.ts';
import type { ShimContext } from '../../api-shim/src/routes/context.ts';
import { buildServer, type ServerOptions } from '../../api-shim/src/server.ts';
import { parseFeature, parseWorkItem } from '../../operator/src/api/v1alpha1/index.ts';
import { ApiError, type Resource } from '../../operator/src/runtime/client.ts';

type Json = Record<string, unknown>;
type Operation = {
  parameters: { name: string; in: string; schema: Json }[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, Json>;
  security: unknown[];
};

const ADMIN = 'rdev_contract_admin';
const POWERLESS = 'rdev_contract_powerless';
const key = (id: string, presented: string, scopes: string[]) => ({
  id,
  name: id,
  hash: hashKey(presented),
  scopes,
  namespaces: [],
  projects: [],
  cidrs: [],
});
const keys = [key('admin', ADMIN, ['admin']), key('powerless', POWERLESS, [])];

/** A WorkItem that finished: its log stream sends what it has and ends. */
const done = parseWorkItem({
  apiVersion: 'rdev.dev/v1alpha1',
  kind: 'WorkItem',
  metadata: { name: 'done', namespace: 'default', uid: 'u1', resourceVersion: '7' },
  spec: { projectRef: { name: 'shop' }, type: 'shell', command: ['true'] },
  status: { phase: 'Succeeded', exitCode: 0, outputTail: 'all good\n' },
});
/** A Feature whose spec is written (at SPEC_SHA) and whose design is not: decisions are made on it. */
const SPEC_SHA = 'a'.repeat(40);
const STALE_SHA = 'b'.repeat(40);
const feature = {
  apiVersion: 'rdev.dev/v1alpha1',
  kind: 'Feature',
  metadata: { name: 'login', namespace: 'default', uid: 'u2', resourceVersion: '9' },
  spec: { projectRef: { name: 'shop' }, title: 'Log in' },
  status: {
    phase: 'specified',
    artifacts: [
      { type: 'spec', status: 'draft', path: 'features/login/spec.md', digest: SPEC_SHA },
      { type: 'design', status: 'missing', path: 'features/login/design.md' },
    ],
  },
};
const featureEvent = {
  id: '6',
  type: 'feature.specified',
  kind: 'Feature',
  namespace: 'default',
  name: 'login',
  project: 'shop',
  phase: 'specified',
  previousPhase: 'draft',
  at: new Date().toISOString(),
};
const phaseEvent = {
  id: '7',
  type: 'workitem.succeeded',
  kind: 'WorkItem',
  namespace: 'default',
  name: 'done',
  project: 'shop',
  phase: 'Succeeded',
  previousPhase: 'Running',
  at: new Date().toISOString(),
};

const store = (items: { metadata: { namespace?: string; name: string } }[] = []) => ({
  store: {
    get: (k: string) => items.find((o) => `${o.metadata.namespace}/${o.metadata.name}` === k),
    list: () => items,
  },
});
const missing = async () => {
  throw new ApiError(404, 'NotFound', 'not found');
};
/** Only the Feature `login` exists in the API server (decisions read it there, not from the cache). */
const isLogin = (r: Resource, name: string) => r.plural === 'features' && name === 'login';
const context = {
  config: {
    namespace: 'rdev-system',
    namespaces: [],
    defaultNamespace: 'default',
    workerNamespace: 'rdev-workers',
  },
  keys: {
    find: (presented: string) => keys.find((k) => k.hash === hashKey(presented)),
    get: () => undefined,
    list: () => [],
    standing: () => true,
    madeBy: () => false,
    descendants: () => [],
  },
  cache: {
    synced: false,
    kinds: {
      Project: store(),
      Session: store(),
      Checkout: store(),
      WorkItem: store([done]),
      Feature: store([parseFeature(structuredClone(feature))]),
    },
    webhooks: store(),
    leases: store(),
  },
  client: {
    get: async (r: Resource, _namespace: string, name: string) =>
      isLogin(r, name) ? structuredClone(feature) : missing(),
    delete: missing,
    // A decision's write: the Feature with the spec fields it sets (the Feature itself is kept as is).
    patch: async (r: Resource, _namespace: string, name: string, body: { spec?: object }) =>
      isLogin(r, name) ? { ...structuredClone(feature), spec: { ...feature.spec, ...body.spec } } : missing(),
    create: async () => {
      throw new ApiError(409, 'AlreadyExists', 'already exists');
    },
  },
  feed: { onPhase: () => () => {}, onChange: () => () => {}, since: () => [featureEvent, phaseEvent] },
  pool: { alive: () => [] },
} as unknown as ShimContext;

const BODY_LIMIT = 16 * 1024;
const options = (rate: number, burst: number): ServerOptions => ({
  log: pino({ level: 'silent' }),
  version: 'contract',
  rateLimit: rate,
  rateBurst: burst,
  bodyLimit: BODY_LIMIT,
  trustProxy: false,
});
const app = buildServer(context, options(1_000_000, 1_000_000));
// One token and no refill: every call after the first is over the limit.
const limited = buildServer(context, options(1e-9, 1));
afterAll(async () => {
  await app.close();
  await limited.close();
});

let doc: Json;
let ajv: Ajv2020;
const operations: { path: string; method: string; op: Operation }[] = [];
beforeAll(async () => {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  doc = res.json();
  ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(doc, 'openapi');
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, op] of Object.entries(ops)) operations.push({ path, method, op });
  }
});

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The object a local $ref names. */
function resolve(node: Json): Json {
  let at: unknown = node;
  while (typeof at === 'object' && at !== null && typeof (at as Json).$ref === 'string') {
    const parts = ((at as Json).$ref as string).replace(/^#\//, '').split('/');
    at = parts.reduce<unknown>((n, p) => (n as Json)[p.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return at as Json;
}

/** Whether `data` matches the schema at `where` (a JSON pointer into the document). */
function matches(where: string, data: unknown): string | undefined {
  const validate = ajv.getSchema(`openapi#${where}`);
  if (!validate) return `no schema at ${where}`;
  return validate(data) ? undefined : ajv.errorsText(validate.errors);
}

type Answer = { statusCode: number; headers: Record<string, unknown>; body: string };

/** Checks an answer against the operation's declared responses; returns the problems. */
function conforms(path: string, method: string, op: Operation, res: Answer): string[] {
  const status = String(res.statusCode);
  const declared = op.responses[status];
  if (!declared) return [`${status} is not declared (${res.body.slice(0, 200)})`];
  const response = resolve(declared);
  const where =
    typeof declared.$ref === 'string'
      ? (declared.$ref as string).slice(1)
      : `/${pointer('paths', path, method, 'responses', status)}`;
  const type = String(res.headers['content-type'] ?? '').split(';')[0] ?? '';
  const content = (response.content ?? {}) as Record<string, unknown>;
  if (!(type in content)) return [`${status} answered ${type}; declared ${Object.keys(content).join(', ')}`];
  const problems: string[] = [];
  for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
    if (header.required && res.headers[name.toLowerCase()] === undefined) {
      problems.push(`${status} lacks the header ${name}`);
    }
  }
  if (type === 'application/json') {
    const mismatch = matches(`${where}/${pointer('content', type, 'schema')}`, JSON.parse(res.body));
    if (mismatch) problems.push(`${status} body does not match: ${mismatch}`);
  }
  return problems;
}

const NAMES = ['nothing-here', 'nothinghere', 'nothinghere1'];
/** A valid name for a path parameter that names nothing. */
function unknownName(schema: Json): string {
  const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern) : undefined;
  return NAMES.find((n) => !pattern || pattern.test(n)) ?? 'x';
}

const url = (path: string, op: Operation, query = '') =>
  path.replace(/\{(\w+)\}/g, (_, name: string) =>
    unknownName(op.parameters.find((p) => p.name === name && p.in === 'path')?.schema ?? {}),
  ) + query;

// The last: a git blob SHA (a Feature decision's digest; not the current one).
const STRINGS = ['x', 'sample-name', '1h', 'abcdefghijklmnopqrstuvwxyz', '*', STALE_SHA];
/** The least body a schema accepts, as far as JSON Schema says (rules aside). */
function sample(node: Json): unknown {
  const schema = resolve(node);
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Json>;
      const required = (schema.required ?? []) as string[];
      return Object.fromEntries(required.map((k) => [k, sample(properties[k] ?? {})]));
    }
    case 'array':
      return Array.from({ length: Number(schema.minItems ?? 0) }, () => sample((schema.items ?? {}) as Json));
    case 'string': {
      if (schema.format === 'date-time') return new Date(Date.now() + 3_600_000).toISOString();
      if (schema.format === 'uri') return 'https://example.com/hook';
      const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern) : undefined;
      return (
        STRINGS.find((s) => (!pattern || pattern.test(s)) && s.length >= Number(schema.minLength ?? 0)) ?? 'x'
      );
    }
    case 'integer':
    case 'number':
      return Number(schema.minimum ?? 1);
    case 'boolean':
      return false;
    default:
      return {};
  }
}

const bodySchema = (op: Operation) => op.requestBody?.content['application/json']?.schema;
const secured = (op: Operation) => op.security.length > 0;
const hasParams = (op: Operation) => op.parameters.some((p) => p.in === 'path');

interface Probe {
  what: string;
  key?: string;
  query?: string;
  payload?: string;
  contentType?: string;
  /** The status it must draw; undefined: any declared one. */
  expect?: number;
  /** A field the 400 must name. */
  names?: string;
}

function probes(op: Operation): Probe[] {
  const schema = bodySchema(op);
  const body = schema ? JSON.stringify(sample(schema)) : undefined;
  const json = (payload: string | undefined) =>
    payload === undefined ? {} : { payload, contentType: 'application/json' };
  const list: Probe[] = [];
  if (secured(op)) {
    list.push({ what: 'no key', ...json(body), expect: 401 });
    list.push({ what: 'a key without the scope', key: POWERLESS, ...json(body), expect: 403 });
  }
  const key = secured(op) ? ADMIN : undefined;
  if (hasParams(op)) {
    // A body the rules refuse (beyond what JSON Schema says) is a 400 before the name is looked up.
    list.push({ what: 'an unknown name', key, ...json(body), expect: schema ? undefined : 404 });
  } else {
    list.push({ what: 'a plain call', key, ...json(body) });
  }
  if (op.parameters.some((p) => p.in === 'query')) {
    list.push({
      what: 'an undeclared query parameter',
      key,
      query: '?bogus=1',
      ...json(body),
      expect: 400,
      names: 'query.bogus',
    });
  }
  for (const p of op.parameters.filter((q) => q.in === 'query')) {
    const s = resolve(p.schema);
    const bad =
      s.type === 'integer' || s.type === 'number'
        ? 'NaN-ish'
        : typeof s.maxLength === 'number'
          ? 'x'.repeat(s.maxLength + 1)
          : undefined;
    if (bad === undefined) continue;
    list.push({
      what: `a bad ?${p.name}`,
      key,
      query: `?${p.name}=${bad}`,
      ...json(body),
      expect: 400,
      names: `query.${p.name}`,
    });
  }
  if (schema) {
    list.push({
      what: 'an unknown body field',
      key,
      ...json(JSON.stringify({ ...(sample(schema) as Json), bogus: 1 })),
      expect: 400,
      names: 'body.bogus',
    });
    const [field] = Object.keys((resolve(schema).properties ?? {}) as Json);
    if (field) {
      list.push({
        what: `a wrong type for body.${field}`,
        key,
        ...json(JSON.stringify({ ...(sample(schema) as Json), [field]: [[[]]] })),
        expect: 400,
        names: `body.${field}`,
      });
    }
    list.push({ what: 'malformed JSON', key, ...json('{"x": '), expect: 400, names: 'body' });
    list.push({
      what: 'a body that is not JSON',
      key,
      payload: 'x=1',
      contentType: 'text/plain',
      expect: 415,
    });
    list.push({
      what: 'a body too large',
      key,
      ...json(JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT) })),
      expect: 413,
    });
  }
  return list;
}

// A stream that ends (a finished item's logs) or that the test reads the start of (/events).
const STREAMS = new Set(['/work/{id}/logs', '/events', '/sessions/{id}/exec']);

describe('the OpenAPI document as a contract', () => {
  it('answers every probe of every operation with a declared status, media type and schema', async () => {
    expect(operations.length).toBeGreaterThan(30);
    const problems: string[] = [];
    const drawn = new Map<string, Set<number>>();
    for (const { path, method, op } of operations) {
      for (const probe of probes(op)) {
        // A successful stream never ends: those are read below.
        if (STREAMS.has(path) && probe.key === ADMIN && probe.expect === undefined && !hasParams(op))
          continue;
        const res = await app.inject({
          method: method.toUpperCase() as 'GET',
          url: url(path, op, probe.query),
          headers: {
            ...(probe.key ? { authorization: `Bearer ${probe.key}` } : {}),
            ...(probe.contentType ? { 'content-type': probe.contentType } : {}),
          },
          ...(probe.payload === undefined ? {} : { payload: probe.payload }),
        });
        const label = `${method.toUpperCase()} ${path} (${probe.what})`;
        problems.push(...conforms(path, method, op, res).map((p) => `${label}: ${p}`));
        if (probe.expect !== undefined && res.statusCode !== probe.expect) {
          problems.push(
            `${label}: answered ${res.statusCode}, not ${probe.expect}: ${res.body.slice(0, 200)}`,
          );
        }
        if (probe.names && res.statusCode === 400) {
          const details = (res.json() as { error: { details?: { path: string }[] } }).error.details ?? [];
          const named = (path: string) =>
            path === probe.names || path.startsWith(`${probe.names}.`) || path.startsWith(`${probe.names}[`);
          if (!details.some((d) => named(d.path))) {
            problems.push(`${label}: the 400 does not name ${probe.names}: ${JSON.stringify(details)}`);
          }
        }
        const seen = drawn.get(`${method} ${path}`) ?? new Set();
        drawn.set(`${method} ${path}`, seen.add(res.statusCode));
      }
    }
    expect(problems).toEqual([]);
    // The probes reach what they aim at: a 404 for every operation on a name.
    const noNotFound = operations
      .filter(({ op, method, path }) => hasParams(op) && !drawn.get(`${method} ${path}`)?.has(404))
      .map(({ method, path }) => `${method} ${path}`);
    expect(noNotFound).toEqual(['post /projects/{project}/work']);
  });

  it('answers over the rate limit with a declared 429 and Retry-After', async () => {
    const problems: string[] = [];
    await limited.inject({ method: 'GET', url: '/keys', headers: { authorization: `Bearer ${ADMIN}` } });
    for (const { path, method, op } of operations.filter((o) => secured(o.op))) {
      const schema = bodySchema(op);
      const res = await limited.inject({
        method: method.toUpperCase() as 'GET',
        url: url(path, op),
        headers: {
          authorization: `Bearer ${ADMIN}`,
          ...(schema ? { 'content-type': 'application/json' } : {}),
        },
        ...(schema ? { payload: JSON.stringify(sample(schema)) } : {}),
      });
      if (res.statusCode !== 429) problems.push(`${method} ${path}: ${res.statusCode}, not 429`);
      problems.push(...conforms(path, method, op, res).map((p) => `${method} ${path}: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  it('declares what a decision on a Feature answers: the Feature, or 409 when it is not on the current digest', async () => {
    const decisions: [string, object, number][] = [
      ['approve', { artifact: 'spec', digest: SPEC_SHA }, 200],
      ['reject', { artifact: 'spec', digest: SPEC_SHA, reason: 'too vague' }, 200],
      ['approve', { artifact: 'spec', digest: STALE_SHA }, 409],
      ['reject', { artifact: 'design', digest: SPEC_SHA }, 409],
      ['waive', { artifact: 'design', reason: 'a small change' }, 200],
      ['approve', { artifact: 'spec', digest: SPEC_SHA, by: 'someone else' }, 400],
      ['waive', { artifact: 'design' }, 400],
    ];
    const problems: string[] = [];
    for (const [verb, payload, status] of decisions) {
      const path = `/features/{id}/${verb}`;
      const op = operations.find((o) => o.path === path && o.method === 'post')?.op;
      if (!op) throw new Error(`${path} is not in the document`);
      const res = await app.inject({
        method: 'POST',
        url: `/features/login/${verb}`,
        headers: { authorization: `Bearer ${ADMIN}` },
        payload,
      });
      const label = `${verb} ${JSON.stringify(payload)}`;
      if (res.statusCode !== status) problems.push(`${label}: answered ${res.statusCode}, not ${status}`);
      problems.push(...conforms(path, 'post', op, res).map((p) => `${label}: ${p}`));
    }
    // A Feature as read, status and all, matches the Feature component.
    const read = await app.inject({
      method: 'GET',
      url: '/features/login',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const op = operations.find((o) => o.path === '/features/{id}' && o.method === 'get')?.op as Operation;
    expect(read.statusCode).toBe(200);
    problems.push(...conforms('/features/{id}', 'get', op, read));
    expect(problems).toEqual([]);
  });

  it('declares the media types of the public routes', async () => {
    const types: Record<string, string> = {};
    for (const path of ['/health', '/ready', '/metrics', '/openapi.json', '/docs']) {
      const op = operations.find((o) => o.path === path && o.method === 'get');
      if (!op) throw new Error(`${path} is not in the document`);
      const res = await app.inject({ method: 'GET', url: path });
      expect(conforms(path, 'get', op.op, res), path).toEqual([]);
      types[path] = String(res.headers['content-type']).split(';')[0] ?? '';
    }
    expect(types).toEqual({
      '/health': 'application/json',
      '/ready': 'application/json',
      '/metrics': 'text/plain',
      '/openapi.json': 'application/json',
      '/docs': 'text/html',
    });
  });

  /** The events of an SSE body, each checked against the operation's x-events. */
  function checkEvents(path: string, method: string, text: string): { names: string[]; problems: string[] } {
    const where = pointer(
      'paths',
      path,
      method,
      'responses',
      '200',
      'content',
      'text/event-stream',
      'x-events',
    );
    const declared = Object.keys(resolve({ $ref: `#/${where}` }));
    const names: string[] = [];
    const problems: string[] = [];
    for (const block of text.split('\n\n')) {
      const name = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!name || data === undefined) continue;
      names.push(name);
      const family = declared.find(
        (d) =>
          d === name || new RegExp(`^${d.replace(/\./g, '\\.').replace(/<[^>]+>/g, '[^.]+')}$`).test(name),
      );
      if (!family) {
        problems.push(`${path}: event ${name} is not declared`);
        continue;
      }
      const mismatch = matches(`/${where}/${pointer(family, 'data')}`, JSON.parse(data));
      if (mismatch) problems.push(`${path}: event ${name}: ${mismatch}`);
    }
    return { names, problems };
  }

  it('sends the events a stream declares', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/work/done/logs',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const op = operations.find((o) => o.path === '/work/{id}/logs')?.op as Operation;
    expect(conforms('/work/{id}/logs', 'get', op, res)).toEqual([]);
    const logs = checkEvents('/work/{id}/logs', 'get', res.body);
    expect(logs.problems).toEqual([]);
    expect(logs.names).toEqual(['output', 'phase', 'end']);

    // /events does not end: read its first events over a real connection.
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const abort = new AbortController();
    const answer = await fetch(`http://127.0.0.1:${port}/events?lastEventId=1`, {
      headers: { authorization: `Bearer ${ADMIN}` },
      signal: abort.signal,
    });
    const reader = answer.body?.getReader();
    let text = '';
    while (reader && !text.includes('workitem.succeeded')) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    const eventsOp = operations.find((o) => o.path === '/events')?.op as Operation;
    expect(eventsOp.responses['200']).toBeDefined();
    expect(answer.headers.get('content-type')?.split(';')[0]).toBe('text/event-stream');
    const events = checkEvents('/events', 'get', text);
    expect(events.problems).toEqual([]);
    expect(events.names).toEqual(['feature.specified', 'workitem.succeeded']);
  });
});
