// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
// candidates try to acquire every retryPeriod; the leader renews, and gives up when it has not
// renewed within renewDeadline; a lease is free when its holder has not renewed for
// leaseDuration as measured on this machine's clock (never the holder's timestamps, which may
// come from a skewed clock). Releasing on shutdown empties the holder so a standby takes over
// at once.
import type { Logger } from 'pino';
import { isConflict, isNotFound, type KubeClient } from './client.ts';
import { type Clock, microTime, realClock, sleep } from './clock.ts';
import { LEASES, type Lease } from './resources.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  log?: Logger;
}

type LeaseSpec = NonNullable<Lease['spec']>;

export interface LeadershipCallbacks {
  /** Called once leadership is acquired; `signal` aborts when it ends for any reason. */
  onStartedLeading(signal: AbortSignal): void;
  /** Called when leadership ends without `run`'s own signal having aborted (it was lost). */
  onLostLeadership(): void;
}

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly options: Required<Omit<LeaderElectionOptions, 'log'>> & { log?: Logger };
  private observed: { record: string; at: number } | undefined;
  private leading = false;
  private lastRenew = 0;

  constructor(client: KubeClient, options: LeaderElectionOptions) {
    this.options = {
      ...options,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
      clock: options.clock ?? realClock,
    };
    // A lease call must not outlive the renew deadline: a hung renewal would otherwise let this
    // process reconcile after a standby has taken over.
    this.client = client.withTimeout(Math.max(1000, this.options.renewDeadlineMs / 2));
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until leader, then renews until `signal` aborts (the lease is released) or
   * renewing fails past the deadline (leadership is lost). Returns when either happens.
   */
  async run(signal: AbortSignal, callbacks: LeadershipCallbacks): Promise<void> {
    const { clock, retryPeriodMs, renewDeadlineMs, log } = this.options;
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) {
      await sleep(clock, retryPeriodMs * (1 + Math.random() * 0.2), signal).catch(() => undefined);
    }
    if (signal.aborted) return;
    this.leading = true;
    log?.info({ lease: this.options.name, identity: this.options.identity }, 'became leader');
    const leadership = new AbortController();
    callbacks.onStartedLeading(leadership.signal);

    while (!signal.aborted) {
      await sleep(clock, retryPeriodMs, signal).catch(() => undefined);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) continue;
      if (clock.now() - this.lastRenew > renewDeadlineMs) {
        this.leading = false;
        leadership.abort(new Error('leadership lost'));
        log?.error(
          { lease: this.options.name },
          'failed to renew the lease within the deadline; leadership lost',
        );
        callbacks.onLostLeadership();
        return;
      }
    }
    leadership.abort(new Error('shutting down'));
    await this.release();
  }

  /** Empties the holder, so that a standby need not wait for the lease to expire. */
  async release(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get<Lease>(LEASES, this.options.namespace, this.options.name);
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      const now = this.options.clock.now();
      await this.client.replace(LEASES, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) },
      });
      this.options.log?.info({ lease: this.options.name }, 'released the lease');
    } catch (err) {
      this.options.log?.warn({ err: String(err) }, 'could not release the lease');
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs, clock, log } = this.options;
    const now = clock.now();
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      let lease: Lease;
      try {
        lease = await this.client.get<Lease>(LEASES, namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await this.client.create<Lease>(LEASES, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec,
        });
        return this.renewed(now);
      }
      const current = lease.spec ?? {};
      const record = JSON.stringify([
        current.holderIdentity,
        current.renewTime,
        current.leaseDurationSeconds,
      ]);
      if (this.observed?.record !== record) this.observed = { record, at: now };
      const holder = current.holderIdentity ?? '';
      const duration = (current.leaseDurationSeconds ?? 0) * 1000;
      if (holder !== '' && holder !== identity && (this.observed?.at ?? now) + duration > now) return false;
      const mine = holder === identity;
      await this.client.replace<Lease>(LEASES, {
        ...lease,
        spec: {
          ...spec,
          acquireTime: mine ? current.acquireTime : spec.acquireTime,
          leaseTransitions: (current.leaseTransitions ?? 0) + (mine ? 0 : 1),
        },
      });
      return this.renewed(now);
    } catch (err) {
      if (!isConflict(err)) log?.warn({ err: String(err), lease: name }, 'lease update failed');
      return false;
    }
  }

  private renewed(at: number): boolean {
    this.lastRenew = at;
    return true;
  }
}
