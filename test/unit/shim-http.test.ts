import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { phaseEvent } from '../../api-shim/src/events/feed.ts';
import { errorResponse, HttpError } from '../../api-shim/src/http/errors.ts';
import { mergePatch } from '../../api-shim/src/http/merge-patch.ts';
import { paginate } from '../../api-shim/src/http/page.ts';
import { droppedFields, holdsSet, validate } from '../../api-shim/src/http/validate.ts';
import { appendedText } from '../../api-shim/src/routes/output.ts';
import { projectSpec } from '../../operator/src/api/v1alpha1/index.ts';
import { ApiError } from '../../operator/src/runtime/client.ts';

describe('request validation', () => {
  it('names every unknown field, however deep', () => {
    const schema = z.object({ a: z.object({ b: z.string() }), list: z.array(z.object({ c: z.number() })) });
    const input = { a: { b: 'x', extra: 1 }, list: [{ c: 1, d: 2 }], top: true };
    expect(droppedFields(input, schema.parse(input))).toEqual(['a.extra', 'list[0].d', 'top']);
    expect(() => validate(schema, input, 'body')).toThrow(
      /unknown fields: body.a.extra, body.list\[0\].d, body.top/,
    );
  });

  it('reports wrong types with the path at fault', () => {
    try {
      validate(projectSpec, { displayName: 5 }, 'body.spec');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).status).toBe(400);
      expect((err as HttpError).details).toContainEqual(
        expect.objectContaining({ path: 'body.spec.displayName' }),
      );
    }
  });

  it('refuses duplicates in the arrays the CRD makes sets, naming the repeated item', () => {
    const spec = { template: { components: ['service', 'cli', 'service'] } };
    try {
      validate(projectSpec, spec, 'body.spec');
      expect.unreachable();
    } catch (err) {
      expect((err as HttpError).status).toBe(400);
      expect((err as HttpError).details).toEqual([
        {
          path: 'body.spec.template.components[2]',
          message: 'repeats body.spec.template.components[0]: the items must be unique',
        },
      ]);
    }
    expect(validate(projectSpec, { template: { components: ['service', 'cli'] } }, 'body.spec')).toBeTruthy();
  });

  it('knows which schemas hold a set anywhere, so that the others skip the duplicate check', () => {
    expect(holdsSet(projectSpec)).toBe(true);
    expect(holdsSet(z.object({ project: z.string(), list: z.array(z.string()) }))).toBe(false);
    const deep = z.object({
      a: z.optional(z.object({ b: z.array(z.string()).meta({ uniqueItems: true }) })),
    });
    expect(holdsSet(deep)).toBe(true);
    expect(() => validate(deep, { a: { b: ['x', 'x'] } }, 'body')).toThrow(/repeats body.a.b\[0\]/);
    type Tree = { children: Tree[]; tags?: string[] };
    const tree: z.ZodType<Tree> = z.object({
      children: z.array(z.lazy(() => tree)),
      tags: z.array(z.string()).meta({ uniqueItems: true }).optional(),
    });
    expect(holdsSet(z.object({ root: tree }))).toBe(true);
  });

  it('names unknown fields even when other fields are wrong', () => {
    const schema = z.object({ name: z.string(), inner: z.object({ a: z.number() }) });
    try {
      validate(schema, { inner: { a: 1, b: 2 }, extra: true }, 'body');
      expect.unreachable();
    } catch (err) {
      const paths = ((err as HttpError).details as { path: string }[]).map((d) => d.path).sort();
      expect(paths).toEqual(['body.extra', 'body.inner.b', 'body.name']);
    }
  });

  it('accepts a valid Project spec with nothing dropped', () => {
    const spec = { displayName: 'Shop', database: { enabled: true, engine: 'postgres' } };
    expect(validate(projectSpec, spec, 'body.spec')).toMatchObject(spec);
  });
});

describe('merge patch (RFC 7396)', () => {
  it('merges objects, replaces arrays and removes nulls', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1] }, { b: { c: null, e: 4 }, l: [2], f: 'x' })).toEqual(
      {
        a: 1,
        b: { d: 3, e: 4 },
        l: [2],
        f: 'x',
      },
    );
    expect(mergePatch({ a: 1 }, 'scalar')).toBe('scalar');
  });
});

