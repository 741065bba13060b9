// The delivery jobs behind the webhook controller's keys. An event key fans out to one delivery
// key per matching subscription; a delivery key makes one attempt per reconcile and asks to be
// requeued after the backoff while attempts are left. Jobs live in memory only: the operator
// delivers what happens while it leads, at least once per attempt budget, not durably across
// restarts. Every job is bounded: attempts by maxAttempts, API failures likewise.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { isNotFound, type KubeClient } from '../runtime/client.ts';
import type { ReconcileContext, Result } from '../runtime/controller.ts';
import { SECRETS } from '../runtime/resources.ts';
import { type PhaseEvent, payloadOf } from '../shared/transitions.ts';
import {
  type DeliveryRecord,
  matches,
  subscriptionFromSecret,
  WEBHOOK_SELECTOR,
} from '../shared/webhook-subscription.ts';
import type { WebhookTargets } from '../shared/webhook-targets.ts';
import { retryDelayMs } from './policy.ts';
import { recordDelivery, type SecretObject } from './record.ts';
import { type Attempt, type Outgoing, sendOnce } from './send.ts';

/** Jobs held at once; beyond it new events are dropped (a subscriber down for long must not exhaust memory). */
export const MAX_JOBS = 10_000;

interface EventJob {
  kind: 'event';
  event: PhaseEvent;
  at: Date;
  failures: number;
}

interface DeliveryJob extends Outgoing {
  kind: 'delivery';
  secretName: string;
  namespace: string;
  name: string;
  attempts: number;
  failures: number;
}

export interface DeliveryOptions {
  client: KubeClient;
  /** Where subscriptions live (--shim-namespace). */
  namespace: string;
  backoffSeconds: number;
  maxAttempts: number;
  log: Logger;
  /** Where deliveries may go (default: no blocked range allowed). */
  targets?: WebhookTargets;
  send?: (url: string, secret: string, outgoing: Outgoing, signal: AbortSignal) => Promise<Attempt>;
  now?: () => Date;
}

export class Deliveries {
  private readonly jobs = new Map<string, EventJob | DeliveryJob>();
  private readonly options: DeliveryOptions;
  private add: (key: string) => void = () => undefined;

  constructor(options: DeliveryOptions) {
    this.options = options;
  }

