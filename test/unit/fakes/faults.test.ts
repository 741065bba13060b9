import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../../fakes/faults.ts';
import { FakeClock } from '../../support/fake-clock.ts';

describe('FaultInjector', () => {
  it('counts down next(n), matching method and path, first fault first', () => {
    const faults = new FaultInjector();
    faults.next(2, { status: 500 }, { method: 'post', path: /^\/zones\// });
    faults.next(1, { status: 429, retryAfterSeconds: 1 });
    expect(faults.take('POST', '/zones/z/dns_records')?.response).toEqual({ status: 500 });
    expect(faults.take('GET', '/zones/z/dns_records')?.response).toEqual({
      status: 429,
      retryAfterSeconds: 1,
    });
    expect(faults.take('GET', '/zones/z/dns_records')).toBeUndefined();
    expect(faults.take('POST', '/other')).toBeUndefined();
    expect(faults.take('POST', '/zones/z/dns_records')?.response).toEqual({ status: 500 });
    expect(faults.pending).toBe(0);
  });

  it('expires during(ms) with time, keeps always() until cleared', () => {
    const clock = new FakeClock();
    const faults = new FaultInjector(() => clock.now());
    faults.during(1_000, { hang: true }, { path: '/a' });
    faults.always({ reset: true }, { path: '/b' });
    expect(faults.take('GET', '/a')?.response).toEqual({ hang: true });
    clock.advance(999);
    expect(faults.take('GET', '/a')).toBeDefined();
    clock.advance(1);
    expect(faults.take('GET', '/a')).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(faults.take('GET', '/b')?.response).toEqual({ reset: true });
    faults.clear();
    expect(faults.take('GET', '/b')).toBeUndefined();
  });

  it('applies afterEffect to status faults only', () => {
    const faults = new FaultInjector();
    expect(() => faults.next(1, { hang: true }, { afterEffect: true })).toThrow(/status faults only/);
    faults.next(1, { status: 500 }, { afterEffect: true });
    expect(faults.take('POST', '/x')).toEqual({ response: { status: 500 }, afterEffect: true });
  });
});
