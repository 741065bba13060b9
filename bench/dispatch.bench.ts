// WorkItem dispatch on the local plane: the operator in this process, three `rdev worker`
// processes. Latency is from the create request leaving the client to the item's process
// starting (it writes a clock reading to a ledger file; same machine, same clock), at steady
// arrival rates; throughput is a backlog of items drained to Succeeded.
// Run: make bench (brings the plane up if needed).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { installCrds } from '../operator/src/api/install-crds.ts';
import { WORK_ITEMS } from '../operator/src/api/resources.ts';
import { loadConfig } from '../operator/src/config.ts';
import { registerWorkControllers } from '../operator/src/controllers/workitem/index.ts';
import { isNotFound, KubeClient } from '../operator/src/runtime/client.ts';
import { createLogger } from '../operator/src/runtime/logging.ts';
import { Manager } from '../operator/src/runtime/manager.ts';
import { NAMESPACES } from '../operator/src/runtime/resources.ts';
import type { LiveWorkItem } from '../operator/src/work/lifecycle.ts';
import { Ledger } from '../test/integration/support/ledger.ts';

const RATES = (process.env.BENCH_DISPATCH_RATES ?? '10,50,100').split(',').map(Number);
const SECONDS_PER_RATE = Number(process.env.BENCH_DISPATCH_SECONDS ?? 10);
const BACKLOG = Number(process.env.BENCH_DISPATCH_BACKLOG ?? 500);
const WORKERS = 3;
const CAPACITY = 16;
const root = join(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (
  spawnSync(join(root, 'hack', 'cluster.sh'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0
) {
  throw new Error('could not bring the local plane up');
}
const kubeconfig = join(root, '.cluster', 'kubeconfig');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const client = new KubeClient(kc);
await installCrds(client);

const namespace = `bench-work-${randomBytes(3).toString('hex')}`;
await client.create(NAMESPACES, { metadata: { name: namespace } });
const manager = new Manager({
  kubeConfig: kc,
  namespaces: [namespace],
  log: createLogger({ level: 'silent' }),
});
registerWorkControllers(
  manager,
  loadConfig([`--namespace=${namespace}`, `--worker-namespace=${namespace}`], {}),
);
await manager.start();

const workers: ChildProcess[] = Array.from({ length: WORKERS }, (_, i) =>
  spawn(
    process.execPath,
    [
      join(root, 'bin', 'rdev.js'),
      'worker',
      `--name=bench-${i}`,
      `--lease-namespace=${namespace}`,
      `--namespace=${namespace}`,
      `--capacity=${CAPACITY}`,
      '--health-addr=',
      '--log-level=warn',
    ],
    { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'ignore', 'inherit'] },
  ),
);
// Wait for the pool: every worker's Lease seen.
for (;;) {
  const alive = (await manager.metrics.registry.getSingleMetric('rdev_worker_pool_workers')?.get())
    ?.values[0];
  if (alive?.value === WORKERS) break;
  await sleep(200);
}

const ledger = new Ledger();
let serial = 0;
const sentAt = new Map<string, number>();
async function createItem(): Promise<string> {
  const name = `item-${++serial}`;
  sentAt.set(name, Date.now());
  await client.create(WORK_ITEMS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'WorkItem',
    metadata: { name, namespace },
    spec: { projectRef: { name: `p${serial % 5}` }, type: 'shell', command: ledger.command(0) },
  });
  return name;
}

/**
 * Waits for every item to have run (the ledger, a local file: polling the API with LISTs would
 * load the API server being measured), then for all of them to read Succeeded.
 */
async function allSucceeded(names: Set<string>): Promise<void> {
  for (;;) {
    const counts = ledger.counts();
    if ([...names].every((n) => (counts.get(n)?.finished ?? 0) > 0)) break;
    await sleep(50);
  }
  for (;;) {
    const items = (await client.list<LiveWorkItem>(WORK_ITEMS, namespace)).items;
    const done = items.filter((i) => names.has(i.metadata.name) && i.status?.phase === 'Succeeded').length;
    if (done === names.size) return;
    const failed = items.find((i) => names.has(i.metadata.name) && i.status?.phase === 'Failed');
    if (failed) throw new Error(`${failed.metadata.name} failed: ${failed.status?.message}`);
    await sleep(1000);
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

console.log(`# WorkItem dispatch (local plane, in-process operator, ${WORKERS} workers × ${CAPACITY} slots)`);
console.log('# latency: create request sent → item process started');
for (const rate of RATES) {
  const names = new Set<string>();
  const creates: Promise<unknown>[] = [];
  const start = Date.now();
  const total = rate * SECONDS_PER_RATE;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    creates.push(createItem().then((name) => names.add(name)));
  }
  await Promise.all(creates);
  await allSucceeded(names);
  const started = new Map(ledger.runs().map((r) => [r.item, r.start]));
  const latencies = [...names]
    .map((name) => (started.get(name) ?? Number.NaN) - (sentAt.get(name) ?? Number.NaN))
    .sort((a, b) => a - b);
  console.log(
    `${String(rate).padStart(4)} items/s × ${SECONDS_PER_RATE} s   p50 ${percentile(latencies, 50).toFixed(0)} ms   p90 ${percentile(latencies, 90).toFixed(0)} ms   p99 ${percentile(latencies, 99).toFixed(0)} ms   max ${percentile(latencies, 100).toFixed(0)} ms`,
  );
}

// Throughput: a backlog created as fast as the API takes it, drained to Succeeded.
const backlog = new Set<string>();
const backlogStart = Date.now();
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (backlog.size < BACKLOG) backlog.add(await createItem());
  }),
);
const createdSeconds = (Date.now() - backlogStart) / 1000;
await allSucceeded(backlog);
const drainedSeconds = (Date.now() - backlogStart) / 1000;
console.log(
  `backlog of ${backlog.size}: created in ${createdSeconds.toFixed(1)} s, all Succeeded after ${drainedSeconds.toFixed(1)} s  (${(backlog.size / drainedSeconds).toFixed(1)} items/s)`,
);

for (const w of workers) w.kill('SIGTERM');
await client.delete(NAMESPACES, undefined, namespace);
for (;;) {
  const gone = await client.get(NAMESPACES, undefined, namespace).then(() => false, isNotFound);
  if (gone) break;
  await sleep(500);
}
await manager.stop();
