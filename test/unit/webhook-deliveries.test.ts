// The delivery jobs against a fake API client and a scripted sender: fan-out, retries within
// the attempt budget, no retry of a 4xx, the record on the Secret, and caps on API failures.
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type KubeClient } from '../../operator/src/runtime/client.ts';
import { type PhaseEvent, phaseTransition } from '../../operator/src/shared/transitions.ts';
import {
  DELIVERIES_ANNOTATION,
  parseDeliveries,
  type SubscriptionInput,
  subscriptionSecret,
} from '../../operator/src/shared/webhook-subscription.ts';
import { REFUSED_BLOCKED } from '../../operator/src/shared/webhook-targets.ts';
import { Deliveries } from '../../operator/src/webhooks/deliveries.ts';
import type { SecretObject } from '../../operator/src/webhooks/record.ts';
import type { Attempt, Outgoing } from '../../operator/src/webhooks/send.ts';

const NS = 'rdev-system';

class FakeClient {
  readonly secrets = new Map<string, SecretObject>();
  listFailures = 0;
  getFailures = 0;
  conflicts = 0;
  private rv = 1;

  put(input: Omit<SubscriptionInput, 'namespace' | 'secret'>): string {
    const secret: SecretObject = subscriptionSecret({ ...input, namespace: NS, secret: 'hmac' });
    secret.metadata.resourceVersion = String(this.rv++);
    this.secrets.set(secret.metadata.name, secret);
    return secret.metadata.name;
  }

  records(name: string) {
    return parseDeliveries(this.secrets.get(name)?.metadata.annotations?.[DELIVERIES_ANNOTATION]);
  }

  list = async () => {
    if (this.listFailures-- > 0) throw new ApiError(503, 'ServiceUnavailable', 'down');
    return { metadata: {}, items: [...this.secrets.values()].map((s) => structuredClone(s)) };
  };

  get = async (_r: unknown, _ns: string, name: string) => {
    if (this.getFailures-- > 0) throw new ApiError(503, 'ServiceUnavailable', 'down');
    const secret = this.secrets.get(name);
    if (!secret) throw new ApiError(404, 'NotFound', `${name} not found`);
    return structuredClone(secret);
  };

  patch = async (_r: unknown, _ns: string, name: string, patch: SecretObject) => {
    const secret = this.secrets.get(name);
    if (!secret) throw new ApiError(404, 'NotFound', `${name} not found`);
    if (this.conflicts-- > 0) secret.metadata.resourceVersion = String(this.rv++); // someone else wrote
    if (patch.metadata.resourceVersion !== secret.metadata.resourceVersion)
      throw new ApiError(409, 'Conflict', 'the object has been modified');
    secret.metadata.annotations = { ...secret.metadata.annotations, ...patch.metadata.annotations };
    secret.metadata.resourceVersion = String(this.rv++);
    return secret;
  };
}

const event = phaseTransition('WorkItem', undefined, {
  metadata: { name: 'build', namespace: 'team-a' },
  spec: { projectRef: { name: 'shop' } },
  status: { phase: 'Queued' },
}) as PhaseEvent;

let client: FakeClient;
let answers: Attempt[];
let sent: { url: string; outgoing: Outgoing }[];
let deliveries: Deliveries;
let keys: string[];

beforeEach(() => {
  client = new FakeClient();
  answers = [];
  sent = [];
  keys = [];
  deliveries = new Deliveries({
    client: client as unknown as KubeClient,
    namespace: NS,
    backoffSeconds: 1,
    maxAttempts: 4,
    log: pino({ level: 'silent' }),
    send: async (url, _secret, outgoing) => {
      sent.push({ url, outgoing: { ...outgoing } });
      return answers.shift() ?? { verdict: 'delivered', status: 200 };
    },
  });
  deliveries.bind((key) => keys.push(key));
});

/** Works every key off like the controller would; returns the requeue delays asked for. */
async function drain(): Promise<number[]> {
  const delays: number[] = [];
  const ctx = { signal: new AbortController().signal, log: pino({ level: 'silent' }) };
  for (let rounds = 0; keys.length > 0 && rounds < 100; rounds++) {
    const key = keys.shift() as string;
    const result = await deliveries.reconcile(key, ctx);
    if (result?.requeueAfter !== undefined) {
      delays.push(result.requeueAfter);
      keys.push(key);
    }
  }
  return delays;
}

