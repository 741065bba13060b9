// Host names one Project may publish through external-dns: only under the configured domain, and
// none another Project (in any namespace) already claims; and preview host names that differ
// across namespaces.
import { describe, expect, it } from 'vitest';
import type { LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { externalDnsProvider } from '../../operator/src/providers/dns/external-dns.ts';
import { conflictingHostnames } from '../../operator/src/providers/dns/names.ts';
import { ForeignResourceError } from '../../operator/src/providers/ports.ts';
import { liveProject, signal } from './providers/support.ts';

let uids = 0;
function project(
  namespace: string,
  name: string,
  dns: Record<string, unknown>,
  options: { created?: string; published?: string[] } = {},
): LiveProject {
  uids += 1;
  const p = liveProject(
    { dns: { enabled: true, ...dns } },
    {
      namespace,
      name,
      uid: `uid-${uids}`,
      status: options.published ? { dns: { hostnames: options.published, records: [] } } : undefined,
    },
  );
  return { ...p, metadata: { ...p.metadata, creationTimestamp: options.created ?? '2026-11-01T00:00:00Z' } };
}

describe('conflictingHostnames', () => {
  const zone = 'example.dev';

  it('refuses names outside the domain', () => {
    const p = project('team', 'shop', {
      subdomain: 'shop',
      aliases: ['www.shop.example.dev', 'evil.other.com'],
    });
    expect(conflictingHostnames(p, [p], zone)).toEqual({ outside: ['evil.other.com'], taken: [] });
  });

  it("refuses another Project's published name, whichever namespace either is in", () => {
    const owner = project('team-a', 'blog', { subdomain: 'blog' }, { published: ['blog.example.dev'] });
    const thief = project(
      'team-b',
      'x',
      { subdomain: 'x', aliases: ['blog.example.dev'] },
      { created: '2026-10-01T00:00:00Z' }, // older, but the name is published already
    );
    expect(conflictingHostnames(thief, [owner, thief], zone)).toEqual({
      outside: [],
      taken: [{ hostname: 'blog.example.dev', by: owner }],
    });
    expect(conflictingHostnames(owner, [owner, thief], zone)).toEqual({ outside: [], taken: [] });
  });

  it('gives a name neither has published yet to the older Project', () => {
    const first = project('a', 'one', { subdomain: 'shared' }, { created: '2026-11-01T00:00:00Z' });
    const second = project('b', 'two', { subdomain: 'shared' }, { created: '2026-11-02T00:00:00Z' });
    expect(conflictingHostnames(second, [first, second], zone).taken).toEqual([
      { hostname: 'shared.example.dev', by: first },
    ]);
    expect(conflictingHostnames(first, [first, second], zone).taken).toEqual([]);
    // A Project without DNS claims nothing.
    const off = { ...first, spec: { ...first.spec, dns: { ...first.spec.dns, enabled: false } } };
    expect(conflictingHostnames(second, [off, second], zone).taken).toEqual([]);
  });
});

describe('the external-dns provider', () => {
  it("refuses a Project asking for another Project's name, or a name outside the domain", async () => {
    const owner = project('team-a', 'blog', { subdomain: 'blog' }, { published: ['blog.example.dev'] });
    const thief = project('team-b', 'x', { subdomain: 'blog' });
    const outside = project('team-b', 'y', { aliases: ['www.bank.com'] });
    const provider = externalDnsProvider('example.dev', () => [owner, thief, outside]);
    const ctx = (p: LiveProject) => ({ project: p, recorded: undefined, rotatePassword: false, signal });
    await expect(provider.observe(ctx(thief))).rejects.toThrow(ForeignResourceError);
    await expect(provider.observe(ctx(thief))).rejects.toThrow(
      /blog\.example\.dev is already claimed by another Project/,
    );
    await expect(provider.create(ctx(thief))).rejects.toThrow(ForeignResourceError);
    await expect(provider.observe(ctx(outside))).rejects.toThrow(/www\.bank\.com is not under example\.dev/);
    expect(await provider.observe(ctx(owner))).toMatchObject({ exists: true, upToDate: true });
  });
});
