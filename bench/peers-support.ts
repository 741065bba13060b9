// What the peer bench (peers.bench.ts) needs beyond bench/support.ts: kubernetes-sigs/agent-sandbox
// (its kinds, its CRDs, its controller as a local process) and an observer that timestamps, from
// watch events, when each object became ready and when it was deleted, and knows which objects
// own which (the trees a deletion must remove).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';
import { applyCrds } from '../operator/src/api/install-crds.ts';
import {
  apiVersionOf,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type Resource,
} from '../operator/src/runtime/client.ts';
import { Informer } from '../operator/src/runtime/informer.ts';
import { CONFIG_MAPS } from '../operator/src/runtime/resources.ts';
import { keyOf } from '../operator/src/runtime/store.ts';
import { ROOT, sleep } from './support.ts';

/** A kind of agent-sandbox, at the version the bench uses (v1beta1, the stored one). */
const agentSandboxKind = (group: string, plural: string, kind: string): Resource => ({
  group,
  version: 'v1beta1',
  plural,
  kind,
  namespaced: true,
});
export const SANDBOXES = agentSandboxKind('agents.x-k8s.io', 'sandboxes', 'Sandbox');
const EXTENSIONS = 'extensions.agents.x-k8s.io';
export const SANDBOX_CLAIMS = agentSandboxKind(EXTENSIONS, 'sandboxclaims', 'SandboxClaim');
export const SANDBOX_TEMPLATES = agentSandboxKind(EXTENSIONS, 'sandboxtemplates', 'SandboxTemplate');
export const SANDBOX_WARM_POOLS = agentSandboxKind(EXTENSIONS, 'sandboxwarmpools', 'SandboxWarmPool');

/** The agent-sandbox build (hack/build-agent-sandbox.sh, once, cached): the controller and its CRDs. */
export function agentSandboxBuild(): string {
  const build = spawnSync(join(ROOT, 'hack', 'build-agent-sandbox.sh'), {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error('could not build agent-sandbox (hack/build-agent-sandbox.sh)');
  return build.stdout.trim();
}

/**
 * Installs agent-sandbox's CRDs as its module ships them, except their conversion: they name a
 * webhook (the controller's, which serves v1alpha1 ⇄ v1beta1) that the local plane cannot reach.
 * Without it (strategy None) each version is served as stored; the bench uses v1beta1 only.
 */
export async function installAgentSandboxCrds(client: KubeClient, buildDir: string): Promise<void> {
  const dir = join(buildDir, 'crds');
  const crds = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as KubeObject & { spec: Record<string, unknown> })
    .map((crd) => ({ ...crd, spec: { ...crd.spec, conversion: { strategy: 'None' } } }));
  await applyCrds(client, crds, { fieldManager: 'rdev-bench' });
}

/** A free loopback port (for a server of the controller's that would otherwise take a fixed one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** The controllers the agent-sandbox manager runs with --extensions. */
const AGENT_SANDBOX_CONTROLLERS = 4;

/** agent-sandbox's controller, running as a local process against the plane. */
export class AgentSandboxController {
  private readonly process: ChildProcess;
  private readonly metricsUrl: string;

  private constructor(process: ChildProcess, metricsUrl: string) {
    this.process = process;
    this.metricsUrl = metricsUrl;
  }

  /**
   * Starts it with its defaults (workers, no client-side rate limit) but no leader election, no
   * webhook, and its metrics on a free loopback port; resolves once each of its controllers
   * started its workers. Its log goes to `logFile`.
   */
  static async start(buildDir: string, kubeconfig: string, logFile: string): Promise<AgentSandboxController> {
    const metricsPort = await freePort();
    const proc = spawn(
      join(buildDir, 'agent-sandbox-controller'),
      [
        `--kubeconfig=${kubeconfig}`,
        '--leader-elect=false',
        '--enable-webhook=false',
        '--extensions',
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        '--health-probe-bind-address=0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const log = createWriteStream(logFile, { flags: 'a' });
    const started = new Set<string>();
    const ready = new Promise<void>((resolve, reject) => {
      proc.on('exit', (code) =>
        reject(new Error(`agent-sandbox-controller exited (${code}); log: ${logFile}`)),
      );
      createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', (line) => {
        log.write(`${line}\n`);
        // controller-runtime logs "Starting workers" with the controller's name, once each.
        const controller = /"msg":"Starting workers".*"controller":"([^"]+)"/.exec(line)?.[1];
        if (controller) started.add(controller);
        if (started.size >= AGENT_SANDBOX_CONTROLLERS) resolve();
      });
    });
    const timeout = sleep(60_000).then(() => {
      throw new Error(`agent-sandbox-controller not started within 60 s; log: ${logFile}`);
    });
    try {
      await Promise.race([ready, timeout]);
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
    return new AgentSandboxController(proc, `http://127.0.0.1:${metricsPort}/metrics`);
  }

  /** The API writes (POST, PUT, PATCH, DELETE) it has made so far, from its client metrics. */
  async writes(): Promise<number> {
    const text = await (await fetch(this.metricsUrl)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('rest_client_requests_total{')) continue;
      if (!/method="(POST|PUT|PATCH|DELETE)"/.test(line)) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  }

  /** SIGTERM, then waits for it to exit (SIGKILL after 10 s). */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.removeAllListeners('exit'); // the start's "exited" error
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGTERM');
    const kill = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  }
}

/** What the observer knows of one object (by UID): its latest version and the times of its events. */
export interface Tracked {
  resource: Resource;
  obj: KubeObject;
  /** performance.now() of its first event (its ADDED, or the list that found it). */
  seenAt: number;
  /** performance.now() of the first event in which `ready` held. */
  readyAt?: number;
  /** performance.now() of its DELETED event. */
  goneAt?: number;
}