describe('webhook deliveries', () => {
  it('fans out to matching subscriptions only and delivers the same body', async () => {
    const all = client.put({ id: 'aaaaaaaaaaaa', url: 'http://a.test/', events: ['*'] });
    const other = client.put({
      id: 'bbbbbbbbbbbb',
      url: 'http://b.test/',
      events: ['*'],
      namespaces: ['team-b'],
    });
    const project = client.put({
      id: 'cccccccccccc',
      url: 'http://c.test/',
      events: ['workitem.*'],
      projects: ['blog'],
    });
    deliveries.offer(event);
    expect(await drain()).toEqual([]);
    expect(sent.map((s) => s.url)).toEqual(['http://a.test/']);
    expect(JSON.parse(sent[0]?.outgoing.body ?? '')).toMatchObject({
      id: sent[0]?.outgoing.id,
      type: 'workitem.queued',
    });
    expect(client.records(all)).toMatchObject([
      { outcome: 'delivered', attempts: 1, status: 200, name: 'build' },
    ]);
    expect(client.records(other)).toEqual([]);
    expect(client.records(project)).toEqual([]);
    expect(deliveries.size).toBe(0);
  });

  it('retries 5xx with a doubling backoff and records each attempt under one id', async () => {
    const name = client.put({ id: 'aaaaaaaaaaaa', url: 'http://a.test/', events: ['workitem.queued'] });
    answers = [
      { verdict: 'retry', status: 500, error: 'HTTP 500' },
      { verdict: 'retry', error: 'ECONNREFUSED' },
    ];
    client.conflicts = 1;
    deliveries.offer(event);
    expect(await drain()).toEqual([1000, 2000]);
    expect(new Set(sent.map((s) => s.outgoing.id)).size).toBe(1);
    expect(new Set(sent.map((s) => s.outgoing.body)).size).toBe(1);
    expect(client.records(name)).toMatchObject([
      { id: sent[0]?.outgoing.id, outcome: 'delivered', attempts: 3 },
    ]);
  });

  it('gives up after maxAttempts and does not retry a 4xx', async () => {
    const name = client.put({ id: 'aaaaaaaaaaaa', url: 'http://a.test/', events: ['*'] });
    answers = Array(10).fill({ verdict: 'retry', status: 503, error: 'HTTP 503' });
    deliveries.offer(event);
    expect(await drain()).toEqual([1000, 2000, 4000]);
    expect(sent).toHaveLength(4);
    expect(client.records(name)[0]).toMatchObject({
      outcome: 'failed',
      attempts: 4,
      error: 'HTTP 503; no attempts left',
    });

    answers = [{ verdict: 'failed', status: 400, error: 'HTTP 400' }];
    sent = [];
    deliveries.offer(event);
    expect(await drain()).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(client.records(name)[0]).toMatchObject({ outcome: 'failed', attempts: 1, status: 400 });
    expect(client.records(name)).toHaveLength(2);
  });

  it('drops a delivery whose subscription was deleted', async () => {
    const name = client.put({ id: 'aaaaaaaaaaaa', url: 'http://a.test/', events: ['*'] });
    answers = [{ verdict: 'retry', status: 500, error: 'HTTP 500' }];
    deliveries.offer(event);
    const ctx = { signal: new AbortController().signal, log: pino({ level: 'silent' }) };
    await deliveries.reconcile(keys.shift() as string, ctx); // fan-out
    const key = keys.shift() as string;
    expect(await deliveries.reconcile(key, ctx)).toEqual({ requeueAfter: 1000 });
    client.secrets.delete(name);
    expect(await deliveries.reconcile(key, ctx)).toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(deliveries.size).toBe(0);
  });

  it('caps retries of failing API calls', async () => {
    client.put({ id: 'aaaaaaaaaaaa', url: 'http://a.test/', events: ['*'] });
    client.listFailures = 100;
    deliveries.offer(event);
    expect(await drain()).toEqual([1000, 2000, 4000]);
    expect(sent).toHaveLength(0);
    expect(deliveries.size).toBe(0);

    client.listFailures = 0;
    client.getFailures = 2;
    deliveries.offer(event);
    expect(await drain()).toEqual([1000, 2000]);
    expect(sent).toHaveLength(1);
  });

  it('refuses a subscriber in a blocked range once, with no retry and nothing about the host', async () => {
    // The operator's own sender, not the scripted one: it refuses before connecting.
    const real = new Deliveries({
      client: client as unknown as KubeClient,
      namespace: NS,
      backoffSeconds: 1,
      maxAttempts: 4,
      log: pino({ level: 'silent' }),
    });
    real.bind((key) => keys.push(key));
    deliveries = real;
    const metadata = client.put({ id: 'dddddddddddd', url: 'http://169.254.169.254/latest/', events: ['*'] });
    const cluster = client.put({ id: 'eeeeeeeeeeee', url: 'http://10.96.0.1:443/api', events: ['*'] });
    real.offer(event);
    expect(await drain()).toEqual([]);
    for (const name of [metadata, cluster]) {
      expect(client.records(name)).toEqual([
        expect.objectContaining({ outcome: 'failed', attempts: 1, error: REFUSED_BLOCKED }),
      ]);
    }
  });
});
