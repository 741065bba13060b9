// Features through the shim against the real API server: created and read over REST, their
// artifacts written to status as the Feature controller will (here by the test, through the
// status subresource), approved, rejected and waived by API keys bound to the artifact's digest,
// with concurrent approvals all kept; and their phase transitions on /events and in webhooks
// (delivered by the operator's webhook delivery, running alone: no controller moves Features yet).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES } from '../../operator/src/api/resources.ts';
import { loadConfig } from '../../operator/src/config.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { createLogger } from '../../operator/src/runtime/logging.ts';
import { Manager } from '../../operator/src/runtime/manager.ts';
import { SECRETS } from '../../operator/src/runtime/resources.ts';
import { subscriptionSecret } from '../../operator/src/shared/webhook-subscription.ts';
import { registerWebhookDelivery } from '../../operator/src/webhooks/index.ts';
import { verifySignature } from '../../operator/src/webhooks/signature.ts';
import { installCrds } from './support/crds.ts';
import { eventually, kubeConfig, useNamespace } from './support/kube.ts';
import { useReceiver } from './support/receiver.ts';
import { readEvents, type SseEvent, useShim } from './support/shim.ts';

interface Decision {
  artifact: string;
  digest: string;
  by: string;
  reason?: string;
}
interface FeatureView {
  name: string;
  project: string;
  annotations: Record<string, string>;
  spec: { title: string; approvals: Decision[]; rejections: Decision[]; waivers: Omit<Decision, 'digest'>[] };
  status: { phase?: string };
}

const SPEC_SHA = '1111111111111111111111111111111111111111';
const NEW_SHA = '2222222222222222222222222222222222222222';
const HOOK_KEY = 'feature-hook-hmac-key';

// The webhook delivery's manager stops after the namespace is gone: hooks run last-registered first.
const state: { delivery?: Manager } = {};
afterAll(() => state.delivery?.stop());
const ns = useNamespace('rdev-shim-features');
// The CRDs first: the shim's caches wait for every kind's list.
beforeAll(() => installCrds(kubeConfig()));
const shim = useShim(() => ns.name, { webhookAllowCIDRs: ['127.0.0.1/32'] });
const receiver = useReceiver(() => 200);
const client = new KubeClient(kubeConfig());

/** Writes status as the Feature controller would: a merge patch of the status subresource. */
const setStatus = (name: string, status: Record<string, unknown>) =>
  client.patch(FEATURES, ns.name, name, { status }, 'merge', {}, 'status');

interface StoredFeature {
  metadata: { resourceVersion: string };
  spec: FeatureView['spec'];
}
const read = async (name: string) => (await client.get(FEATURES, ns.name, name)) as unknown as StoredFeature;

