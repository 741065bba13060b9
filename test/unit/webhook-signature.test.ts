import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sign, verifySignature } from '../../operator/src/webhooks/signature.ts';

const body = '{"id":"1","type":"workitem.succeeded"}';
const now = 1_800_000_000;

describe('webhook signatures', () => {
  it('is sha256= and the hex HMAC of "<timestamp>.<body>"', () => {
    const expected = createHmac('sha256', 'key').update(`${now}.${body}`).digest('hex');
    expect(sign('key', now, body)).toBe(`sha256=${expected}`);
  });

  it('verifies what it signs', () => {
    expect(verifySignature('key', String(now), body, sign('key', now, body), { now })).toBe(true);
    expect(verifySignature('key', now, body, sign('key', now, body), { now: now + 299 })).toBe(true);
  });

  it('rejects a tampered body, timestamp, signature or key', () => {
    const header = sign('key', now, body);
    expect(verifySignature('key', now, `${body} `, header, { now })).toBe(false);
    expect(verifySignature('key', now + 1, body, header, { now })).toBe(false);
    expect(verifySignature('other', now, body, header, { now })).toBe(false);
    const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
    expect(verifySignature('key', now, body, flipped, { now })).toBe(false);
    expect(verifySignature('key', now, body, header.slice(0, -2), { now })).toBe(false);
    expect(verifySignature('key', now, body, header.replace('sha256=', 'sha1='), { now })).toBe(false);
  });

  it('rejects old, future, malformed and missing timestamps', () => {
    const header = sign('key', now, body);
    expect(verifySignature('key', now, body, header, { now: now + 301 })).toBe(false);
    expect(verifySignature('key', now, body, header, { now: now - 301 })).toBe(false);
    expect(verifySignature('key', now, body, header, { now: now + 30, maxAgeSeconds: 10 })).toBe(false);
    expect(verifySignature('key', '1.5e9', body, sign('key', '1.5e9', body), { now })).toBe(false);
    expect(verifySignature('key', undefined, body, header, { now })).toBe(false);
    expect(verifySignature('key', now, body, undefined, { now })).toBe(false);
  });
});
