import { describe, expect, it } from 'vitest';
import {
  CREATED_BY_KEY_ANNOTATION,
  type DeliveryRecord,
  MAX_RECORDED_DELIVERIES,
  matches,
  newWebhookId,
  parseDeliveries,
  type Subscription,
  subscriptionFromSecret,
  subscriptionSecret,
  WEBHOOK_LABEL,
  webhookSecretName,
  withDelivery,
} from '../../operator/src/shared/webhook-subscription.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const input = {
  id: 'a1b2c3d4e5f6',
  namespace: 'rdev-system',
  url: 'https://hooks.example.com/rdev',
  secret: 'hmac-key',
  events: ['workitem.*', 'project.ready'],
  namespaces: ['team-a'],
  projects: ['shop', 'blog'],
  createdByKey: 'key-1',
};

type SubscriptionSecret = ReturnType<typeof subscriptionSecret>;

function parsed(secret: Parameters<typeof subscriptionFromSecret>[0]): Subscription {
  const result = subscriptionFromSecret(secret);
  if (typeof result === 'string') throw new Error(result);
  return result;
}

describe('subscription Secrets', () => {
  it('builds the contract format: name, label, type, annotation, base64 data', () => {
    const secret = subscriptionSecret(input);
    expect(secret).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: 'rdev-webhook-a1b2c3d4e5f6',
        namespace: 'rdev-system',
        labels: { [WEBHOOK_LABEL]: 'true' },
        annotations: { [CREATED_BY_KEY_ANNOTATION]: 'key-1' },
      },
    });
    expect(secret.data).toEqual({
      url: b64('https://hooks.example.com/rdev'),
      secret: b64('hmac-key'),
      events: b64('workitem.*,project.ready'),
      namespaces: b64('team-a'),
      projects: b64('shop,blog'),
    });
    expect(webhookSecretName('a1b2c3d4e5f6')).toBe(secret.metadata.name);
  });

  it('reads back what it builds', () => {
    // Every field of the input but the key that made it (an annotation), and the Secret's name.
    const { createdByKey: _, ...fields } = input;
    expect(parsed(subscriptionSecret(input))).toEqual({ ...fields, secretName: 'rdev-webhook-a1b2c3d4e5f6' });
  });

  it('treats missing or empty namespaces and projects as all; trims list items', () => {
    const secret = subscriptionSecret({ ...input, namespaces: undefined, projects: [] });
    secret.data.events = b64(' * , session.active ,');
    delete secret.data.namespaces;
    expect(parsed(secret)).toMatchObject({ events: ['*', 'session.active'], namespaces: [], projects: [] });
  });

  it('makes fresh ids that fit the name pattern', () => {
    const id = newWebhookId();
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(newWebhookId()).not.toBe(id);
    expect(() => subscriptionSecret({ ...input, id })).not.toThrow();
  });

  it.each([
    ['no label', (s: SubscriptionSecret) => delete s.metadata.labels, /label/],
    ['a bad name', (s: SubscriptionSecret) => (s.metadata.name = 'rdev-webhook-ABC'), /name/],
    ['an ftp URL', (s: SubscriptionSecret) => (s.data.url = b64('ftp://x/y')), /url/],
    ['no URL', (s: SubscriptionSecret) => delete s.data.url, /url/],
    ['an empty key', (s: SubscriptionSecret) => (s.data.secret = ''), /secret/],
    ['no events', (s: SubscriptionSecret) => (s.data.events = b64(' , ')), /events/],
    [
      'a bad pattern',
      (s: SubscriptionSecret) => (s.data.events = b64('pod.*')),
      /"pod\.\*" is not an event pattern/,
    ],
    [
      'an upper-case phase',
      (s: SubscriptionSecret) => (s.data.events = b64('workitem.Succeeded')),
      /not an event pattern/,
    ],
  ])('rejects %s with a reason that carries no secret value', (_, spoil, reason) => {
    const secret = subscriptionSecret(input);
    spoil(secret);
    const result = subscriptionFromSecret(secret);
    expect(result).toMatch(reason);
    expect(result).not.toContain('hmac-key');
  });

  it('refuses to build what would not parse back', () => {
    expect(() => subscriptionSecret({ ...input, id: 'short' })).toThrow(/name/);
    expect(() => subscriptionSecret({ ...input, url: 'not a url' })).toThrow(/url/);
    expect(() => subscriptionSecret({ ...input, events: [] })).toThrow(/events/);
  });
});

