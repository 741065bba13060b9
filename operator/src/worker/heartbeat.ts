// A worker's heartbeat: a coordination.k8s.io Lease it renews every third of its duration,
// carrying its capacity. If renewals fail for two thirds of the duration, the worker fences
// itself (stops what it runs) before the operator can count it lost and hand its items to
// another worker: that ordering is what keeps an item from running in two places at once.
import type { Logger } from 'pino';
import { isNotFound, type KubeClient } from '../runtime/client.ts';
import { microTime, realClock, sleep } from '../runtime/clock.ts';
import { LEASES } from '../runtime/resources.ts';
import { OUTPUT_URL_ANNOTATION } from '../shared/live-output.ts';
import {
  CAPACITY_ANNOTATION,
  WORKER_FIELD_MANAGER,
  WORKER_LEASE_LABEL,
  workerLeaseName,
} from '../shared/worker-names.ts';

export interface HeartbeatOptions {
  name: string;
  namespace: string;
  leaseDurationMs: number;
  capacity: () => number;
  /** Base URL of the worker's live output endpoint, published on the Lease for the shim. */
  outputURL?: string;
  log: Logger;
  /** Renewals failed for too long: stop everything now. */
  onFenced: () => void;
  /** Renewed again after being fenced. */
  onRenewed?: () => void;
}

export class Heartbeat {
  private readonly client: KubeClient;
  private readonly options: HeartbeatOptions;
  private lastRenewal = 0;
  private fenced = false;
  private wake: (() => void) | undefined;

  constructor(client: KubeClient, options: HeartbeatOptions) {
    this.client = client.withTimeout(Math.max(1000, Math.floor(options.leaseDurationMs / 5)));
    this.options = options;
  }

  get leaseName(): string {
    return workerLeaseName(this.options.name);
  }

  /** Whether the worker may run items: it renewed within two thirds of the lease duration. */
  get healthy(): boolean {
    return !this.fenced && Date.now() - this.lastRenewal < (this.options.leaseDurationMs * 2) / 3;
  }

  /** Renews once now (e.g. to publish a new capacity). */
  renewNow(): void {
    this.wake?.();
  }

  /** Renews until `signal` aborts. The first renewal is awaited by start(). */
  async start(signal: AbortSignal): Promise<void> {
    await this.renew();
    void this.loop(signal);
  }

  async release(): Promise<void> {
    await this.client.delete(LEASES, this.options.namespace, this.leaseName).catch((err) => {
      if (!isNotFound(err))
        this.options.log.warn({ err: String(err) }, 'could not delete the heartbeat Lease');
    });
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const period = this.options.leaseDurationMs / 3;
    const retry = Math.min(1000, period);
    while (!signal.aborted) {
      const ok = await this.renew().then(
        () => true,
        (err) => {
          this.options.log.warn({ err: String(err) }, 'heartbeat renewal failed');
          return false;
        },
      );
      if (!ok && !this.fenced && Date.now() - this.lastRenewal >= (this.options.leaseDurationMs * 2) / 3) {
        this.fenced = true;
        this.options.log.error('heartbeat lost: stopping every running item');
        this.options.onFenced();
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        sleep(realClock, ok ? period : retry, signal).then(resolve, resolve);
      });
    }
  }

  private async renew(): Promise<void> {
    const now = Date.now();
    await this.client.patch(
      LEASES,
      this.options.namespace,
      this.leaseName,
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: this.leaseName,
          namespace: this.options.namespace,
          labels: { [WORKER_LEASE_LABEL]: 'true' },
          annotations: {
            [CAPACITY_ANNOTATION]: String(this.options.capacity()),
            ...(this.options.outputURL ? { [OUTPUT_URL_ANNOTATION]: this.options.outputURL } : {}),
          },
        },
        spec: {
          holderIdentity: this.options.name,
          leaseDurationSeconds: Math.round(this.options.leaseDurationMs / 1000),
          renewTime: microTime(now),
        },
      },
      'apply',
      { fieldManager: WORKER_FIELD_MANAGER, force: true },
    );
    this.lastRenewal = now;
    if (this.fenced) {
      this.fenced = false;
      this.options.log.info('heartbeat renewed again');
      this.options.onRenewed?.();
    }
  }
}
