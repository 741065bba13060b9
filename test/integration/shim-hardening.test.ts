// The shim's hardening against keys that try to reach further than they were given: revocation
// cascades to the keys a key minted, listings show only what a key reaches (and never a URL's
// credentials), writes stay out of system and unserved namespaces, webhooks need the read scope
// of what they deliver, the bootstrap key follows its Secret, and streams per key are capped —
// against the real API server.
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createShim } from '../../api-shim/src/shim.ts';
import { createLogger } from '../../operator/src/runtime/logging.ts';
import { webhookSecretName } from '../../operator/src/shared/webhook-subscription.ts';
import { installCrds } from './support/crds.ts';
import { createSecret, eventually, isGone, kubeConfig, useNamespace } from './support/kube.ts';
import { useShim } from './support/shim.ts';

const ns = useNamespace('rdev-shim-hard');
const shim = useShim(() => ns.name, {
  extra: { maxStreamsPerKey: 2, connectionTimeoutSeconds: 1, maxObjectsPerProject: 2 },
});
const core = () => kubeConfig().makeApiClient(CoreV1Api);

interface Made {
  id: string;
  key: string;
}

/** Makes a key with `by` (default: the admin key) and waits until the shim knows it. */
async function mint(scopes: string[], extra: Record<string, unknown> = {}, by?: string): Promise<Made> {
  const answer = await shim.call<Made>('POST', '/keys', {
    key: by,
    body: { name: `hard ${scopes.join(' ')}`.slice(0, 63), scopes, ...extra },
  });
  if (answer.status !== 201 || !answer.body.data) throw new Error(JSON.stringify(answer.body));
  const made = answer.body.data;
  await eventually(() => shim.shim.context.keys.get(made.id), { timeoutMs: 10_000, intervalMs: 20 });
  return { id: made.id, key: made.key };
}

const statusWith = async (key: string, path = '/projects') => (await shim.call('GET', path, { key })).status;

beforeAll(async () => {
  await installCrds(kubeConfig());
  const made = await shim.call('POST', '/projects', { body: { name: 'shop', spec: {} } });
  if (made.status !== 201) throw new Error(JSON.stringify(made.body));
});

describe('revocation', () => {
  it('revoking a key revokes the keys it minted, transitively', async () => {
    const scopes = ['keys:read', 'keys:write', 'projects:read'];
    const parent = await mint(scopes);
    const child = await mint(scopes, {}, parent.key);
    const grandchild = await mint(['projects:read'], {}, child.key);
    for (const k of [parent, child, grandchild]) expect(await statusWith(k.key)).toBe(200);

    expect((await shim.call('DELETE', `/keys/${parent.id}`)).status).toBe(202);
    for (const k of [parent, child, grandchild]) {
      await eventually(async () => (await statusWith(k.key)) === 401, { timeoutMs: 1000, intervalMs: 20 });
    }
    for (const k of [child, grandchild]) {
      await eventually(() =>
        isGone(() => core().readNamespacedSecret({ namespace: ns.name, name: `rdev-key-${k.id}` })),
      );
    }
  });

  it("a revoked key's webhook subscriptions go with it, and those of the keys it minted", async () => {
    const scopes = ['keys:write', 'webhooks:write', 'work:read'];
    const parent = await mint(scopes);
    const child = await mint(scopes, {}, parent.key);
    const subscribe = async (key: string) => {
      const answer = await shim.call<{ id: string }>('POST', '/webhooks', {
        key,
        body: { url: 'http://hooks.example.com/x', events: ['workitem.*'] },
      });
      if (answer.status !== 201 || !answer.body.data) throw new Error(JSON.stringify(answer.body));
      return webhookSecretName(answer.body.data.id);
    };
    const subscriptions = [await subscribe(parent.key), await subscribe(child.key)];
    const kept = await subscribe(shim.adminKey);
    // While the keys stand, the garbage collector keeps their subscriptions (it finds the owners).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const name of [...subscriptions, kept])
      await core().readNamespacedSecret({ namespace: ns.name, name });

    expect((await shim.call('DELETE', `/keys/${parent.id}`)).status).toBe(202);
    for (const name of subscriptions) {
      await eventually(() => isGone(() => core().readNamespacedSecret({ namespace: ns.name, name })), {
        timeoutMs: 60_000,
      });
    }
    await core().readNamespacedSecret({ namespace: ns.name, name: kept });
  });

  it('a minted key whose creator is gone is refused, even while its own Secret remains', async () => {
    const parent = await mint(['keys:write', 'projects:read']);
    const child = await mint(['projects:read'], {}, parent.key);
    expect(await statusWith(child.key)).toBe(200);
    // Deleted behind the shim's back (as a crash mid-cascade would leave it): no cascade ran.
    await core().deleteNamespacedSecret({ namespace: ns.name, name: `rdev-key-${parent.id}` });
    await eventually(async () => (await statusWith(child.key)) === 401, { timeoutMs: 1000, intervalMs: 20 });
    expect(shim.shim.context.keys.get(child.id)).toBeDefined();
  });
});

