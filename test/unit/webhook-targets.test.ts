// Where webhooks may go: the blocked ranges (loopback, private, link-local, metadata…), an
// explicit allow list, and what a subscription's URL may name.
import { describe, expect, it } from 'vitest';
import { isCidr, WebhookTargets } from '../../operator/src/shared/webhook-targets.ts';

const targets = new WebhookTargets();

describe('webhook targets', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '0.1.2.3',
    '100.64.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    'not-an-address',
  ])('refuses %s', (address) => {
    expect(targets.allows(address)).toBe(false);
  });

  it.each(['1.1.1.1', '8.8.8.8', '172.32.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(targets.allows(address)).toBe(true);
    },
  );

  it('lets an explicit allow list through, and only it', () => {
    const allowing = new WebhookTargets(['127.0.0.1/32', 'fd00::/8']);
    expect(allowing.allows('127.0.0.1')).toBe(true);
    expect(allowing.allows('127.0.0.2')).toBe(false);
    expect(allowing.allows('fd00::5')).toBe(true);
    expect(allowing.allows('169.254.169.254')).toBe(false);
    expect(() => new WebhookTargets(['10.0.0.0'])).toThrow(/not a CIDR/);
    expect(isCidr('10.0.0.0/8')).toBe(true);
    expect(isCidr('10.0.0.0/33')).toBe(false);
    expect(isCidr('fd00::/8')).toBe(true);
  });

  it.each([
    ['http://127.0.0.1:8080/hook', /127\.0\.0\.1 is in a blocked range/],
    ['http://2130706433/hook', /127\.0\.0\.1 is in a blocked range/],
    ['http://0x7f.1/hook', /127\.0\.0\.1 is in a blocked range/],
    ['http://169.254.169.254/latest/meta-data', /blocked range/],
    ['http://[::1]/hook', /blocked range/],
    ['http://[::ffff:10.0.0.1]/hook', /blocked range/],
    ['http://0.0.0.0:6443/', /blocked range/],
    ['http://localhost:8080/hook', /localhost names a host inside/],
    ['http://api.localhost/hook', /inside/],
    ['https://kubernetes.default.svc/api', /inside/],
    ['http://redis.team.svc.cluster.local:6379', /inside/],
    ['http://kubernetes/api', /inside/],
    ['http://my-service:8080/', /inside/],
    ['ftp://example.com/', /not an http/],
  ])('refuses the subscription URL %s', (url, problem) => {
    expect(targets.urlProblem(url)).toMatch(problem);
  });

  it('accepts public names and addresses', () => {
    expect(targets.urlProblem('https://hooks.example.com/rdev')).toBeUndefined();
    expect(targets.urlProblem('http://8.8.8.8/x')).toBeUndefined();
    expect(new WebhookTargets(['127.0.0.1/32']).urlProblem('http://127.0.0.1:9/hook')).toBeUndefined();
  });
});
