// What the benchmarks on the local plane share: bringing the plane up with the CRDs and a
// namespace of their own, an operator in this process, `rdev worker` processes, polling, and
// printing figures.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import { installCrds } from '../operator/src/api/install-crds.ts';
import { parseProject } from '../operator/src/api/v1alpha1/index.ts';
import { loadConfig } from '../operator/src/config.ts';
import {
  checkCredentials,
  desiredChildren,
  desiredCredentialsSecret,
  desiredPod,
} from '../operator/src/controllers/project/desired.ts';
import { APPLIED_CHILDREN } from '../operator/src/controllers/project/names.ts';
import { isNotFound, KubeClient, type KubeObject, type Resource } from '../operator/src/runtime/client.ts';
import { createLogger } from '../operator/src/runtime/logging.ts';
import { Manager } from '../operator/src/runtime/manager.ts';
import { NAMESPACES, PODS, SECRETS } from '../operator/src/runtime/resources.ts';
import { AGENT_SECRET, PROJECT_SPEC, rdevManifest } from '../test/support/manifests.ts';

type Config = ReturnType<typeof loadConfig>;

export const ROOT = join(import.meta.dirname, '..');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `done` every `intervalMs` until it is true. */
export async function until(done: () => boolean | Promise<boolean>, intervalMs: number): Promise<void> {
  while (!(await done())) await sleep(intervalMs);
}

export interface Plane {
  kc: KubeConfig;
  /** The kubeconfig file, for child processes. */
  kubeconfig: string;
  client: KubeClient;
  /** `<prefix>-<random>`, holding the agent Secret that Projects name (PROJECT_SPEC). */
  namespace: string;
}

/** Brings the local plane up if needed (hack/cluster.sh up), installs the CRDs, makes the namespace. */
export async function localPlane(prefix: string): Promise<Plane> {
  const up = spawnSync(join(ROOT, 'hack', 'cluster.sh'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (up.status !== 0) throw new Error('could not bring the local plane up');
  const kubeconfig = join(ROOT, '.cluster', 'kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new KubeClient(kc);
  await installCrds(client);
  const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
  await client.create(NAMESPACES, { metadata: { name: namespace } });
  await client.create(SECRETS, {
    metadata: { name: AGENT_SECRET, namespace },
    stringData: { ANTHROPIC_API_KEY: 'sk-bench-not-real' },
  });
  return { kc, kubeconfig, client, namespace };
}

/** The operator in this process, watching the plane's namespace, with the controllers `register` adds. */
export async function startOperator(
  plane: Plane,
  register: ((manager: Manager, config: Config) => void)[],
  args: string[] = [],
): Promise<Manager> {
  const manager = new Manager({
    kubeConfig: plane.kc,
    namespaces: [plane.namespace],
    log: createLogger({ level: 'silent' }),
  });
  const config = loadConfig([`--namespace=${plane.namespace}`, ...args], {});
  for (const r of register) r(manager, config);
  await manager.start();
  return manager;
}

/** Deletes the namespace while the operator still runs (it removes its finalizers), then stops it. */
export async function tearDown(plane: Plane, operator: Manager): Promise<void> {
  await plane.client.delete(NAMESPACES, undefined, plane.namespace);
  await until(
    () => plane.client.get(NAMESPACES, undefined, plane.namespace).then(() => false, isNotFound),
    500,
  );
  await operator.stop();
  await plane.client.close();
}

/**
 * An `rdev worker` process serving `plane.namespace` (its Lease there too); `onLine` is told of
 * each line it prints of the items it runs (`[namespace/name#attempt] text`) as it arrives.
 */
export function spawnWorker(
  plane: Plane,
  name: string,
  args: string[],
  onLine?: (line: string) => void,
): ChildProcess {
  const worker = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'rdev.js'),
      'worker',
      `--name=${name}`,
      `--lease-namespace=${plane.namespace}`,
      `--namespace=${plane.namespace}`,
      '--health-addr=',
      '--log-level=warn',
      ...args,
    ],
    {
      env: { ...process.env, KUBECONFIG: plane.kubeconfig },
      stdio: ['ignore', onLine ? 'pipe' : 'ignore', 'inherit'],
    },
  );
  if (onLine && worker.stdout) {
    createInterface({ input: worker.stdout }).on('line', (line) => {
      if (line.startsWith('[')) onLine(line);
    });
  }
  return worker;
}

/** The value below which p % of `values` lie (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** "p50 12 ms  p99 30 ms" for the given percentiles; 100 is written max. */
export function latencies(values: readonly number[], ps: readonly number[]): string {
  return ps.map((p) => `${p === 100 ? 'max' : `p${p}`} ${percentile(values, p).toFixed(0)} ms`).join('  ');
}

/** A line of a figures table: the label in a column of its own. */
export function row(label: string, figures: string): void {
  console.log(`${label.padEnd(34)} ${figures}`);
}

/**
 * What a workspace-only Project named `name` makes, in the order rdev writes it, without owner:
 * the floor a client loop applying the same objects sets for the operator.
 */
export function projectChildren(namespace: string, name: string): { resource: Resource; obj: KubeObject }[] {
  const config = loadConfig([`--namespace=${namespace}`], {});
  const project = parseProject({
    ...rdevManifest('Project', namespace, name, PROJECT_SPEC),
    metadata: { name, namespace, uid: `floor-${name}`, generation: 1 },
  });
  const pod = desiredPod(project, config, checkCredentials(project, ['ANTHROPIC_API_KEY']));
  if (!pod) throw new Error('no workspace Pod for the floor');
  const objects = [
    ...desiredChildren(project, config),
    desiredCredentialsSecret(project, randomBytes(32).toString('base64url')),
    pod,
  ];
  const resources = [...APPLIED_CHILDREN, SECRETS, PODS];
  return objects.map((obj) => {
    const resource = resources.find((r) => r.kind === obj.kind);
    if (!resource) throw new Error(`no resource for ${obj.kind}`);
    const { ownerReferences: _none, ...metadata } = obj.metadata ?? {};
    return {
      resource,
      obj: { ...obj, metadata: { ...metadata, name: metadata.name ?? name } } as KubeObject,
    };
  });
}
