// Who may do what through the shim: every route refused without its scope and allowed with
// it, keys limited to namespaces, projects and client addresses, expiry, revocation and the
// per-key rate limit — against the real API server.
import { beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../api-shim/src/auth/scopes.ts';
import { installCrds } from './support/crds.ts';
import { eventually, kubeConfig, useNamespace } from './support/kube.ts';
import { useShim } from './support/shim.ts';

const ns = useNamespace('rdev-shim-auth');
const shim = useShim(() => ns.name, { rateLimit: 50, rateBurst: 100 });

type Scope = (typeof SCOPES)[number];
interface Case {
  method: string;
  path: () => string;
  scopes: Scope[];
  body?: () => unknown;
  stream?: boolean;
  /** Scopes the allowed key holds besides the first of `scopes`. */
  alsoNeeds?: Scope[];
}

// Each route with the scope it needs. Bodies are valid, so "allowed" means neither 401 nor 403.
const cases: Case[] = [
  { method: 'GET', path: () => '/keys', scopes: ['keys:read'] },
  {
    method: 'POST',
    path: () => '/keys',
    scopes: ['keys:write'],
    body: () => ({ name: 'x', scopes: ['keys:write'] }),
  },
  { method: 'GET', path: () => '/projects', scopes: ['projects:read'] },
  {
    method: 'POST',
    path: () => '/projects',
    scopes: ['projects:write'],
    body: () => ({ name: `p-${Math.random().toString(36).slice(2, 8)}`, spec: {} }),
  },
  { method: 'GET', path: () => '/projects/shop', scopes: ['projects:read'] },
  {
    method: 'PATCH',
    path: () => '/projects/shop',
    scopes: ['projects:write'],
    body: () => ({ spec: { displayName: 'Shop' } }),
  },
  { method: 'GET', path: () => '/projects/shop/sessions', scopes: ['sessions:read'] },
  { method: 'POST', path: () => '/projects/shop/sessions', scopes: ['sessions:execute'], body: () => ({}) },
  { method: 'GET', path: () => '/sessions/s1', scopes: ['sessions:read'] },
  {
    method: 'POST',
    path: () => '/sessions/s1/exec',
    scopes: ['sessions:execute'],
    body: () => ({ command: ['true'] }),
  },
  { method: 'GET', path: () => '/projects/shop/checkouts', scopes: ['projects:read'] },
  { method: 'POST', path: () => '/projects/shop/checkouts', scopes: ['projects:execute'], body: () => ({}) },
  { method: 'GET', path: () => '/checkouts/c1', scopes: ['projects:read'] },
  {
    method: 'POST',
    path: () => '/checkouts/c1/checkin',
    scopes: ['projects:execute'],
    body: () => ({ title: 'done' }),
  },
  { method: 'GET', path: () => '/projects/shop/work', scopes: ['work:read'] },
  {
    method: 'POST',
    path: () => '/projects/shop/work',
    scopes: ['work:write'],
    body: () => ({ spec: { type: 'shell', command: ['true'] } }),
  },
  { method: 'GET', path: () => '/work/w1', scopes: ['work:read'] },
  { method: 'POST', path: () => '/work/w1/cancel', scopes: ['work:write'] },
  { method: 'GET', path: () => '/work/w1/logs', scopes: ['work:read'], stream: true },
  { method: 'GET', path: () => '/projects/shop/features', scopes: ['features:read'] },
  {
    method: 'POST',
    path: () => '/projects/shop/features',
    scopes: ['features:write'],
    body: () => ({ spec: { title: 'Search' } }),
  },
  { method: 'GET', path: () => '/features/f1', scopes: ['features:read'] },
  {
    method: 'POST',
    path: () => '/features/f1/approve',
    scopes: ['features:write'],
    body: () => ({ artifact: 'spec', digest: 'a'.repeat(40) }),
  },
  {
    method: 'POST',
    path: () => '/features/f1/reject',
    scopes: ['features:write'],
    body: () => ({ artifact: 'spec', digest: 'a'.repeat(40) }),
  },
  {
    method: 'POST',
    path: () => '/features/f1/waive',
    scopes: ['features:write'],
    body: () => ({ artifact: 'qa_plan', reason: 'no QA for this one' }),
  },
  { method: 'GET', path: () => '/queue', scopes: ['work:read'] },
  { method: 'GET', path: () => '/workers/pool', scopes: ['work:read'] },
  {
    method: 'GET',
    path: () => '/events',
    scopes: ['projects:read', 'sessions:read', 'work:read', 'features:read'],
    stream: true,
  },
  { method: 'GET', path: () => '/webhooks', scopes: ['webhooks:write'] },
  {
    method: 'POST',
    path: () => '/webhooks',
    scopes: ['webhooks:write'],
    // A subscription needs the read scope of what it delivers as well.
    alsoNeeds: ['work:read'],
    body: () => ({ url: 'http://hooks.example.com/hook', events: ['workitem.*'] }),
  },
  { method: 'DELETE', path: () => '/sessions/s-doomed', scopes: ['sessions:execute'] },
  { method: 'DELETE', path: () => '/work/w-doomed', scopes: ['work:write'] },
  { method: 'DELETE', path: () => '/checkouts/c-doomed', scopes: ['projects:execute'] },
  { method: 'DELETE', path: () => '/features/f-doomed', scopes: ['features:write'] },
];

/** Status of a request; streams are closed as soon as their headers arrive. */
async function statusOf(c: Case, key: string): Promise<number> {
  if (!c.stream) return (await shim.call(c.method, c.path(), { key, body: c.body?.() })).status;
  const abort = new AbortController();
  const response = await fetch(`${shim.url}${c.path()}`, {
    method: c.method,
    headers: { authorization: `Bearer ${key}` },
    signal: abort.signal,
  });
  abort.abort();
  return response.status;
}

const keys = new Map<string, string>();

beforeAll(async () => {
  await installCrds(kubeConfig());
  const made = (a: { status: number; body: unknown }) => {
    if (a.status !== 201) throw new Error(JSON.stringify(a.body));
  };
  made(await shim.call('POST', '/projects', { body: { name: 'shop', spec: {} } }));
  made(await shim.call('POST', '/projects', { body: { name: 'blog', spec: {} } }));
  for (const name of ['s1', 's-doomed']) {
    made(await shim.call('POST', '/projects/shop/sessions', { body: { name } }));
  }
  for (const name of ['c1', 'c-doomed']) {
    made(await shim.call('POST', '/projects/shop/checkouts', { body: { name } }));
  }
  for (const name of ['f1', 'f-doomed']) {
    made(await shim.call('POST', '/projects/shop/features', { body: { name, spec: { title: name } } }));
  }
  for (const name of ['w1', 'w-doomed']) {
    made(
      await shim.call('POST', '/projects/shop/work', {
        body: { name, spec: { type: 'shell', command: ['true'] } },
      }),
    );
  }
  for (const c of cases) {
    const scopes = c.scopes.join(',');
    if (keys.has(`with:${scopes}`) && !c.alsoNeeds) continue;
    const others = SCOPES.filter((s) => s !== 'admin' && !c.scopes.includes(s));
    keys.set(`with:${scopes}`, await shim.key([...c.scopes.slice(0, 1), ...(c.alsoNeeds ?? [])]));
    keys.set(`without:${scopes}`, await shim.key(others));
  }
  // Everything is in the shim's cache before the matrix reads it.
  await eventually(() => shim.shim.context.cache.kinds.WorkItem.store.get(`${ns.name}/w-doomed`));
  await eventually(() => shim.shim.context.cache.kinds.Checkout.store.get(`${ns.name}/c-doomed`));
  await eventually(() => shim.shim.context.cache.kinds.Session.store.get(`${ns.name}/s-doomed`));
  await eventually(() => shim.shim.context.cache.kinds.Feature.store.get(`${ns.name}/f-doomed`));
});

describe('the scope × route matrix', () => {
  for (const c of cases) {
    it(`${c.method} ${c.path()} needs ${c.scopes.join(' or ')}`, async () => {
      const refused = await statusOf(c, keys.get(`without:${c.scopes.join(',')}`) as string);
      expect(refused).toBe(403);
      const allowed = await statusOf(c, keys.get(`with:${c.scopes.join(',')}`) as string);
      expect([401, 403]).not.toContain(allowed);
      expect(allowed).toBeLessThan(500);
    });
  }

  it('public routes need no key; every other route needs one', async () => {
    for (const path of ['/health', '/ready', '/openapi.json', '/docs', '/metrics']) {
      expect((await shim.call('GET', path, { key: null })).status, path).toBe(200);
    }
    const answer = await shim.call('GET', '/projects', { key: null });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toContain('Bearer');
    expect(answer.body.error?.code).toBe('unauthenticated');
    expect((await shim.call('GET', '/projects', { key: 'rdev_not-a-key' })).status).toBe(401);
  });

  it('takes the key from X-API-Key as well', async () => {
    const key = await shim.key(['projects:read']);
    const answer = await shim.call('GET', '/projects', { key: null, headers: { 'x-api-key': key } });
    expect(answer.status).toBe(200);
  });
});

describe('lists', () => {
  it('come in pages with ?limit=, chained by meta.continue', async () => {
    const whole =
      (await shim.call<{ name: string }[]>('GET', '/projects')).body.data?.map((p) => p.name) ?? [];
    expect(whole.length).toBeGreaterThanOrEqual(2);
    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = await shim.call<{ name: string }[]>(
        'GET',
        `/projects?limit=1${token ? `&continue=${token}` : ''}`,
      );
      expect(page.body.data).toHaveLength(1);
      paged.push(...(page.body.data ?? []).map((p) => p.name));
      token = (page.body.meta as { continue?: string } | undefined)?.continue;
    } while (token);
    expect(paged).toEqual(whole);
    const bad = await shim.call('GET', '/projects?limit=1&continue=nonsense!');
    expect(bad.status).toBe(400);
    expect((await shim.call('GET', '/projects?limit=0')).status).toBe(400);
  });
});