/** The events /events sends `key` until `stop` resolves; then the stream is closed. */
async function eventsUntil(key: string, stop: Promise<unknown>): Promise<SseEvent[]> {
  const abort = new AbortController();
  const response = await fetch(`${shim.url}/events`, {
    headers: { authorization: `Bearer ${key}` },
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  const got: SseEvent[] = [];
  const reading = readEvents(response, (events) => {
    got.splice(0, got.length, ...events);
    return false;
  }).catch(() => got);
  await stop;
  abort.abort();
  await reading;
  return got;
}

beforeAll(async () => {
  const project = await shim.call('POST', '/projects', { body: { name: 'shop', spec: {} } });
  expect(project.status, JSON.stringify(project.body)).toBe(201);
  // Subscribed before any Feature has a phase; the operator's delivery reads it as it starts.
  await client.create(
    SECRETS,
    subscriptionSecret({
      id: 'feeeeeeeeee1',
      namespace: ns.name,
      url: `${receiver.url}/features`,
      secret: HOOK_KEY,
      events: ['feature.*'],
    }),
  );
  const config = loadConfig(
    [
      `--namespace=${ns.name}`,
      `--shim-namespace=${ns.name}`,
      '--webhook-backoff-seconds=0.2',
      // The receiver is on loopback, a range deliveries are refused by default.
      '--webhook-allow-cidrs=127.0.0.1/32',
    ],
    {},
  );
  const manager = new Manager({
    kubeConfig: kubeConfig(),
    name: 'rdev-operator',
    namespaces: [ns.name],
    log: createLogger({ level: process.env.RDEV_TEST_LOG_LEVEL ?? 'silent', name: 'rdev-operator' }),
  });
  registerWebhookDelivery(manager, config);
  await manager.start();
  state.delivery = manager;
});

describe('Features over REST', () => {
  it('are created under their Project and read back, by whoever the key is', async () => {
    const created = await shim.call<FeatureView>('POST', '/projects/shop/features', {
      body: { name: 'login', spec: { title: 'Log in with a passkey', description: 'No passwords.' } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.data).toMatchObject({
      name: 'login',
      project: 'shop',
      spec: { title: 'Log in with a passkey', approvals: [], waivers: [] },
    });
    expect(created.body.data?.annotations['rdev.dev/created-by-key']).toBe('bootstrap');
    const got = await eventually(async () => {
      const answer = await shim.call<FeatureView>('GET', '/features/login');
      return answer.status === 200 && answer.body.data;
    });
    expect(got.spec.title).toBe('Log in with a passkey');
    const list = await shim.call<FeatureView[]>('GET', '/projects/shop/features');
    expect(list.body.data?.map((f) => f.name)).toEqual(['login']);
  });

  it('refuses decisions in a create, and a Feature of a Project that does not exist', async () => {
    const decided = await shim.call('POST', '/projects/shop/features', {
      body: { spec: { title: 'x', approvals: [{ artifact: 'spec', digest: SPEC_SHA, by: 'me' }] } },
    });
    expect(decided.status).toBe(400);
    expect(JSON.stringify(decided.body.error?.details)).toContain('body.spec.approvals');
    const orphan = await shim.call('POST', '/projects/nowhere/features', { body: { spec: { title: 'x' } } });
    expect(orphan.status).toBe(404);
  });

  it('approves an artifact at its current digest, recording the key', async () => {
    await setStatus('login', {
      phase: 'draft',
      artifacts: [
        { type: 'spec', status: 'draft', path: 'features/login/spec.md', digest: SPEC_SHA },
        { type: 'design', status: 'missing', path: 'features/login/design.md' },
      ],
    });
    const key = await shim.key(['features:write', 'features:read']);
    const approved = await shim.call<FeatureView>('POST', '/features/login/approve', {
      key,
      body: { artifact: 'spec', digest: SPEC_SHA, reason: 'reads well' },
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const stored = await read('login');
    expect(stored.spec.approvals).toEqual([
      {
        artifact: 'spec',
        digest: SPEC_SHA,
        by: expect.stringMatching(/^test features:write .* \(key [a-z0-9]+\)$/),
        reason: 'reads well',
      },
    ]);
    expect(approved.body.data?.spec.approvals).toEqual(stored.spec.approvals);

    // Sent again: nothing is written.
    const before = stored.metadata.resourceVersion;
    const again = await shim.call<FeatureView>('POST', '/features/login/approve', {
      key,
      body: { artifact: 'spec', digest: SPEC_SHA, reason: 'reads well' },
    });
    expect(again.status).toBe(200);
    const after = await read('login');
    expect(after.metadata.resourceVersion).toBe(before);
    expect(after.spec.approvals).toHaveLength(1);
  });

  it('refuses a stale digest (409, naming the current one), an artifact not written yet (409) and an unknown one (400)', async () => {
    const stale = await shim.call('POST', '/features/login/approve', {
      body: { artifact: 'spec', digest: NEW_SHA },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error?.message).toContain(SPEC_SHA);
    const missing = await shim.call('POST', '/features/login/reject', {
      body: { artifact: 'design', digest: NEW_SHA },
    });
    expect(missing.status).toBe(409);
    expect(missing.body.error?.message).toContain('does not exist yet');
    const unknown = await shim.call('POST', '/features/login/approve', {
      body: { artifact: 'readme', digest: SPEC_SHA },
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.error?.details)).toContain('body.artifact');
    const badDigest = await shim.call('POST', '/features/login/approve', {
      body: { artifact: 'spec', digest: 'HEAD' },
    });
    expect(badDigest.status).toBe(400);
    expect(JSON.stringify(badDigest.body.error?.details)).toContain('body.digest');
  });

  it('rejects at the new digest once the artifact changed', async () => {
    await setStatus('login', {
      artifacts: [{ type: 'spec', status: 'draft', path: 'features/login/spec.md', digest: NEW_SHA }],
    });
    const rejected = await shim.call<FeatureView>('POST', '/features/login/reject', {
      body: { artifact: 'spec', digest: NEW_SHA, reason: 'say who may log in' },
    });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    expect((await read('login')).spec.rejections).toEqual([
      { artifact: 'spec', digest: NEW_SHA, by: 'bootstrap (key bootstrap)', reason: 'say who may log in' },
    ]);
    // The approval of the older version stays: it is bound to that digest.
    expect((await read('login')).spec.approvals.map((a) => a.digest)).toEqual([SPEC_SHA]);
  });

  it('keeps every one of many approvals made at once', async () => {
    const keys = await Promise.all([1, 2, 3, 4, 5, 6].map(() => shim.key(['features:write'])));
    const answers = await Promise.all(
      keys.map((key) =>
        shim.call('POST', '/features/login/approve', { key, body: { artifact: 'spec', digest: NEW_SHA } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(keys.map(() => 200));
    const approvals = (await read('login')).spec.approvals.filter((a) => a.digest === NEW_SHA);
    expect(approvals).toHaveLength(keys.length);
    expect(new Set(approvals.map((a) => a.by)).size).toBe(keys.length);
  });

  it('waives an artifact once', async () => {
    const waived = await shim.call('POST', '/features/login/waive', {
      body: { artifact: 'qa_plan', reason: 'a one-line change' },
    });
    expect(waived.status, JSON.stringify(waived.body)).toBe(200);
    const again = await shim.call('POST', '/features/login/waive', {
      body: { artifact: 'qa_plan', reason: 'said twice' },
    });
    expect(again.status).toBe(200);
    expect((await read('login')).spec.waivers).toEqual([
      { artifact: 'qa_plan', by: 'bootstrap (key bootstrap)', reason: 'a one-line change' },
    ]);
  });

  it('needs features:write to decide, and the Feature’s namespace to see it', async () => {
    const reader = await shim.key(['features:read', 'work:write', 'projects:write']);
    const refused = await shim.call('POST', '/features/login/approve', {
      key: reader,
      body: { artifact: 'spec', digest: NEW_SHA },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toContain('features:write');
    expect((await shim.call('GET', '/features/login', { key: reader })).status).toBe(200);

    const elsewhere = await shim.key(['features:read', 'features:write'], { namespaces: ['elsewhere'] });
    expect((await shim.call('GET', '/features/login', { key: elsewhere })).status).toBe(404);
    const waive = await shim.call('POST', '/features/login/waive', {
      key: elsewhere,
      body: { artifact: 'audit', reason: 'x' },
    });
    expect(waive.status).toBe(404);
    const named = await shim.call('GET', `/features/login?namespace=${ns.name}`, { key: elsewhere });
    expect(named.status).toBe(403);
    // In the key's own namespace there is no Project shop to list the Features of.
    const list = await shim.call<FeatureView[]>('GET', `/projects/shop/features`, { key: elsewhere });
    expect(list.status).toBe(404);
    expect(list.body.data).toBeUndefined();
  });
});

describe('Feature phase transitions', () => {
  it('reach /events as feature.<phase> and webhooks as the same event', async () => {
    const stream = await fetch(`${shim.url}/events?kind=Feature`, {
      headers: { authorization: `Bearer ${shim.adminKey}` },
    });
    expect(stream.status).toBe(200);
    const reading = readEvents(stream, (events) => events.some((e) => e.event === 'feature.released'));
    // A key that reads only WorkItems is not told about Features.
    const workOnly = await shim.key(['work:read']);
    const blindEvents = eventsUntil(workOnly, reading);

    await setStatus('login', { phase: 'specified' });
    await setStatus('login', { phase: 'released' });
    const events = (await reading).filter((e) => (e.data as { name: string }).name === 'login');
    expect(events.map((e) => e.event)).toEqual(['feature.specified', 'feature.released']);
    expect(events[1]?.data).toMatchObject({
      kind: 'Feature',
      namespace: ns.name,
      project: 'shop',
      phase: 'released',
      previousPhase: 'specified',
    });
    expect((await blindEvents).filter((e) => e.event.startsWith('feature.'))).toEqual([]);

    const deliveries = await eventually(() => {
      const got = receiver.to('/features').map((r) => r.headers['x-rdev-event']);
      return got.includes('feature.released') && receiver.to('/features');
    });
    expect(deliveries.map((r) => r.headers['x-rdev-event'])).toEqual(
      expect.arrayContaining(['feature.specified', 'feature.released']),
    );
    const released = deliveries.find((r) => r.headers['x-rdev-event'] === 'feature.released');
    const body = JSON.parse(released?.body ?? '{}') as { type: string; kind: string; project: string };
    expect(body).toMatchObject({ type: 'feature.released', kind: 'Feature', project: 'shop' });
    expect(
      verifySignature(
        HOOK_KEY,
        String(released?.headers['x-rdev-timestamp']),
        released?.body ?? '',
        String(released?.headers['x-rdev-signature']),
      ),
    ).toBe(true);
  });

  it('lets a subscription through the shim name Feature events', async () => {
    const hook = await shim.call<{ events: string[] }>('POST', '/webhooks', {
      body: { url: `${receiver.url}/other`, events: ['feature.released', 'feature.*'] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    expect(hook.body.data?.events).toEqual(['feature.released', 'feature.*']);
  });

  it('deletes a Feature', async () => {
    const deleted = await shim.call('DELETE', '/features/login');
    expect(deleted.status).toBe(202);
    await eventually(async () => (await shim.call('GET', '/features/login')).status === 404);
  });
});
