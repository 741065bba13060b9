// The DNS provider driven through the generic sub-reconciler against the Cloudflare fake (through
// the real SDK): the records a Project gets, how they follow its spec, whose records it touches,
// and how it comes back from lost answers and outages.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LiveProject } from '../../../operator/src/api/v1alpha1/index.ts';
import {
  type CloudflareDnsSettings,
  cloudflareDnsProvider,
  dnsIds,
} from '../../../operator/src/providers/dns/cloudflare.ts';
import { autoLabels } from '../../../operator/src/providers/dns/names.ts';
import { finalizeExternal } from '../../../operator/src/providers/external.ts';
import { ownerMarker } from '../../../operator/src/providers/marker.ts';
import { shortHash } from '../../../operator/src/shared/naming.ts';
import { FakeCloudflare } from '../../fakes/cloudflare.ts';
import { dnsResource, liveProject, reconcile, signal } from './support.ts';

let fake: FakeCloudflare;

beforeEach(async () => {
  fake = await FakeCloudflare.start();
});
afterEach(() => fake.close());

function settings(extra: Partial<CloudflareDnsSettings> = {}): CloudflareDnsSettings {
  return {
    apiToken: fake.token,
    zoneId: fake.zone().id,
    zoneName: 'example.dev',
    target: { type: 'CNAME', content: 'ingress.example.dev' },
    proxied: true,
    baseURL: fake.url,
    timeoutMs: 2_000,
    ...extra,
  };
}

const resource = (extra: Partial<CloudflareDnsSettings> = {}) =>
  dnsResource(cloudflareDnsProvider(settings(extra)));
const dns = (d: Record<string, unknown> = {}, options: Parameters<typeof liveProject>[1] = {}) =>
  liveProject({ dns: { enabled: true, ...d } }, options);
const table = () =>
  fake.records().map((r) => `${r.type} ${r.name} ${r.content}${r.comment ? ` [${r.comment}]` : ''}`);