describe('error answers', () => {
  it('keep the status of what the client did wrong and hide what went wrong inside', () => {
    expect(errorResponse(new HttpError(403, 'no')).body).toEqual({
      error: { code: 'forbidden', message: 'no' },
    });
    const invalid = errorResponse(
      new ApiError(422, 'Invalid', 'Project.rdev.dev "x" is invalid', {
        causes: [{ field: 'spec.ttl', message: 'bad' }],
      }),
    );
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details).toEqual([{ path: 'spec.ttl', message: 'bad' }]);
    expect(errorResponse(new ApiError(409, 'AlreadyExists', 'exists')).status).toBe(409);
    expect(errorResponse(new ApiError(403, 'Forbidden', 'secret detail')).body.error.message).not.toContain(
      'secret',
    );
    const internal = errorResponse(new TypeError('x is undefined at /src/file.ts:10'));
    expect(internal).toMatchObject({
      status: 500,
      body: { error: { code: 'internal', message: 'internal error' } },
    });
    expect(errorResponse(Object.assign(new Error('Body is too large'), { statusCode: 413 })).status).toBe(
      413,
    );
  });
});

describe('work output streaming', () => {
  it('sends what a new tail adds, also when the window moved', () => {
    expect(appendedText('', 'hello')).toBe('hello');
    expect(appendedText('hello', 'hello world')).toBe(' world');
    expect(appendedText('abcdef', 'defghi')).toBe('ghi');
    expect(appendedText('abc', 'xyz')).toBe('xyz');
    expect(appendedText('same', 'same')).toBe('');
  });
});

describe('phase events', () => {
  const item = (phase: string | undefined, rv = '10') => ({
    metadata: { name: 'w1', namespace: 'ns', resourceVersion: rv },
    spec: { projectRef: { name: 'shop' } },
    status: phase ? { phase } : {},
  });
  const now = new Date('2026-01-01T00:00:00Z');

  it('are made on phase transitions and deletions only', () => {
    expect(phaseEvent('WorkItem', item('Queued'), item('Running', '11'), false, now)).toMatchObject({
      id: '11',
      type: 'workitem.running',
      project: 'shop',
      phase: 'Running',
      previousPhase: 'Queued',
    });
    expect(phaseEvent('WorkItem', item('Running'), item('Running', '12'), false, now)).toBeUndefined();
    expect(phaseEvent('WorkItem', undefined, item(undefined), false, now)).toBeUndefined();
    expect(phaseEvent('WorkItem', item('Succeeded'), item('Succeeded', '13'), true, now)).toMatchObject({
      type: 'workitem.deleted',
    });
    expect(
      phaseEvent(
        'Project',
        undefined,
        { metadata: { name: 'shop', namespace: 'ns' }, status: { phase: 'Ready' } },
        false,
        now,
      ),
    ).toMatchObject({
      type: 'project.ready',
      project: 'shop',
    });
  });
});

describe('paging', () => {
  const items = ['a/1', 'a/2', 'b/1', 'b/2', 'c/1'];
  const key = (s: string) => s;

  it('serves everything without a limit, and pages that chain to the end with one', () => {
    expect(paginate(items, key, {})).toEqual({ items });
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = paginate(items, key, { limit: 2, continue: token });
      seen.push(...page.items);
      token = page.next;
      pages++;
    } while (token);
    expect(seen).toEqual(items);
    expect(pages).toBe(3);
  });

  it('carries on after the last key served, even if it is gone meanwhile', () => {
    const first = paginate(items, key, { limit: 2 });
    expect(paginate(['a/1', 'b/1', 'b/2', 'c/1'], key, { limit: 2, continue: first.next })).toMatchObject({
      items: ['b/1', 'b/2'],
    });
  });

  it('refuses a token it did not give', () => {
    expect(() => paginate(items, key, { continue: '!!' })).toThrow(/query.continue/);
    expect(() => paginate(items, key, { continue: '' })).toThrow(/query.continue/);
  });
});
