import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadShimConfig, parseTrustProxy } from '../../api-shim/src/config.ts';
import { apiKeySecret, generateKey, hashKey, type SecretObject } from '../../api-shim/src/keys/api-key.ts';
import { KeyStore } from '../../api-shim/src/keys/key-store.ts';
import type { ShimContext } from '../../api-shim/src/routes/context.ts';
import { buildServer } from '../../api-shim/src/server.ts';
import { createLogger } from '../../operator/src/runtime/logging.ts';

// Nothing here reaches a handler: every request is answered by routing or authentication.
const app = buildServer(
  { config: { namespace: 'rdev-system', defaultNamespace: 'default' } } as ShimContext,
  {
    log: pino({ level: 'silent' }),
    version: 'test',
    rateLimit: 100,
    rateBurst: 100,
    bodyLimit: 1 << 20,
    trustProxy: false,
  },
);
afterAll(() => app.close());

describe('the shim’s router', () => {
  it('routes path parameters as long as the longest name (253 characters)', async () => {
    const name = `${'a'.repeat(61)}.`.repeat(4).padEnd(253, 'b');
    expect(name).toHaveLength(253);
    for (const [method, url] of [
      ['GET', `/work/${name}`],
      ['DELETE', `/work/${name}`],
      ['POST', `/work/${name}/cancel`],
      ['GET', `/work/${name}/logs`],
      ['GET', `/sessions/${name}`],
      ['POST', `/sessions/${name}/exec`],
      ['DELETE', `/checkouts/${name}`],
      ['POST', `/checkouts/${name}/checkin`],
      ['GET', `/features/${name}`],
      ['DELETE', `/features/${name}`],
      ['POST', `/features/${name}/approve`],
      ['POST', `/features/${name}/reject`],
      ['POST', `/features/${name}/waive`],
    ] as const) {
      const res = await app.inject({ method, url });
      // Routed: authentication answers, in the error envelope.
      expect(res.statusCode, `${method} ${url.slice(0, 20)}`).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    }
  });

  it('answers a longer parameter with a 400 in the error envelope', async () => {
    const res = await app.inject({ method: 'GET', url: `/work/${'a'.repeat(254)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringMatching(/longer than 253/) },
      meta: { requestId: expect.any(String) },
    });
  });

  it('answers an undeclared method on a known path with 405 and Allow, in the error envelope', async () => {
    for (const [method, url, allow] of [
      ['PUT', '/projects/shop', 'DELETE, GET, HEAD, PATCH'],
      ['PATCH', '/work/item-1?namespace=a', 'DELETE, GET, HEAD'],
      ['DELETE', '/projects', 'GET, HEAD, POST'],
      ['GET', '/sessions/s1/exec', 'POST'],
      ['OPTIONS', '/keys', 'GET, HEAD, POST'],
      ['PATCH', '/features/login', 'DELETE, GET, HEAD'],
      ['GET', '/features/login/approve', 'POST'],
    ] as const) {
      const res = await app.inject({ method, url, payload: method === 'GET' ? undefined : 'x' });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow, `${method} ${url}`).toBe(allow);
      expect(res.json()).toMatchObject({
        error: { code: 'method_not_allowed', message: expect.stringContaining(allow) },
        meta: { requestId: expect.any(String) },
      });
    }
  });

  it('still answers 404 for a path no route declares', async () => {
    const res = await app.inject({ method: 'GET', url: '/nothing/here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers.allow).toBeUndefined();
    expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('authentication before the body', () => {
  it('answers a request without a key 401 without parsing its body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/projects',
      headers: { 'content-type': 'application/json' },
      payload: `{"name": "x", "spec": ${'['.repeat(1000)}`,
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'unauthenticated' } });
  });
});

describe('the request line', () => {
  it('names the request, the route’s pattern, the status and the key id; never the key or the URL', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const keys = new KeyStore({ on: () => undefined } as never, pino({ level: 'silent' }));
    const key = generateKey();
    keys.setBootstrapKey(key);
    const logged = buildServer(
      {
        keys,
        cache: { kinds: { Project: { store: { get: () => undefined } } } },
        config: { namespace: 'rdev-system', namespaces: [], defaultNamespace: 'default' },
      } as unknown as ShimContext,
      {
        log: createLogger({ level: 'info', destination: sink }),
        version: 'test',
        rateLimit: 100,
        rateBurst: 100,
        bodyLimit: 1 << 20,
        trustProxy: false,
      },
    );
    try {
      const found = await logged.inject({
        method: 'GET',
        url: '/projects/secret-name',
        headers: { authorization: `Bearer ${key}` },
      });
      const refused = await logged.inject({
        method: 'GET',
        url: '/projects/x',
        headers: { 'x-api-key': 'nope' },
      });
      expect([found.statusCode, refused.statusCode]).toEqual([404, 401]);
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        expect.objectContaining({
          msg: 'request',
          requestId: found.headers['x-request-id'],
          method: 'GET',
          route: '/projects/:project',
          status: 404,
          keyId: 'bootstrap',
        }),
        expect.objectContaining({ msg: 'request', requestId: refused.headers['x-request-id'], status: 401 }),
      ]);
      for (const text of [key, 'secret-name', 'nope']) expect(lines.join('\n')).not.toContain(text);
    } finally {
      await logged.close();
    }
  });
});

describe('--trust-proxy', () => {
  it('takes false, a hop count or the proxies’ CIDRs, never "trust everyone"', () => {
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy('10.0.0.0/8, 192.168.1.1')).toEqual(['10.0.0.0/8', '192.168.1.1']);
    expect(parseTrustProxy('true')).toBeUndefined();
    expect(parseTrustProxy('11')).toBeUndefined();
    expect(parseTrustProxy('10.0.0.0/33')).toBeUndefined();
    expect(() => loadShimConfig(['--trust-proxy=true'], {})).toThrow(/--trust-proxy/);
    expect(loadShimConfig([], {}).trustProxy).toBe('false');
  });

  for (const trustProxy of [1, ['127.0.0.1/32']] as const) {
    it(`believes X-Forwarded-For only past the trusted proxies (${JSON.stringify(trustProxy)})`, async () => {
      const handlers: { add?: (s: SecretObject) => void }[] = [];
      const keys = new KeyStore(
        { on: (h: (typeof handlers)[number]) => handlers.push(h) } as never,
        pino({ level: 'silent' }),
      );
      const key = generateKey();
      const secret = apiKeySecret('rdev-system', {
        id: 'near',
        name: 'near',
        hash: hashKey(key),
        scopes: ['keys:read'],
        namespaces: [],
        projects: [],
        cidrs: ['203.0.113.7/32'],
      }) as SecretObject;
      for (const h of handlers) h.add?.(secret);
      const behind = buildServer(
        {
          keys,
          client: { patch: async () => ({}) },
          config: { namespace: 'rdev-system', defaultNamespace: 'default' },
        } as unknown as ShimContext,
        {
          log: pino({ level: 'silent' }),
          version: 'test',
          rateLimit: 100,
          rateBurst: 100,
          bodyLimit: 1 << 20,
          trustProxy: typeof trustProxy === 'number' ? trustProxy : [...trustProxy],
        },
      );
      try {
        const ask = (xff: string) =>
          behind.inject({
            method: 'GET',
            url: '/keys',
            headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': xff },
          });
        // The proxy (127.0.0.1, the socket's peer) appended the address it saw.
        const ok = await ask('203.0.113.7');
        expect(ok.statusCode, ok.body).toBe(200);
        // A client that forges its own entry is still seen at the address the proxy saw.
        const forged = await ask('203.0.113.7, 198.51.100.9');
        expect(forged.statusCode).toBe(401);
        expect(forged.json().error.message).toContain('198.51.100.9');
      } finally {
        await behind.close();
      }
    });
  }
});