  /** Where new keys go: the controller's queue (it exists only once the controller is built). */
  bind(add: (key: string) => void): void {
    this.add = add;
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Queues an event for fan-out to the subscriptions that match it. */
  offer(event: PhaseEvent): void {
    this.put(`event:${randomUUID()}`, { kind: 'event', event, at: this.now(), failures: 0 });
  }

  readonly reconcile = async (key: string, ctx: ReconcileContext): Promise<Result | undefined> => {
    const job = this.jobs.get(key);
    if (!job) return undefined;
    return job.kind === 'event' ? this.fanOut(key, job, ctx) : this.deliver(key, job, ctx);
  };

  private put(key: string, job: EventJob | DeliveryJob): void {
    if (this.jobs.size >= MAX_JOBS) {
      this.options.log.warn(
        { type: job.kind === 'event' ? job.event.type : job.type },
        'webhook queue full; dropped',
      );
      return;
    }
    this.jobs.set(key, job);
    this.add(key);
  }

  private async fanOut(key: string, job: EventJob, ctx: ReconcileContext): Promise<Result | undefined> {
    let secrets: SecretObject[];
    try {
      const list = await this.options.client.list<SecretObject>(SECRETS, this.options.namespace, {
        labelSelector: WEBHOOK_SELECTOR,
      });
      secrets = list.items;
    } catch (err) {
      return this.failed(key, job, ctx, err, 'could not list webhook subscriptions');
    }
    this.jobs.delete(key);
    for (const secret of secrets) {
      const subscription = subscriptionFromSecret(secret);
      if (typeof subscription === 'string') {
        ctx.log.warn({ reason: subscription }, 'invalid webhook subscription ignored');
        continue;
      }
      if (!matches(subscription, { ...job.event, project: job.event.project ?? undefined })) continue;
      const id = randomUUID();
      const { type, namespace, name } = job.event;
      this.put(`delivery:${id}`, {
        kind: 'delivery',
        id,
        type,
        namespace,
        name,
        body: payloadOf(job.event, id, job.at),
        secretName: subscription.secretName,
        attempts: 0,
        failures: 0,
      });
    }
    return undefined;
  }

  private async deliver(key: string, job: DeliveryJob, ctx: ReconcileContext): Promise<Result | undefined> {
    const log = ctx.log.child({ delivery: job.id, type: job.type, subscription: job.secretName });
    let secret: SecretObject;
    try {
      // Read fresh, not cached: a rotated key or a deleted subscription applies to the next attempt.
      secret = await this.options.client.get<SecretObject>(SECRETS, this.options.namespace, job.secretName);
    } catch (err) {
      if (!isNotFound(err))
        return this.failed(key, job, { ...ctx, log }, err, 'could not read the subscription');
      this.jobs.delete(key);
      log.info('webhook subscription deleted; delivery dropped');
      return undefined;
    }
    const subscription = subscriptionFromSecret(secret);
    if (typeof subscription === 'string') {
      this.jobs.delete(key);
      log.warn({ reason: subscription }, 'webhook subscription became invalid; delivery dropped');
      return undefined;
    }

    job.attempts++;
    const targets = this.options.targets;
    const send = this.options.send ?? ((u, s, o, signal) => sendOnce(u, s, o, { signal, targets }));
    const attempt = await send(subscription.url, subscription.secret, job, ctx.signal);
    // Leadership lost (or a hard stop) mid-attempt: the job ends unrecorded, as nobody will requeue it.
    if (ctx.signal.aborted) {
      this.jobs.delete(key);
      return undefined;
    }

    const outcome: DeliveryRecord['outcome'] =
      attempt.verdict === 'delivered'
        ? 'delivered'
        : attempt.verdict === 'retry' && job.attempts < this.options.maxAttempts
          ? 'retrying'
          : 'failed';
    const exhausted = attempt.verdict === 'retry' && outcome === 'failed';
    const record: DeliveryRecord = {
      id: job.id,
      type: job.type,
      namespace: job.namespace,
      name: job.name,
      at: this.now().toISOString(),
      attempts: job.attempts,
      outcome,
      ...(attempt.status === undefined ? {} : { status: attempt.status }),
      ...(attempt.error === undefined
        ? {}
        : { error: exhausted ? `${attempt.error}; no attempts left` : attempt.error }),
    };
    await recordDelivery(this.options.client, secret, record, log);
    const fields = { attempts: job.attempts, status: attempt.status, error: attempt.error };
    if (record.outcome === 'retrying') {
      const delay = retryDelayMs(job.attempts, this.options.backoffSeconds);
      log.info({ ...fields, retryInMs: delay }, 'webhook delivery attempt failed; retrying');
      return { requeueAfter: delay };
    }
    this.jobs.delete(key);
    if (record.outcome === 'delivered') log.info(fields, 'webhook delivered');
    else log.warn(fields, 'webhook delivery failed');
    return undefined;
  }

  /** A failed API call of a job: retried with the same backoff, within the same attempt budget. */
  private failed(
    key: string,
    job: EventJob | DeliveryJob,
    ctx: ReconcileContext,
    err: unknown,
    message: string,
  ): Result | undefined {
    job.failures++;
    if (job.failures >= this.options.maxAttempts) {
      this.jobs.delete(key);
      ctx.log.error({ err, failures: job.failures }, `${message}; webhook event dropped`);
      return undefined;
    }
    ctx.log.warn({ err, failures: job.failures }, `${message}; retrying`);
    return { requeueAfter: retryDelayMs(job.failures, this.options.backoffSeconds) };
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