describe('listings show only what a key reaches', () => {
  it('a key sees itself and the keys it (or they) minted; admins see all, the bootstrap key included', async () => {
    const a = await mint(['keys:read', 'keys:write', 'projects:read'], { namespaces: [ns.name] });
    const aChild = await mint(['keys:read', 'projects:read'], {}, a.key);
    const stranger = await mint(['keys:read', 'projects:read'], { namespaces: [ns.name] });
    const seen = await shim.call<{ id: string }[]>('GET', '/keys', { key: a.key });
    expect(seen.status).toBe(200);
    expect(seen.body.data?.map((k) => k.id).sort()).toEqual([a.id, aChild.id].sort());
    expect((await shim.call('GET', `/keys/${stranger.id}`, { key: a.key })).status).toBe(404);
    expect((await shim.call('GET', '/keys/bootstrap', { key: a.key })).status).toBe(404);
    expect((await shim.call('DELETE', `/keys/${stranger.id}`, { key: a.key })).status).toBe(404);
    expect(await statusWith(stranger.key)).toBe(200);
    // A child does not see its creator.
    const childView = await shim.call<{ id: string }[]>('GET', '/keys', { key: aChild.key });
    expect(childView.body.data?.map((k) => k.id)).toEqual([aChild.id]);

    const all = (await shim.call<{ id: string; scopes: string[] }[]>('GET', '/keys')).body.data ?? [];
    expect(all.map((k) => k.id)).toEqual(expect.arrayContaining([a.id, aChild.id, stranger.id, 'bootstrap']));
    expect(all.find((k) => k.id === 'bootstrap')?.scopes).toEqual(['admin']);
  });

  it('webhooks of other keys are not shown, and a URL’s credentials never are', async () => {
    const url = 'http://user:pa55word@hooks.example.com/hook?token=s3cret&mode=full';
    const theirs = await shim.call<{ id: string; url: string }>('POST', '/webhooks', {
      body: { url, events: ['workitem.*'] },
    });
    expect(theirs.status).toBe(201);
    const id = theirs.body.data?.id as string;
    for (const answer of [
      theirs,
      await shim.call('GET', `/webhooks/${id}`),
      await shim.call('GET', '/webhooks'),
    ]) {
      const text = JSON.stringify(answer.body);
      expect(text).not.toContain('pa55word');
      expect(text).not.toContain('user:');
      expect(text).not.toContain('s3cret');
    }
    expect((await shim.call<{ url: string }>('GET', `/webhooks/${id}`)).body.data?.url).toBe(
      'http://hooks.example.com/hook?token=…&mode=…',
    );

    const other = await mint(['webhooks:write', 'work:read']);
    const mine = await shim.call<{ id: string }>('POST', '/webhooks', {
      key: other.key,
      body: { url: 'http://hooks.example.com/other', events: ['workitem.*'] },
    });
    expect(mine.status).toBe(201);
    const list = await shim.call<{ id: string }[]>('GET', '/webhooks', { key: other.key });
    expect(list.body.data?.map((w) => w.id)).toEqual([mine.body.data?.id]);
    expect((await shim.call('GET', `/webhooks/${id}`, { key: other.key })).status).toBe(404);
    expect((await shim.call('DELETE', `/webhooks/${id}`, { key: other.key })).status).toBe(404);
  });

  it('/workers/pool counts only the WorkItems the key reaches', async () => {
    const made = await shim.call('POST', '/projects/shop/work', {
      body: { name: 'pool-w', spec: { type: 'shell', command: ['true'] } },
    });
    expect(made.status).toBe(201);
    await eventually(() => shim.shim.context.cache.kinds.WorkItem.store.get(`${ns.name}/pool-w`));
    const pool = async (key?: string) =>
      (await shim.call<{ queued: number }>('GET', '/workers/pool', { key })).body.data?.queued;
    expect(await pool()).toBeGreaterThanOrEqual(1);
    const elsewhere = await mint(['work:read'], { projects: ['blog'] });
    expect(await pool(elsewhere.key)).toBe(0);
  });
});

