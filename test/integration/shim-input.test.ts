// Bad input to the shim gets a 4xx that says what is wrong, never a 5xx and never a partial
// write: malformed JSON, wrong types, unknown fields, oversized bodies, path-traversing names,
// and 2,000 random bodies across the write routes.
import { beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from './support/crds.ts';
import { kubeConfig, useNamespace } from './support/kube.ts';
import { seededRandom } from './support/random.ts';
import { useShim } from './support/shim.ts';

const ns = useNamespace('rdev-shim-input');
const shim = useShim(() => ns.name, { rateLimit: 100_000, rateBurst: 100_000 });

beforeAll(async () => {
  await installCrds(kubeConfig());
  const made = await shim.call('POST', '/projects', { body: { name: 'shop', spec: {} } });
  if (made.status !== 201) throw new Error(JSON.stringify(made.body));
  await shim.call('POST', '/projects/shop/sessions', { body: { name: 's1' } });
  await shim.call('POST', '/projects/shop/checkouts', { body: { name: 'c1' } });
  await shim.call('POST', '/projects/shop/work', {
    body: { name: 'w1', spec: { type: 'shell', command: ['true'] } },
  });
});

describe('bad input', () => {
  it('malformed JSON is a 400 that says so', async () => {
    const answer = await shim.call('POST', '/projects', { rawBody: '{"name": "x", ' });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('invalid_request');
    expect(answer.body.error?.message).toMatch(/JSON/i);
  });

  it('a wrong type names the field', async () => {
    const answer = await shim.call('POST', '/projects', {
      body: { name: 'typed', spec: { suspend: 'yes' } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.details).toEqual([expect.objectContaining({ path: 'body.spec.suspend' })]);
    expect(answer.body.error?.message).toContain('body.spec.suspend');
  });

  it('an unknown field is refused, not dropped', async () => {
    const top = await shim.call('POST', '/projects', { body: { name: 'extra', spec: {}, colour: 'red' } });
    expect(top.status).toBe(400);
    expect(top.body.error?.message).toBe('unknown field: body.colour');
    const deep = await shim.call('POST', '/projects', {
      body: { name: 'extra', spec: { repo: { enabled: true, privat: true } } },
    });
    expect(deep.status).toBe(400);
    expect(deep.body.error?.message).toBe('unknown field: body.spec.repo.privat');
    const work = await shim.call('POST', '/projects/shop/work', {
      body: { spec: { type: 'shell', command: ['true'], retries: 3 } },
    });
    expect(work.status).toBe(400);
    expect(work.body.error?.message).toContain('body.spec.retries');
    expect((await shim.call('GET', '/projects/extra')).status).toBe(404); // nothing was written
  });

  it('rules the API server enforces are checked before anything is written', async () => {
    const answer = await shim.call('POST', '/projects/shop/work', { body: { spec: { type: 'shell' } } });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toContain('a shell WorkItem needs a command');
    const ref = await shim.call('POST', '/projects/shop/work', {
      body: { spec: { type: 'shell', command: ['true'], projectRef: { name: 'other' } } },
    });
    expect(ref.status).toBe(400);
    expect(ref.body.error?.message).toContain('body.spec.projectRef');
  });

  it('an oversized body is a 413', async () => {
    const answer = await shim.call('POST', '/projects', {
      body: { name: 'big', spec: { displayName: 'x'.repeat(100_000) } },
    });
    expect(answer.status).toBe(413);
    expect(answer.body.error?.code).toBe('payload_too_large');
  });

  it('a body that is not JSON is a 415', async () => {
    const answer = await shim.call('POST', '/projects', {
      rawBody: 'name=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(answer.status).toBe(415);
  });

  it('path-traversing and malformed names are a 400, never a request elsewhere', async () => {
    for (const path of [
      '/projects/..%2F..%2Fsecrets',
      '/work/..%2Fkube-system%2Fpods',
      '/sessions/UPPER',
      '/projects/a%00b',
      `/projects/${'a'.repeat(64)}`,
      '/projects/shop?namespace=..%2Fkube-system',
      '/keys/..%2F..',
    ]) {
      const answer = await shim.call('GET', path);
      expect(answer.status, path).toBe(400);
      expect(answer.body.error?.code, path).toBe('invalid_request');
    }
  });

  it('a webhook URL pointing inside the cluster or this machine is a 400 naming body.url', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/hook',
      'http://[::1]/hook',
      'http://[fd00::1]/hook',
      'http://localhost:3000/hook',
      'https://kubernetes.default.svc/api',
      'http://redis.team.svc.cluster.local:6379/',
      'http://intranet/hook',
    ]) {
      const answer = await shim.call('POST', '/webhooks', { body: { url, events: ['*'] } });
      expect(answer.status, url).toBe(400);
      expect(answer.body.error?.message, url).toMatch(/^body\.url: /);
      expect(answer.body.error?.details).toEqual([expect.objectContaining({ path: 'body.url' })]);
    }
    const listed = await shim.call<unknown[]>('GET', '/webhooks');
    expect(listed.body.data).toEqual([]); // nothing was written
    const made = await shim.call('POST', '/webhooks', {
      body: { url: 'https://hooks.example.com/rdev', events: ['*'] },
    });
    expect(made.status).toBe(201);
  });

  it('an unknown route is a 404 in the same shape', async () => {
    const answer = await shim.call('GET', '/nope');
    expect(answer.status).toBe(404);
    expect(answer.body.error?.code).toBe('not_found');
  });

  it('errors carry the request id and no stack trace', async () => {
    const answer = await shim.call('POST', '/projects', { rawBody: '[' });
    expect(answer.body.meta?.requestId).toBe(answer.headers.get('x-request-id'));
    expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('fuzzing the write routes', () => {
  const random = seededRandom(20261129);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const words = [
    'shop',
    'x',
    '',
    '..',
    'a/b',
    'UPPER',
    '0',
    'true',
    'null',
    '-1',
    '1e309',
    '💥',
    '<script>',
    'shell',
    'agent',
  ];

  function value(depth: number): unknown {
    const r = random();
    if (depth > 3 || r < 0.25) return pick(words);
    if (r < 0.35) return Math.floor(random() * 2e9) - 1e9;
    if (r < 0.4) return random() < 0.5;
    if (r < 0.45) return null;
    if (r < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    const keys = [
      'name',
      'spec',
      'type',
      'command',
      'prompt',
      'labels',
      'title',
      'scopes',
      'url',
      'events',
      'ttl',
      'priority',
      'projectRef',
      'repo',
      'enabled',
      'extra',
    ];
    return Object.fromEntries(
      Array.from({ length: Math.floor(random() * 5) }, () => [pick(keys), value(depth + 1)]),
    );
  }

  const routes = [
    ['POST', '/projects'],
    ['PATCH', '/projects/shop'],
    ['POST', '/projects/shop/sessions'],
    ['POST', '/projects/shop/checkouts'],
    ['POST', '/projects/shop/work'],
    ['POST', '/sessions/s1/exec'],
    ['POST', '/checkouts/c1/checkin'],
    ['POST', '/keys'],
    ['POST', '/webhooks'],
  ] as const;

  it('2,000 random bodies never get a 5xx', async () => {
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const [method, path] = pick(routes);
          const raw = random() < 0.1 ? '{"broken": ' : JSON.stringify(value(0));
          const answer = await shim.call(method, path, { rawBody: raw });
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status >= 500 || (!answer.body.error && answer.status >= 400)) {
            failures.push(`${method} ${path} ${raw} → ${answer.status} ${JSON.stringify(answer.body)}`);
          }
        }),
      );
    }
    expect(failures).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(2000);
    expect(statuses.get(400)).toBeGreaterThan(1000);
  });
});
