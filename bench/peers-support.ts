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
import { CONFIG_MAPS } from '../operator/src/runtime/resources.ts';
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