describe('objects per Project', () => {
  it('are created up to --max-objects-per-project of each kind, then refused until one goes', async () => {
    expect((await shim.call('POST', '/projects', { body: { name: 'busy', spec: {} } })).status).toBe(201);
    const post = (name: string, kind = 'work') =>
      shim.call('POST', `/projects/busy/${kind}`, {
        body: { name, ...(kind === 'work' ? { spec: { type: 'shell', command: ['true'] } } : {}) },
      });
    const items = shim.shim.context.cache.kinds.WorkItem.store;
    for (const name of ['busy-1', 'busy-2']) {
      expect((await post(name)).status).toBe(201);
      await eventually(() => items.get(`${ns.name}/${name}`));
    }
    const third = await post('busy-3');
    expect(third.status).toBe(403);
    expect(third.body.error?.message).toContain('has 2 WorkItems');
    expect(third.body.error?.message).toContain('--max-objects-per-project=2');
    // Each kind is counted alone.
    expect((await post('busy-s', 'sessions')).status).toBe(201);

    expect((await shim.call('DELETE', '/work/busy-1')).status).toBe(202);
    await eventually(async () => (await post('busy-3')).status === 201);
  });
});

describe('namespaces a key may write to', () => {
  it('are served ones only, never a system namespace', async () => {
    const key = (await mint(['projects:write'], { projects: ['shop2'] })).key;
    for (const target of ['kube-system', 'kube-public', 'kube-node-lease', 'default', 'rdev-unserved']) {
      const answer = await shim.call('POST', `/projects?namespace=${target}`, {
        key,
        body: { name: 'shop2', spec: {} },
      });
      expect(answer.status, target).toBe(403);
      expect(answer.body.error?.message, target).toContain(target);
    }
    const ok = await shim.call('POST', `/projects?namespace=${ns.name}`, {
      key,
      body: { name: 'shop2', spec: {} },
    });
    expect(ok.status).toBe(201);
  });
});

describe('webhook subscriptions', () => {
  it('need the read scope of every kind they deliver', async () => {
    const bare = await mint(['webhooks:write']);
    const everything = await shim.call('POST', '/webhooks', {
      key: bare.key,
      body: { url: 'http://hooks.example.com/x', events: ['*'] },
    });
    expect(everything.status).toBe(403);
    expect(everything.body.error?.message).toContain('projects:read');
    const work = await shim.call('POST', '/webhooks', {
      key: bare.key,
      body: { url: 'http://hooks.example.com/x', events: ['workitem.succeeded'] },
    });
    expect(work.status).toBe(403);
    expect(work.body.error?.message).toContain('work:read');

    const reader = await mint(['webhooks:write', 'work:read']);
    const allowed = await shim.call('POST', '/webhooks', {
      key: reader.key,
      body: { url: 'http://hooks.example.com/x', events: ['workitem.*'] },
    });
    expect(allowed.status).toBe(201);
    const wider = await shim.call('POST', '/webhooks', {
      key: reader.key,
      body: { url: 'http://hooks.example.com/x', events: ['workitem.*', 'checkout.active'] },
    });
    expect(wider.status).toBe(403);
    expect(wider.body.error?.message).toContain('projects:read');
  });
});

