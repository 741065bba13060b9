// 500 Projects applied at once on the local plane: time until all are Ready, the operator's API
// writes per Project, and beside it the raw floor: the same number of writes issued by a tight
// client loop against the same API server. Run: make bench (brings the plane up if needed).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { installCrds } from '../operator/src/api/install-crds.ts';
import { PROJECTS } from '../operator/src/api/resources.ts';
import { loadConfig } from '../operator/src/config.ts';
import { registerProjectController } from '../operator/src/controllers/project/index.ts';
import { isNotFound, KubeClient, type KubeObject } from '../operator/src/runtime/client.ts';
import { createLogger } from '../operator/src/runtime/logging.ts';
import { Manager } from '../operator/src/runtime/manager.ts';
import { CONFIG_MAPS, NAMESPACES, SECRETS } from '../operator/src/runtime/resources.ts';

const COUNT = Number(process.env.BENCH_PROJECTS ?? 500);
const CONCURRENCY = 4; // the operator's default workers per controller
const root = join(import.meta.dirname, '..');

if (
  spawnSync(join(root, 'hack', 'cluster.sh'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0
) {
  throw new Error('could not bring the local plane up');
}
const kc = new KubeConfig();
kc.loadFromFile(join(root, '.cluster', 'kubeconfig'));
const client = new KubeClient(kc);
await installCrds(client);

const namespace = `bench-${randomBytes(3).toString('hex')}`;
await client.create(NAMESPACES, { metadata: { name: namespace } });
await client.create(SECRETS, {
  metadata: { name: 'anthropic', namespace },
  stringData: { ANTHROPIC_API_KEY: 'sk-bench-not-real' },
});

const manager = new Manager({
  kubeConfig: kc,
  namespaces: [namespace],
  log: createLogger({ level: 'silent' }),
});
registerProjectController(manager, loadConfig([`--namespace=${namespace}`], {}));
await manager.start();

async function writes(): Promise<number> {
  const metric = await manager.metrics.registry.getSingleMetric('rest_client_requests_total')?.get();
  return (metric?.values ?? [])
    .filter((v) => ['create', 'update', 'patch', 'delete'].includes(String(v.labels.verb)))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Runs `task(i)` for i in [0, n) with at most `limit` at once. */
async function pool(n: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

const writesBefore = await writes();
const started = performance.now();
await pool(COUNT, 50, (i) =>
  client.create(PROJECTS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: `bench-${i}`, namespace },
    spec: { agent: { credentialsSecretRef: { name: 'anthropic' } } },
  }),
);
const applied = performance.now();
for (;;) {
  const list = await client.list<KubeObject & { status?: { phase?: string } }>(PROJECTS, namespace);
  if (list.items.filter((p) => p.status?.phase === 'Ready').length === COUNT) break;
  await new Promise((r) => setTimeout(r, 250));
}
const readySeconds = (performance.now() - started) / 1000;
const operatorWrites = (await writes()) - writesBefore;

// The floor: the same number of writes, straight from a client loop, as many at once as the
// operator has workers.
const rawStarted = performance.now();
await pool(operatorWrites, CONCURRENCY, (i) =>
  client.create(CONFIG_MAPS, { metadata: { name: `raw-${i}`, namespace }, data: { i: String(i) } }),
);
const rawSeconds = (performance.now() - rawStarted) / 1000;

console.log(`# ${COUNT} Projects applied at once (local plane, operator with ${CONCURRENCY} workers)`);
console.log(`applied (all creates accepted)     ${((applied - started) / 1000).toFixed(1)} s`);
console.log(
  `all Ready                          ${readySeconds.toFixed(1)} s  (${(COUNT / readySeconds).toFixed(1)} Projects/s)`,
);
console.log(
  `operator API writes                ${operatorWrites}  (${(operatorWrites / COUNT).toFixed(1)} per Project)`,
);
console.log(
  `raw floor: ${operatorWrites} creates  ${rawSeconds.toFixed(1)} s  (${(operatorWrites / rawSeconds).toFixed(0)} writes/s, ${CONCURRENCY} at once)`,
);
console.log(`ratio operator / floor             ${(readySeconds / rawSeconds).toFixed(2)}x`);

const reconciles = await manager.metrics.registry
  .getSingleMetric('controller_runtime_reconcile_total')
  ?.get();
console.log(
  `reconciles                         ${(reconciles?.values ?? []).map((v) => `${v.labels.result}: ${v.value}`).join(', ')}`,
);

// Clean up while the operator still runs: it removes the Projects' finalizers.
await client.delete(NAMESPACES, undefined, namespace);
for (;;) {
  const gone = await client.get(NAMESPACES, undefined, namespace).then(() => false, isNotFound);
  if (gone) break;
  await new Promise((r) => setTimeout(r, 500));
}
await manager.stop();