describe('matches', () => {
  const sub = { events: ['workitem.*', 'project.ready'], namespaces: [], projects: [] };
  it('matches exact types, kind wildcards and *', () => {
    expect(matches(sub, { type: 'workitem.succeeded', namespace: 'a' })).toBe(true);
    expect(matches(sub, { type: 'workitem.deleted', namespace: 'a' })).toBe(true);
    expect(matches(sub, { type: 'project.ready', namespace: 'a' })).toBe(true);
    expect(matches(sub, { type: 'project.failed', namespace: 'a' })).toBe(false);
    expect(matches(sub, { type: 'session.active', namespace: 'a' })).toBe(false);
    expect(matches({ ...sub, events: ['*'] }, { type: 'checkout.merged', namespace: 'a' })).toBe(true);
  });

  it('matches Feature events, which subscriptions can name like any kind', () => {
    const features = { events: ['feature.released', 'workitem.*'], namespaces: [], projects: [] };
    expect(
      subscriptionFromSecret(subscriptionSecret({ ...input, events: ['feature.*', 'feature.qa'] })),
    ).toMatchObject({ events: ['feature.*', 'feature.qa'] });
    expect(matches(features, { type: 'feature.released', namespace: 'a' })).toBe(true);
    expect(matches(features, { type: 'feature.merge', namespace: 'a' })).toBe(false);
    expect(matches({ ...features, events: ['feature.*'] }, { type: 'feature.deleted', namespace: 'a' })).toBe(
      true,
    );
  });

  it('filters by namespace and project when they are set', () => {
    const filtered = { events: ['*'], namespaces: ['team-a'], projects: ['shop'] };
    expect(matches(filtered, { type: 'workitem.queued', namespace: 'team-a', project: 'shop' })).toBe(true);
    expect(matches(filtered, { type: 'workitem.queued', namespace: 'team-b', project: 'shop' })).toBe(false);
    expect(matches(filtered, { type: 'workitem.queued', namespace: 'team-a', project: 'blog' })).toBe(false);
    expect(matches(filtered, { type: 'workitem.queued', namespace: 'team-a' })).toBe(false);
  });
});

describe('the deliveries annotation', () => {
  const record = (id: string, outcome: DeliveryRecord['outcome'] = 'delivered'): DeliveryRecord => ({
    id,
    type: 'workitem.queued',
    namespace: 'ns',
    name: 'item',
    at: '2026-01-01T00:00:00.000Z',
    attempts: 1,
    outcome,
  });

  it('puts the newest first, replaces a record of the same delivery, keeps at most 10', () => {
    let annotation: string | undefined;
    for (let i = 0; i < 12; i++) annotation = withDelivery(annotation, record(`d${i}`));
    let records = parseDeliveries(annotation);
    expect(records).toHaveLength(MAX_RECORDED_DELIVERIES);
    expect(records.map((r) => r.id).slice(0, 3)).toEqual(['d11', 'd10', 'd9']);

    annotation = withDelivery(annotation, record('d5', 'failed'));
    records = parseDeliveries(annotation);
    expect(records).toHaveLength(MAX_RECORDED_DELIVERIES);
    expect(records[0]).toMatchObject({ id: 'd5', outcome: 'failed' });
    expect(records.filter((r) => r.id === 'd5')).toHaveLength(1);
  });

  it('starts afresh from an unreadable annotation', () => {
    expect(parseDeliveries('{not json')).toEqual([]);
    expect(parseDeliveries('{"a":1}')).toEqual([]);
    expect(parseDeliveries(withDelivery('garbage', record('x')))).toEqual([record('x')]);
  });
});