describe('streams', () => {
  it('are capped per key (429 with Retry-After), and outlive the idle connection timeout', async () => {
    const holder = await mint(['projects:read']);
    const open = () => fetch(`${shim.url}/events`, { headers: { authorization: `Bearer ${holder.key}` } });
    const first = await open();
    const second = await open();
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await open();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await third.text();
    // Another key is not held back.
    const otherKey = (await mint(['projects:read'])).key;
    const other = await fetch(`${shim.url}/events`, { headers: { authorization: `Bearer ${otherKey}` } });
    expect(other.status).toBe(200);
    await other.body?.cancel();

    // Longer than the idle connection timeout (1 s here) without an event: the stream stays open.
    const reader = first.body?.getReader();
    expect((await reader?.read())?.done).toBe(false); // retry:
    await new Promise((r) => setTimeout(r, 2500));
    const next = await Promise.race([
      reader?.read().then(
        (r) => (r.done ? 'closed' : 'data'),
        () => 'closed',
      ),
      new Promise((r) => setTimeout(() => r('open'), 500)),
    ]);
    expect(next).toBe('open');
    await reader?.cancel();

    await second.body?.cancel();
    await eventually(async () => {
      const again = await open();
      const ok = again.status === 200;
      await again.body?.cancel();
      return ok;
    });
  });

  it('a request refused before its body arrived closes its connection; an idle one is closed', async () => {
    const { connect } = await import('node:net');
    const url = new URL(shim.url);
    const socket = connect(Number(url.port), url.hostname);
    socket.write(
      'POST /projects HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{',
    );
    socket.resume();
    const closed = await new Promise<boolean>((resolve) => {
      socket.on('close', () => resolve(true));
      socket.on('error', () => undefined);
      setTimeout(() => resolve(false), 5000);
    });
    socket.destroy();
    expect(closed).toBe(true);
    // Headers never finished: closed once the connection idled for its timeout (1 s here).
    const idle = connect(Number(url.port), url.hostname);
    idle.write('GET /projects HTTP/1.1\r\nhost: x\r\n');
    const started = Date.now();
    idle.resume();
    const idleClosed = await new Promise<boolean>((resolve) => {
      idle.on('close', () => resolve(true));
      idle.on('error', () => undefined);
      setTimeout(() => resolve(false), 5000);
    });
    idle.destroy();
    expect(idleClosed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('the bootstrap key', () => {
  it('is listed when it comes from the environment', async () => {
    const answer = await shim.call<{ id: string }>('GET', '/keys/bootstrap');
    expect(answer.status).toBe(200);
    expect(answer.body.data?.id).toBe('bootstrap');
  });

  it('follows its Secret: replaced, the old key is refused; deleted, refused within a second', async () => {
    const first = `rdev_${'a'.repeat(43)}`;
    const second = `rdev_${'b'.repeat(43)}`;
    await createSecret(ns.name, 'boot', { key: first });
    const other = await createShim(
      kubeConfig(),
      {
        namespace: ns.name,
        namespaces: [ns.name],
        defaultNamespace: ns.name,
        workerNamespace: ns.name,
        rateLimit: 1000,
        rateBurst: 1000,
        bodyLimit: 64 * 1024,
        trustProxy: 'false',
        bootstrapKeySecret: 'boot',
      },
      createLogger({ level: 'silent', name: 'rdev-shim' }),
    );
    try {
      const url = await other.app.listen({ host: '127.0.0.1', port: 0 });
      await other.context.cache.waitForSync();
      const status = async (key: string, path = '/projects') =>
        (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } })).status;
      await eventually(async () => (await status(first)) === 200, { timeoutMs: 5000, intervalMs: 50 });
      const keys = await fetch(`${url}/keys`, { headers: { authorization: `Bearer ${first}` } });
      expect(((await keys.json()) as { data: { id: string }[] }).data.map((k) => k.id)).toContain(
        'bootstrap',
      );

      await core().replaceNamespacedSecret({
        namespace: ns.name,
        name: 'boot',
        body: { metadata: { name: 'boot' }, stringData: { key: second } },
      });
      await eventually(async () => (await status(first)) === 401 && (await status(second)) === 200, {
        timeoutMs: 2000,
        intervalMs: 20,
      });
      await core().deleteNamespacedSecret({ namespace: ns.name, name: 'boot' });
      await eventually(async () => (await status(second)) === 401, { timeoutMs: 1000, intervalMs: 20 });
    } finally {
      await other.close();
    }
  });
});