describe('a key limited to namespaces or projects', () => {
  it('reaches only its projects, and lists only those', async () => {
    const key = await shim.key(['projects:read', 'work:write', 'work:read'], { projects: ['blog'] });
    expect((await shim.call('GET', '/projects/shop', { key })).status).toBe(404);
    expect((await shim.call('GET', '/projects/blog', { key })).status).toBe(200);
    const list = await shim.call<{ name: string }[]>('GET', '/projects', { key });
    expect(list.body.data?.map((p) => p.name)).toEqual(['blog']);
    const work = await shim.call('POST', '/projects/shop/work', {
      key,
      body: { spec: { type: 'shell', command: ['true'] } },
    });
    expect(work.status).toBe(403);
    expect(work.body.error?.message).toContain('may not reach the project shop');
    // An object of a project it does not reach is as good as absent: its project is not given away.
    expect((await shim.call('GET', '/work/w1', { key })).status).toBe(404);
  });

  it('reaches only its namespaces', async () => {
    const key = await shim.key(['projects:read'], { namespaces: ['elsewhere'] });
    const answer = await shim.call('GET', `/projects/shop?namespace=${ns.name}`, { key });
    expect(answer.status).toBe(403);
    expect(answer.body.error?.message).toContain(`may not reach the namespace ${ns.name}`);
    expect((await shim.call<unknown[]>('GET', '/projects', { key })).body.data).toEqual([]);
  });

  it('cannot make a key wider than itself', async () => {
    const keyMaker = await shim.key(['keys:write', 'work:read'], { projects: ['blog'] });
    const wider = await shim.call('POST', '/keys', {
      key: keyMaker,
      body: { name: 'x', scopes: ['work:write'] },
    });
    expect(wider.status).toBe(403);
    const escaping = await shim.call('POST', '/keys', {
      key: keyMaker,
      body: { name: 'x', scopes: ['work:read'], projects: ['shop'] },
    });
    expect(escaping.status).toBe(403);
    const ok = await shim.call<{ projects: string[] }>('POST', '/keys', {
      key: keyMaker,
      body: { name: 'x', scopes: ['work:read'] },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.data?.projects).toEqual(['blog']); // inherits the maker's reach
  });
});

describe('a key limited to client addresses', () => {
  it('is refused from elsewhere and accepted from inside its CIDRs', async () => {
    const far = await shim.key(['projects:read'], { cidrs: ['10.0.0.0/8'] });
    const refused = await shim.call('GET', '/projects', { key: far });
    expect(refused.status).toBe(401);
    expect(refused.body.error?.message).toContain('is not accepted from 127.0.0.1');
    const near = await shim.key(['projects:read'], { cidrs: ['127.0.0.0/8', '::1'] });
    expect((await shim.call('GET', '/projects', { key: near })).status).toBe(200);
  });
});

describe('key lifetime', () => {
  it('a key cannot be made expired; once its expiry passes it is refused with 401', async () => {
    const past = await shim.call('POST', '/keys', {
      body: {
        name: 'expired',
        scopes: ['projects:read'],
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      },
    });
    expect(past.status).toBe(400);
    expect(past.body.error?.details).toEqual([expect.objectContaining({ path: 'body.expiresAt' })]);

    const expiresAt = new Date(Date.now() + 5000);
    const key = await shim.key(['projects:read'], { expiresAt: expiresAt.toISOString() });
    expect((await shim.call('GET', '/projects', { key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now() + 100)));
    const answer = await shim.call('GET', '/projects', { key });
    expect(answer.status).toBe(401);
    expect(answer.body.error?.message).toContain('expired');
  });

  it('a deleted key stops working within a second', async () => {
    const key = await shim.key(['projects:read']);
    expect((await shim.call('GET', '/projects', { key })).status).toBe(200);
    const id = (await shim.call<{ id: string; name: string }[]>('GET', '/keys')).body.data?.find(
      (k) => shim.shim.context.keys.find(key)?.id === k.id,
    )?.id;
    expect(id).toBeDefined();
    expect((await shim.call('DELETE', `/keys/${id}`)).status).toBe(202);
    await eventually(async () => (await shim.call('GET', '/projects', { key })).status === 401, {
      timeoutMs: 1000,
      intervalMs: 20,
    });
  });

  it('records the last use of a key, and never shows its hash', async () => {
    const key = await shim.key(['projects:read', 'keys:read']);
    await shim.call('GET', '/projects', { key });
    const id = shim.shim.context.keys.find(key)?.id;
    const shown = await eventually(async () => {
      const k = (await shim.call<{ lastUsedAt?: string }>('GET', `/keys/${id}`)).body.data;
      return k?.lastUsedAt ? k : undefined;
    });
    expect(JSON.stringify(shown)).not.toContain('hash');
    expect(JSON.stringify(shown)).not.toContain(key);
  });
});

describe('request logs', () => {
  it('name the key id of each request, never the key', async () => {
    const key = await shim.key(['projects:read']);
    const id = shim.shim.context.keys.find(key)?.id as string;
    await shim.call('GET', '/projects', { key });
    await shim.call('GET', '/projects', { key, headers: { 'x-api-key': key } });
    const lines = shim.logs.filter((l) => l.includes(`"keyId":"${id}"`));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toContain('"route":"/projects"');
    expect(shim.logs.join('\n')).not.toContain(key);
    expect(shim.logs.join('\n')).not.toContain(shim.adminKey);
  });
});

describe('the rate limit', () => {
  it('answers 429 with Retry-After once a key spends its burst', async () => {
    const key = await shim.key(['projects:read']);
    const answers = await Promise.all(
      Array.from({ length: 150 }, () => shim.call('GET', '/projects', { key })),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(100);
    expect(Number(limited[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited[0]?.body.error?.code).toBe('rate_limited');
    // Another key is not held back.
    expect((await shim.call('GET', '/projects', { key: await shim.key(['projects:read']) })).status).toBe(
      200,
    );
  });
});