const writes = () => fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.status}`);

/** Reconciles until the condition is True (at most `max` times), returning the Project as recorded. */
async function converge(project: LiveProject, extra: Partial<CloudflareDnsSettings> = {}, max = 5) {
  let current = project;
  for (let i = 0; i < max; i++) {
    const out = await reconcile(resource(extra), current, 'dns');
    current = out.project;
    if (out.outcome.condition?.status === 'True') return current;
  }
  throw new Error('did not converge');
}

describe('Cloudflare DNS provider', () => {
  it('creates a marked record per host name, records the ids, then only observes', async () => {
    const project = dns({ aliases: ['www.shop.example.dev'] });
    const marker = ownerMarker(project);
    const first = await reconcile(resource(), project, 'dns');
    expect(first.outcome.condition).toMatchObject({
      type: 'DNSReady',
      status: 'True',
      message: 'DNS for shop.example.dev, www.shop.example.dev is ready',
    });
    expect(table()).toEqual([
      `CNAME shop.example.dev ingress.example.dev [${marker}]`,
      `CNAME www.shop.example.dev ingress.example.dev [${marker}]`,
    ]);
    expect(fake.records().every((r) => r.proxied && r.ttl === 1)).toBe(true);
    const ids = first.outcome.ids;
    expect(ids?.hostnames).toEqual(['shop.example.dev', 'www.shop.example.dev']);
    expect(ids?.records).toEqual(fake.records().map((r) => ({ id: r.id, name: r.name, type: 'CNAME' })));
    expect(first.project.status?.dns).toEqual(ids);

    fake.requests.length = 0;
    const second = await reconcile(resource(), first.project, 'dns');
    expect(second.outcome.condition?.status).toBe('True');
    expect(second.outcome.ids).toEqual(ids);
    expect(writes()).toEqual([]);
  });

  it('follows the spec: a new subdomain and alias are made, dropped names deleted, the target changed in place', async () => {
    let project = await converge(dns({ aliases: ['old.example.dev'] }));
    project = {
      ...project,
      spec: { ...project.spec, dns: { enabled: true, subdomain: 'store', aliases: ['new.example.dev'] } },
    };
    project = await converge(project);
    expect(fake.records().map((r) => r.name)).toEqual(['new.example.dev', 'store.example.dev']);
    expect(project.status?.dns?.hostnames).toEqual(['store.example.dev', 'new.example.dev']);

    const before = fake.records().map((r) => r.id);
    project = await converge(project, { target: { type: 'A', content: '192.0.2.10' }, proxied: false });
    expect(fake.records().map((r) => r.id)).toEqual(before);
    expect(table()).toEqual([
      `A new.example.dev 192.0.2.10 [${ownerMarker(project)}]`,
      `A store.example.dev 192.0.2.10 [${ownerMarker(project)}]`,
    ]);
    expect(project.status?.dns?.records?.map((r) => r.type)).toEqual(['A', 'A']);
  });

  it('never takes a name held by someone else, and says whose it is not', async () => {
    fake.seed({ type: 'A', name: 'shop.example.dev', content: '198.51.100.1' });
    fake.seed({
      type: 'CNAME',
      name: 'www.example.dev',
      content: 'elsewhere.example.net',
      comment: 'made by hand',
    });
    const out = await reconcile(resource(), dns({ subdomain: 'shop', aliases: ['www.example.dev'] }), 'dns');
    expect(out.outcome.condition).toMatchObject({
      status: 'False',
      reason: 'ProvisioningFailed',
      message: expect.stringMatching(
        /^DNS name shop\.example\.dev, www\.example\.dev already has a record that belongs to someone else/,
      ),
    });
    expect(table()).toEqual([
      'A shop.example.dev 198.51.100.1',
      'CNAME www.example.dev elsewhere.example.net [made by hand]',
    ]);
    expect(writes()).toEqual([]);
  });

  it('gives an automatic name a hash suffix when the plain one is taken, and keeps it afterwards', async () => {
    const foreign = fake.seed({ type: 'CNAME', name: 'shop.example.dev', content: 'someone.example.net' });
    const project = await converge(dns());
    const suffixed = `shop-${shortHash('team/shop')}.example.dev`;
    expect(autoLabels(project).fallback).toBe(`shop-${shortHash('team/shop')}`);
    expect(project.status?.dns?.hostnames).toEqual([suffixed]);

    fake.remove(foreign.id);
    const again = await converge(project);
    expect(again.status?.dns?.hostnames).toEqual([suffixed]);

    // same name in another namespace: another automatic name, never the first Project's
    const twin = await converge(dns({}, { namespace: 'other', uid: '6f1c2d9e-0000-4000-8000-000000000002' }));
    expect(twin.status?.dns?.hostnames).toEqual(['shop.example.dev']);
    const third = await converge(
      dns({}, { namespace: 'third', uid: '6f1c2d9e-0000-4000-8000-000000000003' }),
    );
    expect(third.status?.dns?.hostnames).toEqual([`shop-${shortHash('third/shop')}.example.dev`]);
  });

  it('refuses aliases outside the zone', async () => {
    const out = await reconcile(resource(), dns({ aliases: ['www.shop.example.com'] }), 'dns');
    expect(out.outcome.condition?.message).toBe(
      'alias www.shop.example.com is not in the DNS zone example.dev: only names in that zone can be made',
    );
  });

  it('adopts a record whose creation answer was lost, without making a second one', async () => {
    fake.faults.next(1, { status: 500 }, { method: 'POST', afterEffect: true });
    const failed = await reconcile(resource(), dns(), 'dns');
    expect(failed.outcome.condition).toMatchObject({
      status: 'False',
      message: expect.stringContaining('HTTP 500'),
    });
    expect(failed.project.status?.dns?.records ?? []).toEqual([]);
    const retried = await reconcile(resource(), failed.project, 'dns');
    expect(retried.outcome.condition?.status).toBe('True');
    expect(retried.project.status?.dns?.records).toEqual([
      { id: fake.records()[0]?.id, name: 'shop.example.dev', type: 'CNAME' },
    ]);
    expect(writes()).toEqual(['POST 500']);
  });

  it('adopts its own record when another replica made it meanwhile (81057), and refuses a stranger’s', async () => {
    const project = dns();
    const marker = ownerMarker(project);
    const raceOnce = (input: Parameters<FakeCloudflare['seed']>[0]) => {
      fake.onRequest = (r) => {
        if (r.method !== 'POST') return;
        fake.onRequest = undefined;
        fake.seed(input);
      };
    };
    raceOnce({
      type: 'CNAME',
      name: 'shop.example.dev',
      content: 'ingress.example.dev',
      comment: marker,
      proxied: true,
    });
    const adopted = await reconcile(resource(), project, 'dns');
    expect(adopted.outcome.condition?.status).toBe('True');
    expect(fake.records()).toHaveLength(1);
    expect(writes()).toEqual(['POST 400']);

    const other = dns({}, { name: 'blog' });
    raceOnce({ type: 'A', name: 'blog.example.dev', content: '198.51.100.2' });
    const refused = await reconcile(resource(), other, 'dns');
    expect(refused.outcome.condition?.message).toMatch(
      /^DNS name blog\.example\.dev already has a record that belongs to someone else/,
    );
  });

  it('recovers from 500, 429 with Retry-After and a hung request, reporting each', async () => {
    fake.faults.next(1, { status: 500 });
    fake.faults.next(1, { status: 429, retryAfterSeconds: 30 });
    fake.faults.next(1, { hang: true });
    let project = dns();
    const messages: string[] = [];
    for (let i = 0; i < 4; i++) {
      const out = await reconcile(resource({ timeoutMs: 200 }), project, 'dns');
      project = out.project;
      messages.push(`${out.outcome.condition?.status} ${out.outcome.condition?.message}`);
    }
    expect(messages).toEqual([
      'False Cloudflare list of records: HTTP 500 injected 500 (1500)',
      'False Cloudflare list of records: HTTP 429 Please wait and consider throttling your request speed (971)',
      'False Cloudflare list of records: no answer within 200 ms',
      'True DNS for shop.example.dev is ready',
    ]);
    expect(fake.records()).toHaveLength(1);
  });

  it('reports NotConfigured without settings, and with settings read from a function works as well', async () => {
    const none = await reconcile(dnsResource(cloudflareDnsProvider(undefined)), dns(), 'dns');
    expect(none.outcome.condition).toMatchObject({ status: 'False', reason: 'NotConfigured' });
    const lazy = await reconcile(dnsResource(cloudflareDnsProvider(async () => settings())), dns(), 'dns');
    expect(lazy.outcome.condition?.status).toBe('True');
  });
});

describe('Cloudflare DNS provider: deletion', () => {
  it('deletes its records, recorded or not, and nothing else', async () => {
    fake.seed({ type: 'TXT', name: 'shop.example.dev', content: 'verification=1' });
    fake.seed({ type: 'A', name: 'other.example.dev', content: '198.51.100.3' });
    const project = await converge(dns({ aliases: ['www.shop.example.dev'] }));
    // a record made by an attempt that crashed before recording it
    fake.seed({
      type: 'CNAME',
      name: 'stray.example.dev',
      content: 'x.example.net',
      comment: ownerMarker(project),
    });
    await finalizeExternal(resource(), project, signal);
    expect(table()).toEqual(['A other.example.dev 198.51.100.3', 'TXT shop.example.dev verification=1']);
    await finalizeExternal(resource(), project, signal); // already gone: fine
  });

  it('treats a record deleted behind its back as gone, and leaves one taken over by someone else', async () => {
    const project = await converge(dns({ aliases: ['www.shop.example.dev'] }));
    const [first, second] = project.status?.dns?.records ?? [];
    fake.remove(first?.id ?? '');
    // someone re-labelled the second record as theirs (changed its comment)
    const taken = fake.records().find((r) => r.id === second?.id);
    fake.remove(second?.id ?? '');
    fake.seed({ type: 'CNAME', name: taken?.name ?? '', content: 'theirs.example.net', comment: 'mine now' });
    await cloudflareDnsProvider(settings()).delete(dnsIds(project), {
      project,
      signal,
      rotatePassword: false,
    });
    expect(table()).toEqual(['CNAME www.shop.example.dev theirs.example.net [mine now]']);
  });

  it('deletes when the Project disables DNS, and fails loudly (not "already gone") on a wrong zone', async () => {
    const project = await converge(dns());
    const disabled: LiveProject = { ...project, spec: { ...project.spec, dns: { enabled: false } } };
    const out = await reconcile(resource(), disabled, 'dns');
    expect(out.outcome).toEqual({ ids: undefined });
    expect(fake.records()).toEqual([]);

    const again = await converge(dns());
    await expect(finalizeExternal(resource({ zoneId: '0'.repeat(32) }), again, signal)).rejects.toThrow(
      /HTTP 404 Could not route/,
    );
    expect(fake.records()).toHaveLength(1);
  });
});

describe('ownerMarker', () => {
  it('names namespace, name and uid, and stays unique within 100 characters', () => {
    const p = (namespace: string, name: string, uid = 'u-1') => dns({}, { namespace, name, uid });
    expect(ownerMarker(p('team', 'shop'))).toBe('rdev:team/shop uid=u-1');
    const long = ownerMarker(p('n'.repeat(63), 'p'.repeat(63), '6f1c2d9e-0000-4000-8000-000000000001'));
    expect(long.length).toBeLessThanOrEqual(100);
    expect(long).not.toBe(
      ownerMarker(p('n'.repeat(63), 'p'.repeat(63), '6f1c2d9e-0000-4000-8000-000000000002')),
    );
  });
});
