import { describe, expect, it } from 'vitest';
import { canReachProject, requestNamespace, requireNoWider } from '../../api-shim/src/auth/access.ts';
import { presentedKey } from '../../api-shim/src/auth/authenticate.ts';
import { KeyRateLimiter } from '../../api-shim/src/auth/rate-limit.ts';
import { hasScope } from '../../api-shim/src/auth/scopes.ts';
import { HttpError } from '../../api-shim/src/http/errors.ts';
import { validate } from '../../api-shim/src/http/validate.ts';
import {
  type ApiKey,
  addressAllowed,
  apiKeyFromSecret,
  apiKeySecret,
  generateKey,
  hashKey,
  isCidr,
  sameHash,
} from '../../api-shim/src/keys/api-key.ts';
import { createKeyBody } from '../../api-shim/src/routes/keys.ts';

const key = (over: Partial<ApiKey> = {}): ApiKey => ({
  id: 'abc123',
  name: 'ci',
  hash: hashKey('rdev_x'),
  scopes: ['projects:read'],
  namespaces: [],
  projects: [],
  cidrs: [],
  ...over,
});

describe('API keys', () => {
  it('are long random strings with the rdev_ prefix, never equal twice', () => {
    const a = generateKey();
    expect(a).toMatch(/^rdev_[A-Za-z0-9_-]{43}$/);
    expect(generateKey()).not.toBe(a);
  });

  it('round-trip through their Secret, which holds the hash and not the key', () => {
    const secret = apiKeySecret('rdev-system', {
      id: 'k1',
      name: 'deploy bot',
      hash: hashKey('rdev_secret'),
      scopes: ['work:write', 'work:read'],
      namespaces: ['team-a'],
      projects: ['shop'],
      cidrs: ['10.0.0.0/8'],
      expiresAt: '2030-01-01T00:00:00Z',
    });
    expect(JSON.stringify(secret)).not.toContain(Buffer.from('rdev_secret').toString('base64'));
    expect(secret.metadata.labels?.['rdev.dev/api-key']).toBe('true');
    const back = apiKeyFromSecret({ ...secret, metadata: { ...secret.metadata, creationTimestamp: 'now' } });
    expect(back).toMatchObject({
      id: 'k1',
      name: 'deploy bot',
      scopes: ['work:write', 'work:read'],
      namespaces: ['team-a'],
      projects: ['shop'],
      cidrs: ['10.0.0.0/8'],
      expiresAt: '2030-01-01T00:00:00Z',
      createdAt: 'now',
    });
  });

  it('reject Secrets that do not describe a key, saying why', () => {
    const good = apiKeySecret('ns', {
      id: 'k',
      name: 'n',
      hash: hashKey('x'),
      scopes: [],
      namespaces: [],
      projects: [],
      cidrs: [],
    });
    const withData = (data: Record<string, string>) => ({ ...good, data: { ...good.data, ...data } });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(apiKeyFromSecret(withData({ hash: b64('nothex') }))).toEqual({
      invalid: 'data.hash is not a hex SHA-256',
    });
    expect(apiKeyFromSecret(withData({ scopes: b64('root') }))).toEqual({ invalid: 'unknown scopes: root' });
    expect(apiKeyFromSecret(withData({ cidrs: b64('10.0.0.0/33') }))).toEqual({
      invalid: '"10.0.0.0/33" is not a CIDR',
    });
    expect(apiKeyFromSecret({ ...good, metadata: { ...good.metadata, name: 'other' } })).toHaveProperty(
      'invalid',
    );
  });

  it('compare hashes in constant time and only when both are hashes', () => {
    expect(sameHash(hashKey('a'), hashKey('a'))).toBe(true);
    expect(sameHash(hashKey('a'), hashKey('b'))).toBe(false);
    expect(sameHash('', '')).toBe(false);
  });

  it('are read from Authorization: Bearer or X-API-Key', () => {
    expect(presentedKey({ authorization: 'Bearer rdev_abc' })).toBe('rdev_abc');
    expect(presentedKey({ authorization: 'bearer   rdev_abc ' })).toBe('rdev_abc');
    expect(presentedKey({ 'x-api-key': 'rdev_def' })).toBe('rdev_def');
    expect(presentedKey({ authorization: 'Basic Zm9v' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });
});

describe('client CIDRs', () => {
  it('validate IPv4 and IPv6 networks and bare addresses', () => {
    for (const ok of ['10.0.0.0/8', '192.168.1.7', '::1', 'fd00::/8', '0.0.0.0/0'])
      expect(isCidr(ok)).toBe(true);
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fd00::/129', 'host', '1.2.3.4/x', '1.2.3.4/8/9', '']) {
      expect(isCidr(bad), bad).toBe(false);
    }
  });

  it('admit addresses inside them, IPv4-mapped IPv6 included', () => {
    expect(addressAllowed([], '8.8.8.8')).toBe(true);
    expect(addressAllowed(['10.0.0.0/8'], '10.1.2.3')).toBe(true);
    expect(addressAllowed(['10.0.0.0/8'], '::ffff:10.1.2.3')).toBe(true);
    expect(addressAllowed(['10.0.0.0/8'], '11.0.0.1')).toBe(false);
    expect(addressAllowed(['127.0.0.1'], '127.0.0.1')).toBe(true);
    expect(addressAllowed(['fd00::/8'], 'fd12::1')).toBe(true);
    expect(addressAllowed(['fd00::/8'], '10.0.0.1')).toBe(false);
    expect(addressAllowed(['10.0.0.0/8'], 'garbage')).toBe(false);
  });
});

describe('scopes and reach', () => {
  it('admin holds every scope', () => {
    expect(hasScope(['admin'], 'keys:write')).toBe(true);
    expect(hasScope(['work:read'], 'work:write')).toBe(false);
  });

  it('namespaces and projects limit what a key reaches', () => {
    const limited = key({ namespaces: ['team-a'], projects: ['shop'] });
    expect(canReachProject(limited, 'team-a', 'shop')).toBe(true);
    expect(canReachProject(limited, 'team-a', 'blog')).toBe(false);
    expect(canReachProject(limited, 'team-b', 'shop')).toBe(false);
    expect(canReachProject(key(), 'any', undefined)).toBe(true);
  });

  it('a request without a namespace uses the key’s only one, else the default', () => {
    expect(requestNamespace(key({ namespaces: ['team-a'] }), undefined, 'default')).toBe('team-a');
    expect(requestNamespace(key({ namespaces: ['a', 'b'] }), undefined, 'default')).toBe('default');
    expect(requestNamespace(key(), 'x', 'default')).toBe('x');
  });

  it('a key cannot hand on more than it holds', () => {
    const limited = key({ scopes: ['work:read', 'keys:write'], namespaces: ['team-a'] });
    expect(() =>
      requireNoWider(limited, { scopes: ['work:read'], namespaces: ['team-a'], projects: [] }),
    ).not.toThrow();
    expect(() =>
      requireNoWider(limited, { scopes: ['work:write'], namespaces: ['team-a'], projects: [] }),
    ).toThrow(/cannot grant scopes it lacks: work:write/);
    expect(() => requireNoWider(limited, { namespaces: [], projects: [] })).toThrow(
      /limited to the namespaces team-a/,
    );
    expect(() =>
      requireNoWider(key({ scopes: ['admin'] }), { scopes: ['keys:write'], namespaces: [], projects: [] }),
    ).not.toThrow();
  });
});

describe('a key minting another', () => {
  const none = { namespaces: [], projects: [] };

  it('keeps the child within its client CIDRs, IPv4 and IPv6', () => {
    const pinned = key({ cidrs: ['10.0.0.0/8', 'fd00::/8'] });
    for (const cidrs of [['10.1.0.0/16'], ['10.1.2.3'], ['10.0.0.0/8', 'fd12::/16'], ['fd00::1']]) {
      expect(() => requireNoWider(pinned, { ...none, cidrs }), cidrs.join()).not.toThrow();
    }
    for (const cidrs of [
      [],
      ['0.0.0.0/0'],
      ['10.0.0.0/7'],
      ['11.0.0.1'],
      ['10.0.0.0/8', '::/0'],
      ['fe80::1'],
    ]) {
      expect(() => requireNoWider(pinned, { ...none, cidrs }), cidrs.join()).toThrow(
        /limited to the client addresses 10.0.0.0\/8, fd00::\/8/,
      );
    }
    expect(() => requireNoWider(key(), { ...none, cidrs: [] })).not.toThrow();
    expect(() => requireNoWider(key(), { ...none, cidrs: ['0.0.0.0/0'] })).not.toThrow();
  });

  it('lets the child expire no later than itself', () => {
    const expiring = key({ expiresAt: '2030-01-01T00:00:00Z' });
    expect(() => requireNoWider(expiring, { ...none, expiresAt: '2029-12-31T23:00:00Z' })).not.toThrow();
    expect(() => requireNoWider(expiring, { ...none, expiresAt: '2030-01-01T01:00:00+01:00' })).not.toThrow();
    for (const expiresAt of [undefined, '2030-01-01T00:00:01Z']) {
      expect(() => requireNoWider(expiring, { ...none, expiresAt }), String(expiresAt)).toThrow(
        /expires at 2030-01-01T00:00:00Z: a key it makes must expire no later/,
      );
    }
    expect(() => requireNoWider(key(), { ...none, expiresAt: undefined })).not.toThrow();
  });
});

describe('a new key’s expiry', () => {
  const body = { name: 'ci', scopes: ['work:read'] };
  const rejection = (over: Record<string, unknown>) => {
    try {
      validate(createKeyBody, { ...body, ...over }, 'body');
    } catch (err) {
      if (err instanceof HttpError) return { status: err.status, details: err.details };
      throw err;
    }
    return undefined;
  };

  it('lies in the future', () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    expect(rejection({ expiresAt: past })).toEqual({
      status: 400,
      details: [{ path: 'body.expiresAt', message: expect.stringMatching(/in the past/) }],
    });
    for (const expiresIn of ['0s', '0h', '0m0s']) {
      expect(rejection({ expiresIn }), expiresIn).toEqual({
        status: 400,
        details: [{ path: 'body.expiresIn', message: expect.stringMatching(/longer than zero/) }],
      });
    }
    expect(rejection({ expiresAt: new Date(Date.now() + 60_000).toISOString() })).toBeUndefined();
    expect(rejection({ expiresIn: '30m' })).toBeUndefined();
    expect(rejection({})).toBeUndefined();
  });
});

describe('per-key rate limit', () => {
  it('allows a burst, then one request per refill, and says how long to wait', () => {
    let now = 0;
    const limiter = new KeyRateLimiter(2, 3, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0); // keys do not share a bucket
    now = 500; // one token back at 2/s
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
  });

  it('forgets full buckets', () => {
    let now = 0;
    const limiter = new KeyRateLimiter(10, 5, () => now);
    limiter.take('a');
    now = 10_000;
    limiter.sweep();
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(0);
  });
});
