// Webhook delivery end to end: subscription Secrets in the operator's shim namespace (here the
// test's own), WorkItem phase transitions driven by the in-process operator, and a local
// receiver that answers as the test tells it to.
import { beforeAll, describe, expect, it } from 'vitest';
import { WORK_ITEMS } from '../../operator/src/api/resources.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { SECRETS } from '../../operator/src/runtime/resources.ts';
import {
  DELIVERIES_ANNOTATION,
  type DeliveryRecord,
  parseDeliveries,
  type SubscriptionInput,
  subscriptionSecret,
  webhookSecretName,
} from '../../operator/src/shared/webhook-subscription.ts';
import { REFUSED_BLOCKED } from '../../operator/src/shared/webhook-targets.ts';
import { verifySignature } from '../../operator/src/webhooks/signature.ts';
import { eventually, kubeConfig } from './support/kube.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { rdevKind } from './support/rdev-objects.ts';
import { attemptsBefore, useReceiver } from './support/receiver.ts';

const ns = useOperatorNamespace('rdev-hooks', (n) => [
  `--shim-namespace=${n}`,
  '--webhook-backoff-seconds=0.2',
  '--webhook-max-attempts=5',
  // The receiver listens on loopback, a range webhooks are otherwise refused.
  '--webhook-allow-cidrs=127.0.0.1/32',
]);
const client = new KubeClient(kubeConfig());
const items = rdevKind(client, WORK_ITEMS, ns);

/** /flaky answers each delivery's first two attempts 500, then 200; /reject answers 400; the rest 200. */
const receiver = useReceiver((request, before) => {
  if (request.path === '/reject') return 400;
  const earlier = attemptsBefore(request, before).filter((r) => r.path === '/flaky');
  return request.path === '/flaky' && earlier.length < 2 ? 500 : 200;
});

const KEYS = { flaky: 'flaky-hmac-key' };

async function subscribe(id: string, input: Omit<SubscriptionInput, 'id' | 'namespace' | 'secret'>) {
  await client.create(SECRETS, subscriptionSecret({ id, namespace: ns.name, secret: KEYS.flaky, ...input }));
  return webhookSecretName(id);
}

async function deliveriesOf(name: string): Promise<DeliveryRecord[]> {
  const secret = await client.get(SECRETS, ns.name, name);
  return parseDeliveries(secret.metadata.annotations?.[DELIVERIES_ANNOTATION]);
}

const subscriptions = { flaky: '', reject: '', otherNamespace: '', otherProject: '', all: '', internal: '' };

