// The manager runs it all: one shared informer per resource, the controllers, the health and
// metrics endpoints, and leader election. Informers run on every replica (a standby has warm
// caches); controllers run only while this replica leads. Losing the lease stops reconciling at
// once; SIGTERM drains the controllers and releases the lease.
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isNotFound, KubeClient, type KubeObject, type Resource } from './client.ts';
import { Controller, ControllerBuilder, type InformerOf } from './controller.ts';
import { EventRecorder } from './events.ts';
import { Informer, type InformerOptions } from './informer.ts';
import { LeaderElector } from './leader.ts';
import { createLogger } from './logging.ts';
import { Metrics } from './metrics.ts';
import { NAMESPACES } from './resources.ts';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  /** Names the field manager, the event source and the lease. */
  name?: string;
  /** Unique per replica: the lease holder and the events' reporting instance. */
  identity?: string;
  /** Watch only these namespaces (default: all). */
  namespaces?: string[];
  leaderElection?: {
    namespace: string;
    leaseName?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /**
   * Where /healthz, /readyz and /metrics are served: one server per distinct address (port 0:
   * any free port). Each server answers all three paths.
   */
  listen?: { host?: string; port: number }[];
  log?: Logger;
  /** What happens when the lease is lost; by default the process exits (a new pod campaigns afresh). */
  onLostLeadership?: () => void;
  /** Informer resync period (default 10 h, like controller-runtime's). */
  resyncMs?: number;
}