export interface Watched<T extends KubeObject = KubeObject> {
  resource: Resource;
  /** When an object of the resource counts as ready (unset: never timed). */
  ready?: (obj: T) => boolean;
}

/**
 * Watches resources in one namespace (an informer each) and timestamps their events as they
 * arrive, so that latencies are not quantised by a poll interval. `until` waits for a condition
 * re-checked on each event (and on `poke`), never by polling.
 */
export class Observer {
  private readonly informers = new Map<Resource, Informer<KubeObject>>();
  private readonly byUid = new Map<string, Tracked>();
  private readonly waiters = new Set<() => void>();
  private readonly stopping = new AbortController();

  constructor(client: KubeClient, namespace: string, watched: readonly Watched[]) {
    for (const { resource, ready } of watched) {
      const informer = Informer.forResource<KubeObject>(client, resource, { namespaces: [namespace] });
      const seen = (obj: KubeObject) => {
        const now = performance.now();
        const uid = obj.metadata.uid ?? keyOf(obj);
        const tracked = this.byUid.get(uid) ?? { resource, obj, seenAt: now };
        tracked.obj = obj;
        if (tracked.readyAt === undefined && ready?.(obj)) tracked.readyAt = now;
        this.byUid.set(uid, tracked);
        this.poke();
      };
      informer.on({
        add: seen,
        update: (_, obj) => seen(obj),
        delete: (obj) => {
          const now = performance.now();
          const tracked = this.byUid.get(obj.metadata.uid ?? keyOf(obj)) ?? { resource, obj, seenAt: now };
          tracked.goneAt ??= now;
          this.byUid.set(obj.metadata.uid ?? keyOf(obj), tracked);
          this.poke();
        },
      });
      this.informers.set(resource, informer);
    }
  }

  /** Starts the informers; resolves once each has listed. */
  async start(): Promise<void> {
    for (const informer of this.informers.values()) {
      informer.run(this.stopping.signal).catch((err) => console.error('observer informer stopped:', err));
    }
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  stop(): void {
    this.stopping.abort();
    for (const wake of this.waiters) wake();
  }

  /** The object of `resource` named `name` as now cached (undefined when there is none). */
  get(resource: Resource, namespace: string, name: string): Tracked | undefined {
    const obj = this.informers.get(resource)?.store.get(`${namespace}/${name}`);
    return obj ? this.byUid.get(obj.metadata.uid ?? keyOf(obj)) : undefined;
  }

  /** `roots` and every cached object they own, at any depth (through any owner reference). */
  tree(roots: readonly Tracked[]): Tracked[] {
    const dependents = new Map<string, string[]>();
    for (const [uid, t] of this.byUid) {
      if (t.goneAt !== undefined) continue;
      for (const owner of t.obj.metadata.ownerReferences ?? []) {
        dependents.set(owner.uid, [...(dependents.get(owner.uid) ?? []), uid]);
      }
    }
    const found = new Set<string>();
    const queue = roots.flatMap((r) => (r.obj.metadata.uid ? [r.obj.metadata.uid] : []));
    for (let uid = queue.shift(); uid !== undefined; uid = queue.shift()) {
      if (found.has(uid)) continue;
      found.add(uid);
      queue.push(...(dependents.get(uid) ?? []));
    }
    return [...found].flatMap((uid) => {
      const t = this.byUid.get(uid);
      return t ? [t] : [];
    });
  }

  /** Re-checks the waiters (for conditions on things other than the watched objects). */
  poke(): void {
    for (const wake of this.waiters) wake();
  }

  /** Resolves when `done()` holds, re-checked on every event; rejects after `timeoutMs`. */
  until(done: () => boolean, what: () => string, timeoutMs = 600_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        if (err) reject(err);
        else resolve();
      };
      const wake = () => {
        if (this.stopping.signal.aborted) finish(new Error('observer stopped'));
        else if (done()) finish();
      };
      const timer = setTimeout(
        () => finish(new Error(`not within ${timeoutMs / 1000} s: ${what()}`)),
        timeoutMs,
      );
      this.waiters.add(wake);
    });
  }
}

/**
 * Waits until the garbage collector collects dependents through objects of `resource`: a
 * ConfigMap owns an object of `owner` (made by the caller: `make(ownerRef)`), which owns a
 * second ConfigMap; deleting the first ConfigMap must remove the object, then the second one.
 * That takes the collector's monitors of the kind (it reads discovery again only every ~30 s),
 * which a deletion benchmark of a newly installed kind would otherwise wait out in its figures.
 */
export async function untilCollected(
  client: KubeClient,
  namespace: string,
  resource: Resource,
  make: (ownerReferences: NonNullable<KubeObject['metadata']['ownerReferences']>) => KubeObject,
  timeoutMs = 180_000,
): Promise<void> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const ref = (o: KubeObject, r: Resource) => [
    { apiVersion: apiVersionOf(r), kind: r.kind, name: o.metadata.name, uid: o.metadata.uid ?? '' },
  ];
  const top = await client.create(CONFIG_MAPS, { metadata: { name: `gc-probe-top-${suffix}`, namespace } });
  const middle = await client.create(resource, make(ref(top, CONFIG_MAPS)));
  const bottom = await client.create(CONFIG_MAPS, {
    metadata: { name: `gc-probe-bottom-${suffix}`, namespace, ownerReferences: ref(middle, resource) },
  });
  await client.delete(CONFIG_MAPS, namespace, top.metadata.name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = await client.get(CONFIG_MAPS, namespace, bottom.metadata.name).then(() => false, isNotFound);
    if (gone) return;
    if (Date.now() > deadline)
      throw new Error(`the garbage collector did not collect through ${resource.kind}`);
    await sleep(500);
  }
}