describe('webhook delivery', () => {
  beforeAll(async () => {
    subscriptions.flaky = await subscribe('f1a2b3c4d5e6', {
      url: `${receiver.url}/flaky`,
      events: ['workitem.queued'],
      namespaces: [ns.name],
      projects: ['shop'],
    });
    subscriptions.reject = await subscribe('4e0000000400', {
      url: `${receiver.url}/reject`,
      events: ['workitem.*'],
    });
    subscriptions.otherNamespace = await subscribe('0a0000000001', {
      url: `${receiver.url}/other-namespace`,
      events: ['*'],
      namespaces: ['somewhere-else'],
    });
    subscriptions.otherProject = await subscribe('0b0000000002', {
      url: `${receiver.url}/other-project`,
      events: ['workitem.*', 'project.*'],
      projects: ['blog'],
    });
    subscriptions.all = await subscribe('a11a11a11a11', {
      url: `${receiver.url.replace('//', '//hook-user:hook%20pass@')}/all`,
      events: ['*'],
      namespaces: [ns.name],
    });
    // Cloud metadata's address, outside the allowed 127.0.0.1/32.
    subscriptions.internal = await subscribe('1a1a1a1a1a1a', {
      url: 'http://169.254.169.254/latest/meta-data/',
      events: ['workitem.queued'],
      namespaces: [ns.name],
    });
    // No workers run here: the scheduler gives a new item its first phase, Queued.
    await items.create('build', { projectRef: { name: 'shop' }, type: 'shell', command: ['true'] });
  });

  it('retries 5xx answers with the same delivery, signed, and records it as delivered', async () => {
    const attempts = await eventually(() => receiver.to('/flaky').length >= 3 && receiver.to('/flaky'));
    expect(attempts).toHaveLength(3);
    const ids = new Set(attempts.map((a) => a.headers['x-rdev-delivery']));
    expect(ids.size).toBe(1);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    for (const a of attempts) {
      expect(a.headers['content-type']).toBe('application/json');
      expect(a.headers['x-rdev-event']).toBe('workitem.queued');
      const timestamp = a.headers['x-rdev-timestamp'] as string;
      expect(verifySignature(KEYS.flaky, timestamp, a.body, a.headers['x-rdev-signature'] as string)).toBe(
        true,
      );
      expect(verifySignature('wrong-key', timestamp, a.body, a.headers['x-rdev-signature'] as string)).toBe(
        false,
      );
    }
    const payload = JSON.parse(attempts[0]?.body ?? '{}');
    expect(payload).toMatchObject({
      id: [...ids][0],
      type: 'workitem.queued',
      kind: 'WorkItem',
      namespace: ns.name,
      name: 'build',
      project: 'shop',
      phase: 'Queued',
      previousPhase: null,
      object: { metadata: { name: 'build', namespace: ns.name }, spec: { projectRef: { name: 'shop' } } },
    });
    expect(Number.isNaN(Date.parse(payload.occurredAt))).toBe(false);

    const [record] = await eventually(async () => {
      const records = await deliveriesOf(subscriptions.flaky);
      return records[0]?.outcome === 'delivered' && records;
    });
    expect(record).toMatchObject({
      id: payload.id,
      type: 'workitem.queued',
      namespace: ns.name,
      name: 'build',
      outcome: 'delivered',
      attempts: 3,
      status: 200,
    });
  });

  it('does not retry a 400', async () => {
    const records = await eventually(async () => {
      const all = await deliveriesOf(subscriptions.reject);
      return all[0]?.outcome === 'failed' && all;
    });
    expect(records[0]).toMatchObject({
      type: 'workitem.queued',
      outcome: 'failed',
      attempts: 1,
      status: 400,
    });
    // The failure is recorded after the only attempt: a retry would have been a second request.
    expect(receiver.to('/reject')).toHaveLength(1);
  });

  it('refuses an address in a blocked range once, recording nothing about it but that', async () => {
    const records = await eventually(async () => {
      const all = await deliveriesOf(subscriptions.internal);
      return all[0]?.outcome === 'failed' && all;
    });
    expect(records).toEqual([
      {
        id: expect.any(String),
        type: 'workitem.queued',
        namespace: ns.name,
        name: 'build',
        at: expect.any(String),
        attempts: 1,
        outcome: 'failed',
        error: REFUSED_BLOCKED,
      },
    ]);
  });

  it('sends URL credentials as Basic authentication', async () => {
    const [first] = await eventually(() => receiver.to('/all').length > 0 && receiver.to('/all'));
    const expected = `Basic ${Buffer.from('hook-user:hook pass').toString('base64')}`;
    expect(first?.headers.authorization).toBe(expected);
  });

  it('reports deletion to subscriptions of the kind', async () => {
    await items.delete('build');
    const deleted = await eventually(() =>
      receiver.to('/all').find((r) => r.headers['x-rdev-event'] === 'workitem.deleted'),
    );
    expect(JSON.parse(deleted.body)).toMatchObject({
      type: 'workitem.deleted',
      name: 'build',
      project: 'shop',
    });
    await eventually(async () =>
      (await deliveriesOf(subscriptions.reject)).some((r) => r.type === 'workitem.deleted'),
    );
  });

  it('sends nothing to subscriptions filtered to another namespace or project', async () => {
    // By now the flaky subscription has waited out two backoffs for the same events.
    await eventually(() => receiver.to('/flaky').length >= 3);
    expect(receiver.to('/other-namespace')).toEqual([]);
    expect(receiver.to('/other-project')).toEqual([]);
    expect(await deliveriesOf(subscriptions.otherNamespace)).toEqual([]);
    expect(await deliveriesOf(subscriptions.otherProject)).toEqual([]);
  });
});
