// The webhook subscription contract between the REST shim (which creates subscriptions) and the
// operator (which delivers to them): a labelled Secret in the shim's namespace. Both sides build
// and read it only through this module, so the format has one definition. Pure: no I/O.
import { z } from 'zod';
import type { ObjectMeta } from '../runtime/client.ts';

export const WEBHOOK_LABEL = 'rdev.dev/webhook';
export const WEBHOOK_SELECTOR = `${WEBHOOK_LABEL}=true`;
/** Written by the shim (the API key that made the subscription); the operator ignores it. */
export const CREATED_BY_KEY_ANNOTATION = 'rdev.dev/created-by-key';
/** Written by the operator: the last deliveries, newest first (JSON). */
export const DELIVERIES_ANNOTATION = 'rdev.dev/deliveries';
/** How many deliveries the annotation keeps, so that it never grows past a Secret's size limit. */
export const MAX_RECORDED_DELIVERIES = 10;

const NAME_PREFIX = 'rdev-webhook-';
/** A subscription id: 12 lowercase letters or digits. */
export const ID_PATTERN = /^[a-z0-9]{12}$/;
const KINDS = ['project', 'session', 'checkout', 'workitem', 'feature'] as const;
/** An event a subscription asks for: `*`, `<kind>.*` or `<kind>.<phase>`. */
export const EVENT_PATTERN = new RegExp(`^(\\*|(${KINDS.join('|')})\\.(\\*|[a-z]+))$`);

export interface Subscription {
  id: string;
  /** The Secret's own coordinates, where deliveries are recorded. */
  namespace: string;
  secretName: string;
  url: string;
  /** The HMAC key; never logged. */
  secret: string;
  /** `*`, `<kind>.*` or `<kind>.<phase>`, all lowercase. */
  events: string[];
  /** Empty: every namespace. */
  namespaces: string[];
  /** Empty: every project. */
  projects: string[];
}

export interface SubscriptionInput {
  id: string;
  /** The shim's namespace (the operator's --shim-namespace). */
  namespace: string;
  url: string;
  secret: string;
  events: string[];
  namespaces?: string[];
  projects?: string[];
  createdByKey?: string;
  /**
   * The Secret of the key that subscribed: it owns the subscription, so revoking the key (deleting
   * its Secret) has the garbage collector delete the subscription too.
   */
  keySecret?: { name: string; uid: string };
}

export interface SubscriptionSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  type: 'Opaque';
  metadata: ObjectMeta;
  data: Record<string, string>;
}

/** What a subscription is matched against. */
export interface EventFacts {
  type: string;
  namespace: string;
  project?: string;
}

/** One delivery as the operator records it on the subscription (and the shim shows it). */
export const deliveryRecord = z.object({
  id: z.string(),
  type: z.string(),
  namespace: z.string(),
  name: z.string(),
  /** ISO time of the latest attempt. */
  at: z.string(),
  attempts: z.number(),
  outcome: z.enum(['delivered', 'failed', 'retrying']),
  status: z.number().optional(),
  error: z.string().optional(),
});
export type DeliveryRecord = z.infer<typeof deliveryRecord>;
const deliveryRecords = z.array(deliveryRecord);

export const webhookSecretName = (id: string): string => `${NAME_PREFIX}${id}`;

/** A fresh subscription id: 12 lowercase hex characters (48 random bits). */
export const newWebhookId = (): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');

const encode = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const decode = (s: string | undefined) =>
  s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
const splitList = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);

/** The Secret the shim creates; throws when the result would not parse back (a bad input). */
export function subscriptionSecret(input: SubscriptionInput): SubscriptionSecret {
  const secret: SubscriptionSecret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: webhookSecretName(input.id),
      namespace: input.namespace,
      labels: { [WEBHOOK_LABEL]: 'true' },
      ...(input.createdByKey ? { annotations: { [CREATED_BY_KEY_ANNOTATION]: input.createdByKey } } : {}),
      ...(input.keySecret
        ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', ...input.keySecret }] }
        : {}),
    },
    data: {
      url: encode(input.url),
      secret: encode(input.secret),
      events: encode(input.events.join(',')),
      namespaces: encode((input.namespaces ?? []).join(',')),
      projects: encode((input.projects ?? []).join(',')),
    },
  };
  const parsed = subscriptionFromSecret(secret);
  if (typeof parsed === 'string') throw new TypeError(parsed);
  return secret;
}

/** Reads a subscription Secret; a string says why it is not a valid one (no secret values in it). */
export function subscriptionFromSecret(secret: {
  metadata: ObjectMeta;
  data?: Record<string, string>;
}): Subscription | string {
  const { name, namespace, labels } = secret.metadata;
  if (labels?.[WEBHOOK_LABEL] !== 'true') return `${name}: no ${WEBHOOK_LABEL}=true label`;
  const id = name.startsWith(NAME_PREFIX) ? name.slice(NAME_PREFIX.length) : '';
  if (!ID_PATTERN.test(id)) return `${name}: the name is not ${NAME_PREFIX}<12 lowercase letters or digits>`;
  const data = secret.data ?? {};
  const url = decode(data.url)?.trim() ?? '';
  if (!isHttpUrl(url)) return `${name}: url is not an http or https URL`;
  const key = decode(data.secret) ?? '';
  if (!key) return `${name}: secret is empty`;
  const events = splitList(decode(data.events));
  if (events.length === 0) return `${name}: events is empty`;
  const bad = events.find((e) => !EVENT_PATTERN.test(e));
  if (bad !== undefined) return `${name}: "${bad}" is not an event pattern (*, <kind>.*, <kind>.<phase>)`;
  return {
    id,
    namespace: namespace ?? '',
    secretName: name,
    url,
    secret: key,
    events,
    namespaces: splitList(decode(data.namespaces)),
    projects: splitList(decode(data.projects)),
  };
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Whether `event` is one `subscription` asked for. */
export function matches(
  subscription: Pick<Subscription, 'events' | 'namespaces' | 'projects'>,
  event: EventFacts,
): boolean {
  const kind = event.type.slice(0, event.type.indexOf('.'));
  const typeOk = subscription.events.some((p) => p === '*' || p === event.type || p === `${kind}.*`);
  const nsOk = subscription.namespaces.length === 0 || subscription.namespaces.includes(event.namespace);
  const projectOk =
    subscription.projects.length === 0 ||
    (event.project !== undefined && subscription.projects.includes(event.project));
  return typeOk && nsOk && projectOk;
}

/** The annotation's records; anything unreadable counts as none (it is informational). */
export function parseDeliveries(annotation: string | undefined): DeliveryRecord[] {
  if (!annotation) return [];
  try {
    const records = deliveryRecords.safeParse(JSON.parse(annotation));
    return records.success ? records.data : [];
  } catch {
    return [];
  }
}

/** The annotation after `record`: it replaces an earlier record of the same delivery and goes first. */
export function withDelivery(annotation: string | undefined, record: DeliveryRecord): string {
  const rest = parseDeliveries(annotation).filter((r) => r.id !== record.id);
  return JSON.stringify([record, ...rest].slice(0, MAX_RECORDED_DELIVERIES));
}
