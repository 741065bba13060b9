// The Cloudflare fake's own contract, driven by the real `cloudflare` SDK (what the provider uses)
// and by plain fetch where the wire format itself is the point.
import Cloudflare, {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from 'cloudflare';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCloudflare } from '../../fakes/cloudflare.ts';

let fake: FakeCloudflare;
let cf: Cloudflare;
let zone_id: string;

beforeEach(async () => {
  fake = await FakeCloudflare.start();
  cf = new Cloudflare({ apiToken: fake.token, baseURL: fake.url, maxRetries: 0, timeout: 2_000 });
  zone_id = fake.zone().id;
});
afterEach(() => fake.close());

/** The raw envelope of a request. */
async function raw(path: string, init: RequestInit & { token?: string | null } = {}) {
  const { token = fake.token, ...rest } = init;
  const response = await fetch(`${fake.url}${path}`, {
    ...rest,
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** The first Cloudflare error code of a failed SDK call. */
async function codeOf(promise: Promise<unknown>): Promise<{ error: unknown; code: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    return { error, code: (error as { errors?: { code?: number }[] }).errors?.[0]?.code };
  }
  throw new Error('expected the call to fail');
}

const cname = (name: string, content = 'ingress.example.net') => ({
  zone_id,
  type: 'CNAME' as const,
  name,
  content,
  ttl: 1 as const,
});

describe('Cloudflare fake: records', () => {
  it('creates, reads, lists, edits, replaces and deletes records in the v4 envelope', async () => {
    const created = await cf.dns.records.create({
      ...cname('Shop.example.dev'),
      proxied: true,
      comment: 'mine',
    });
    expect(created).toMatchObject({
      name: 'shop.example.dev',
      type: 'CNAME',
      content: 'ingress.example.net',
      proxied: true,
      proxiable: true,
      ttl: 1,
      comment: 'mine',
    });
    expect(created.id).toMatch(/^[0-9a-f]{32}$/);
    expect(await cf.dns.records.get(created.id, { zone_id })).toMatchObject({ id: created.id });

    const envelope = await raw(`/zones/${zone_id}/dns_records/${created.id}`);
    expect(envelope.body).toMatchObject({
      success: true,
      errors: [],
      messages: [],
      result: { id: created.id },
    });

    const edited = await cf.dns.records.edit(created.id, {
      zone_id,
      type: 'CNAME',
      name: 'shop.example.dev',
      ttl: 1,
      content: 'other.example.net',
    });
    expect(edited).toMatchObject({ content: 'other.example.net', comment: 'mine', proxied: true });
    const replaced = await cf.dns.records.update(created.id, {
      zone_id,
      type: 'A',
      name: 'shop.example.dev',
      ttl: 300,
      content: '192.0.2.1',
    });
    expect(replaced).toMatchObject({
      type: 'A',
      content: '192.0.2.1',
      ttl: 300,
      comment: null,
      proxied: false,
    });

    expect(await cf.dns.records.delete(created.id, { zone_id })).toEqual({ id: created.id });
    const missing = await codeOf(cf.dns.records.get(created.id, { zone_id }));
    expect(missing.error).toBeInstanceOf(NotFoundError);
    expect(missing.code).toBe(81044);
    expect((await codeOf(cf.dns.records.delete(created.id, { zone_id }))).code).toBe(81044);
  });

  it('pages with result_info and answers [] past the last page, as the SDK auto-pagination expects', async () => {
    for (let i = 0; i < 12; i++)
      fake.seed({ type: 'A', name: `h${String(i).padStart(2, '0')}.example.dev`, content: '192.0.2.1' });
    const names: string[] = [];
    for await (const r of cf.dns.records.list({ zone_id, per_page: 5 })) names.push(r.name);
    expect(names).toHaveLength(12);
    expect(new Set(names).size).toBe(12);
    // pages 1, 2, 3 hold 5 + 5 + 2; the SDK stops at the empty page 4
    expect(fake.requests.map((r) => r.query.page?.[0] ?? '1')).toEqual(['1', '2', '3', '4']);

    const third = await raw(`/zones/${zone_id}/dns_records?per_page=5&page=3`);
    expect(third.body.result).toHaveLength(2);
    expect(third.body.result_info).toEqual({
      page: 3,
      per_page: 5,
      count: 2,
      total_count: 12,
      total_pages: 3,
    });
    const past = await raw(`/zones/${zone_id}/dns_records?per_page=5&page=9`);
    expect(past.body.result).toEqual([]);
    expect((await raw(`/zones/${zone_id}/dns_records?per_page=2`)).status).toBe(400);
  });

  it('filters by name, name.exact, type, content and comment, all or any', async () => {
    fake.seed({ type: 'CNAME', name: 'a.example.dev', content: 'x.example.net', comment: 'rdev:team/a' });
    fake.seed({ type: 'TXT', name: 'a.example.dev', content: 'hello' });
    fake.seed({ type: 'A', name: 'b.example.dev', content: '192.0.2.7', comment: 'rdev:team/b' });
    const list = async (params: Omit<Parameters<typeof cf.dns.records.list>[0], 'zone_id'>) => {
      const out: string[] = [];
      for await (const r of cf.dns.records.list({ zone_id, ...params })) out.push(`${r.type} ${r.name}`);
      return out;
    };
    expect(await list({ name: { exact: 'a.example.dev' } })).toEqual([
      'CNAME a.example.dev',
      'TXT a.example.dev',
    ]);
    expect(await list({ name: { exact: 'a.example.dev' }, type: 'TXT' })).toEqual(['TXT a.example.dev']);
    expect(await list({ content: { exact: '192.0.2.7' } })).toEqual(['A b.example.dev']);
    expect(await list({ comment: { exact: 'rdev:team/b' } })).toEqual(['A b.example.dev']);
    expect(await list({ comment: { startswith: 'rdev:' } })).toHaveLength(2);
    expect(await list({ comment: { absent: '' } })).toEqual(['TXT a.example.dev']);
    expect(await list({ name: { endswith: 'b.example.dev' }, type: 'TXT', match: 'any' })).toHaveLength(2);
    expect((await raw(`/zones/${zone_id}/dns_records?name=b.example.dev`)).body.result).toHaveLength(1);
  });
});

describe('Cloudflare fake: errors', () => {
  it('refuses duplicates and name clashes with codes 81057, 81053 and 81054', async () => {
    await cf.dns.records.create(cname('dup.example.dev'));
    const identical = await codeOf(cf.dns.records.create(cname('dup.example.dev')));
    expect(identical.error).toBeInstanceOf(BadRequestError);
    expect(identical.code).toBe(81057);
    expect((await codeOf(cf.dns.records.create(cname('dup.example.dev', 'other.example.net')))).code).toBe(
      81053,
    );
    const a = { zone_id, type: 'A' as const, name: 'dup.example.dev', content: '192.0.2.1', ttl: 1 as const };
    expect((await codeOf(cf.dns.records.create(a))).code).toBe(81054);
    // TXT records share a name with anything
    await cf.dns.records.create({ zone_id, type: 'TXT', name: 'dup.example.dev', content: 'v=1', ttl: 1 });
  });

  it('validates bodies as Cloudflare does', async () => {
    const post = (body: unknown) =>
      raw(`/zones/${zone_id}/dns_records`, {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const code = async (body: unknown) => ((await post(body)).body.errors as { code: number }[])[0]?.code;
    const ok = { type: 'A', name: 'v.example.dev', content: '192.0.2.1' };
    expect(await code({ ...ok, type: 'SPF' })).toBe(9008);
    expect(await code({ ...ok, name: 'v.elsewhere.net' })).toBe(9000);
    expect(await code({ ...ok, content: 'not-an-ip' })).toBe(9005);
    expect(await code({ ...ok, ttl: 30 })).toBe(9021);
    expect(await code({ ...ok, ttl: 90_000 })).toBe(9021);
    expect(await code({ ...ok, proxied: 'yes' })).toBe(9003);
    expect(await code({ type: 'TXT', name: 't.example.dev', content: 'x', proxied: true })).toBe(9004);
    expect(await code({ ...ok, comment: 'c'.repeat(101) })).toBe(9102);
    expect(await code('{not json')).toBe(9207);
    expect(await code({ type: 'CNAME', name: 'self.example.dev', content: 'self.example.dev' })).toBe(9039);
    const created = await post({ ...ok, ttl: 120, comment: 'c'.repeat(100) });
    expect(created.status).toBe(200);
    expect(created.body.result).toMatchObject({ ttl: 120, name: 'v.example.dev' });
    expect((await post({ ...ok, name: '@', content: '192.0.2.9' })).body.result).toMatchObject({
      name: 'example.dev',
    });
  });

  it('answers 401 without or with a wrong token, 403 outside the token scope, 404 for an unknown zone', async () => {
    const none = await raw(`/zones/${zone_id}/dns_records`, { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ success: false, errors: [{ code: 10001 }], result: null });
    const wrong = new Cloudflare({ apiToken: 'nope', baseURL: fake.url, maxRetries: 0 });
    await expect(wrong.dns.records.get('x', { zone_id })).rejects.toBeInstanceOf(AuthenticationError);

    fake.addToken('other-zone', { zones: ['0'.repeat(32)] });
    fake.addToken('reader', { readOnly: true });
    const other = new Cloudflare({ apiToken: 'other-zone', baseURL: fake.url, maxRetries: 0 });
    const denied = await codeOf(other.dns.records.create(cname('x.example.dev')));
    expect(denied.error).toBeInstanceOf(PermissionDeniedError);
    expect(denied.code).toBe(10000);
    const reader = new Cloudflare({ apiToken: 'reader', baseURL: fake.url, maxRetries: 0 });
    for await (const _ of reader.dns.records.list({ zone_id })) break;
    await expect(reader.dns.records.create(cname('x.example.dev'))).rejects.toBeInstanceOf(
      PermissionDeniedError,
    );

    const unknown = await codeOf(
      cf.dns.records.create({ ...cname('x.example.dev'), zone_id: 'f'.repeat(32) }),
    );
    expect(unknown.error).toBeInstanceOf(NotFoundError);
    expect(unknown.code).toBe(7003);
  });
});

describe('Cloudflare fake: fault injection', () => {
  it('fails the next N matching requests with a status, then serves normally', async () => {
    fake.faults.next(2, { status: 500 }, { method: 'POST' });
    await expect(cf.dns.records.create(cname('f.example.dev'))).rejects.toBeInstanceOf(InternalServerError);
    for await (const _ of cf.dns.records.list({ zone_id })) break; // a GET does not match
    await expect(cf.dns.records.create(cname('f.example.dev'))).rejects.toBeInstanceOf(InternalServerError);
    await cf.dns.records.create(cname('f.example.dev'));
    expect(fake.records()).toHaveLength(1);
    expect(fake.requests.map((r) => `${r.method} ${r.status} ${r.fault ?? '-'} ${r.applied}`)).toEqual([
      'POST 500 status false',
      'GET 200 - true',
      'POST 500 status false',
      'POST 200 - true',
    ]);
  });

  it('answers 429 with Retry-After, and 409, in the envelope', async () => {
    fake.faults.next(1, { status: 429, retryAfterSeconds: 7 });
    const limited = await raw(`/zones/${zone_id}/dns_records`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.body).toMatchObject({ success: false, result: null });
    fake.faults.next(1, { status: 429 });
    await expect(cf.dns.records.get('x', { zone_id })).rejects.toBeInstanceOf(RateLimitError);
    fake.faults.next(1, { status: 409, message: 'busy' }, { path: /\/dns_records$/ });
    expect((await raw(`/zones/${zone_id}/dns_records`)).body.errors).toEqual([
      { code: 1409, message: 'busy' },
    ]);
  });

  it('hangs until the client times out, or drops the connection', async () => {
    const impatient = new Cloudflare({
      apiToken: fake.token,
      baseURL: fake.url,
      maxRetries: 0,
      timeout: 200,
    });
    fake.faults.next(1, { hang: true });
    await expect(impatient.dns.records.get('x', { zone_id })).rejects.toBeInstanceOf(
      APIConnectionTimeoutError,
    );
    fake.faults.next(1, { reset: true });
    await expect(impatient.dns.records.get('x', { zone_id })).rejects.toBeInstanceOf(APIConnectionError);
    expect(fake.requests.map((r) => r.fault)).toEqual(['hang', 'reset']);
  });

  it('fails everything for a period, or until cleared', async () => {
    fake.faults.during(60_000, { status: 503 });
    await expect(cf.dns.records.get('x', { zone_id })).rejects.toBeInstanceOf(InternalServerError);
    fake.faults.clear();
    fake.faults.always({ status: 502 }, { path: `/client/v4/zones/${zone_id}/dns_records` });
    await expect(cf.dns.records.create(cname('g.example.dev'))).rejects.toBeInstanceOf(InternalServerError);
    await expect(cf.dns.records.create(cname('g.example.dev'))).rejects.toBeInstanceOf(InternalServerError);
    expect(fake.faults.pending).toBe(1);
    fake.faults.clear();
    await cf.dns.records.create(cname('g.example.dev'));
  });

  it('can apply a request and lose its answer (afterEffect)', async () => {
    fake.faults.next(1, { status: 500 }, { method: 'POST', afterEffect: true });
    await expect(cf.dns.records.create(cname('lost.example.dev'))).rejects.toBeInstanceOf(
      InternalServerError,
    );
    expect(fake.records().map((r) => r.name)).toEqual(['lost.example.dev']);
    expect(fake.requests[0]).toMatchObject({ status: 500, fault: 'status', applied: true });
    expect(JSON.stringify(fake.requests)).not.toContain(fake.token);
  });
});