export class Manager {
  readonly client: KubeClient;
  readonly metrics = new Metrics();
  readonly log: Logger;
  readonly events: EventRecorder;
  readonly identity: string;
  readonly fieldManager: string;
  private readonly options: ManagerOptions;
  /** One informer per resource, each of its own T: the manager itself only runs them. */
  private readonly informers = new Map<string, Pick<Informer<KubeObject>, 'run' | 'waitForSync'>>();
  private readonly controllers: Controller[] = [];
  private readonly wiring: ((informer: InformerOf) => void)[] = [];
  private readonly stopInformers = new AbortController();
  private readonly stopLeading = new AbortController();
  private readonly servers: Server[] = [];
  private elector: LeaderElector | undefined;
  private electing: Promise<void> | undefined;
  private synced = false;
  private stopped: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.options = options;
    const name = options.name ?? 'rdev-operator';
    this.identity = options.identity ?? `${hostname()}_${process.pid}`;
    this.fieldManager = name;
    this.log = options.log ?? createLogger({ name });
    this.client = new KubeClient(options.kubeConfig, { observe: this.metrics.observeRequest });
    this.events = new EventRecorder(this.client, {
      controller: `rdev.dev/${name}`,
      instance: this.identity,
      log: this.log,
    });
  }

  /**
   * Creates the shared informer of `resource` with settings of its own (a parse, indexers,
   * selectors); started by start(). It must come before anything else uses that informer.
   */
  configureInformer<T extends KubeObject>(resource: Resource, options: InformerOptions<T>): Informer<T> {
    const key = resourceKey(resource);
    if (this.informers.has(key)) throw new Error(`the informer of ${key} is in use: configure it first`);
    const informer = Informer.forResource<T>(this.client, resource, {
      namespaces: this.options.namespaces,
      resyncMs: this.options.resyncMs ?? 10 * 3600_000,
      log: this.log.child({ informer: key }),
      onInvalid: () => this.metrics.invalidObject(key),
      ...options,
    });
    this.informers.set(key, informer);
    return informer;
  }

  /**
   * The shared informer of `resource` (created on first use, started by start()). T is what its
   * configuration makes of the objects (a kind's parse), or the client-node model of a built-in.
   */
  informer<T extends KubeObject = KubeObject>(resource: Resource): Informer<T> {
    const informer = this.informers.get(resourceKey(resource));
    // Stored without its T; the caller names the T that configureInformer gave it.
    return informer ? (informer as Informer<T>) : this.configureInformer<T>(resource, {});
  }

  controller(name: string): ControllerBuilder {
    return new ControllerBuilder(
      name,
      (o, reconciler) => new Controller({ ...o, log: this.log, metrics: this.metrics }, reconciler),
      (controller, wire) => {
        this.controllers.push(controller);
        this.wiring.push(wire);
      },
    );
  }

  get isReady(): boolean {
    return this.synced;
  }

  get isLeader(): boolean {
    return this.options.leaderElection ? (this.elector?.isLeader ?? false) : true;
  }

  /** Starts informers and the health server, waits for the caches, then leads (or campaigns). */
  async start(): Promise<void> {
    for (const wire of this.wiring) wire((r) => this.informer(r));
    for (const address of this.options.listen ?? [])
      await this.serve(address.port, address.host ?? '0.0.0.0');
    for (const informer of this.informers.values()) {
      informer.run(this.stopInformers.signal).catch((err) => this.log.error({ err }, 'informer stopped'));
    }
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    this.synced = true;
    this.log.info({ informers: [...this.informers.keys()] }, 'caches synced');

    const le = this.options.leaderElection;
    if (!le) {
      this.startControllers(this.stopLeading.signal);
      return;
    }
    const leaseName = le.leaseName ?? `${this.fieldManager}-leader`;
    // Without its namespace the Lease can never be created: say so now rather than retry forever.
    await this.client.get(NAMESPACES, undefined, le.namespace).catch((err) => {
      throw isNotFound(err)
        ? new Error(`the leader election namespace "${le.namespace}" does not exist`)
        : err;
    });
    this.elector = new LeaderElector(this.client, {
      namespace: le.namespace,
      name: leaseName,
      identity: this.identity,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      log: this.log,
    });
    this.metrics.leader.set({ name: leaseName }, 0);
    this.electing = this.elector.run(this.stopLeading.signal, {
      onStartedLeading: (signal) => {
        this.metrics.leader.set({ name: leaseName }, 1);
        this.startControllers(signal);
      },
      onLostLeadership: () => {
        this.metrics.leader.set({ name: leaseName }, 0);
        // The controllers' signal has aborted: no new reconciles, in-flight ones are told to stop.
        for (const c of this.controllers) c.queue.shutdown();
        (this.options.onLostLeadership ?? (() => process.exit(1)))();
      },
    });
  }

  /** Drains the controllers, releases the lease, stops the informers and the health server. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all(this.controllers.map((c) => c.stop()));
      this.stopLeading.abort(new Error('manager stopped'));
      await this.electing;
      this.stopInformers.abort(new Error('manager stopped'));
      await Promise.all(
        this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
      await this.client.close();
      this.log.info('manager stopped');
    })();
    return this.stopped;
  }

  /** Stops gracefully on SIGTERM/SIGINT, then exits. */
  stopOnSignals(): void {
    const onSignal = (signal: string) => {
      this.log.info({ signal }, 'shutting down');
      this.stop().then(
        () => process.exit(0),
        (err) => {
          this.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  }

  /** The ports the servers listen on (useful with port 0). */
  get ports(): number[] {
    return this.servers.flatMap((server) => {
      const address = server.address();
      return typeof address === 'object' && address ? [address.port] : [];
    });
  }

  private startControllers(signal: AbortSignal): void {
    for (const c of this.controllers) c.start(signal);
    this.log.info({ controllers: this.controllers.map((c) => c.name) }, 'controllers started');
  }

  private serve(port: number, host: string): Promise<void> {
    const server = createServer((req, res) => {
      const reply = (code: number, body: string, type = 'text/plain') => {
        res.writeHead(code, { 'content-type': type });
        res.end(body);
      };
      if (req.url === '/healthz') return reply(200, 'ok');
      if (req.url === '/readyz') return this.synced ? reply(200, 'ok') : reply(503, 'caches not synced');
      if (req.url === '/metrics') {
        this.metrics.registry.metrics().then(
          (text) => reply(200, text, this.metrics.registry.contentType),
          (err) => reply(500, String(err)),
        );
        return;
      }
      reply(404, 'not found');
    });
    this.servers.push(server);
    return new Promise((resolve) => server.listen(port, host, resolve));
  }
}

const resourceKey = (r: Resource) => `${r.plural}.${r.group || 'core'}/${r.version}`;
