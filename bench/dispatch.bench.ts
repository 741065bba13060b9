// WorkItem dispatch on the local plane: the operator in this process, three `rdev worker`
// processes, items running in runner Pods of five Projects. Latency is from the create request
// leaving the client to the item's process starting in its runner (it writes a clock reading to
// a ledger file; kwok runs exec'd commands on this machine, so same clock), at steady arrival
// rates, with runners claimed from warm pools and with every runner made for its item (cold);
// throughput is a backlog of items drained to Succeeded.
// Run: make bench (brings the plane up if needed).
import { PROJECTS, WORK_ITEMS } from '../operator/src/api/resources.ts';
import type { LiveProject } from '../operator/src/api/v1alpha1/index.ts';
import { registerProjectController } from '../operator/src/controllers/project/index.ts';
import { registerWorkControllers } from '../operator/src/controllers/workitem/index.ts';
import type { LiveWorkItem } from '../operator/src/shared/work-phases.ts';
import { Ledger } from '../test/integration/support/ledger.ts';
import { gaugeValue } from '../test/integration/support/metrics.ts';
import { PROJECT_SPEC, rdevManifest } from '../test/support/manifests.ts';
import { latencies, localPlane, row, sleep, spawnWorker, startOperator, tearDown, until } from './support.ts';

const RATES = (process.env.BENCH_DISPATCH_RATES ?? '10,50').split(',').map(Number);
const SECONDS_PER_RATE = Number(process.env.BENCH_DISPATCH_SECONDS ?? 10);
const BACKLOG = Number(process.env.BENCH_DISPATCH_BACKLOG ?? 500);
const WORKERS = 3;
const CAPACITY = 16;

const plane = await localPlane('bench-work');
const { client, namespace } = plane;
const manager = await startOperator(
  plane,
  [registerProjectController, registerWorkControllers],
  [`--worker-namespace=${namespace}`],
);
/** Warm runners per Project in the warm case: enough for the highest rate's burst. */
const WARM = Number(process.env.BENCH_DISPATCH_WARM ?? 20);
const POOLS = { warm: WARM, cold: 0 };
for (const [pool, warm] of Object.entries(POOLS))
  for (let p = 0; p < 5; p++)
    await client.create(
      PROJECTS,
      rdevManifest('Project', namespace, `${pool}-${p}`, { ...PROJECT_SPEC, runners: { warm } }),
    );
/** Waits until every Project of `pool` has its warm runners Ready. */
const poolReady = (pool: keyof typeof POOLS) =>
  until(async () => {
    const projects = (await client.list<LiveProject>(PROJECTS, namespace)).items;
    return projects
      .filter((p) => p.metadata.name.startsWith(`${pool}-`))
      .every((p) => p.status?.phase === 'Ready' && (p.status.runners?.warm ?? 0) >= POOLS[pool]);
  }, 500);

const workers = Array.from({ length: WORKERS }, (_, i) =>
  spawnWorker(plane, `bench-${i}`, [`--capacity=${CAPACITY}`]),
);
// Wait for the pool: every worker's Lease seen.
await until(async () => (await gaugeValue(manager, 'rdev_worker_pool_workers')) === WORKERS, 200);

const ledger = new Ledger();
let serial = 0;
const sentAt = new Map<string, number>();
async function createItem(pool: keyof typeof POOLS): Promise<string> {
  const name = `item-${++serial}`;
  sentAt.set(name, Date.now());
  await client.create(
    WORK_ITEMS,
    rdevManifest('WorkItem', namespace, name, {
      projectRef: { name: `${pool}-${serial % 5}` },
      type: 'shell',
      command: ledger.command(0),
    }),
  );
  return name;
}

/**
 * Waits for every item to have run (the ledger, a local file: polling the API with LISTs would
 * load the API server being measured), then for all of them to read Succeeded.
 */
async function allSucceeded(names: Set<string>): Promise<void> {
  await until(() => {
    const counts = ledger.counts();
    return [...names].every((n) => (counts.get(n)?.finished ?? 0) > 0);
  }, 50);
  await until(async () => {
    const items = (await client.list<LiveWorkItem>(WORK_ITEMS, namespace)).items;
    const failed = items.find((i) => names.has(i.metadata.name) && i.status?.phase === 'Failed');
    if (failed) throw new Error(`${failed.metadata.name} failed: ${failed.status?.message}`);
    const done = items.filter((i) => names.has(i.metadata.name) && i.status?.phase === 'Succeeded').length;
    return done === names.size;
  }, 1000);
}

console.log(`# WorkItem dispatch (local plane, in-process operator, ${WORKERS} workers × ${CAPACITY} slots)`);
console.log(
  `# latency: create request sent → item process started in its runner (warm: ${WARM} per Project)`,
);
for (const pool of ['warm', 'cold'] as const) {
  for (const rate of RATES) {
    await poolReady(pool);
    const names = new Set<string>();
    const creates: Promise<unknown>[] = [];
    const start = Date.now();
    const total = rate * SECONDS_PER_RATE;
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      creates.push(createItem(pool).then((name) => names.add(name)));
    }
    await Promise.all(creates);
    await allSucceeded(names);
    const started = new Map(ledger.runs().map((r) => [r.item, r.start]));
    const waits = [...names].map(
      (name) => (started.get(name) ?? Number.NaN) - (sentAt.get(name) ?? Number.NaN),
    );
    row(
      `${pool} ${String(rate).padStart(4)} items/s × ${SECONDS_PER_RATE} s`,
      latencies(waits, [50, 90, 99, 100]),
    );
  }
}

// Throughput: a backlog created as fast as the API takes it, drained to Succeeded.
const backlog = new Set<string>();
const backlogStart = Date.now();
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (backlog.size < BACKLOG) backlog.add(await createItem('warm'));
  }),
);
const createdSeconds = (Date.now() - backlogStart) / 1000;
await allSucceeded(backlog);
const drainedSeconds = (Date.now() - backlogStart) / 1000;
row(
  `backlog of ${backlog.size}`,
  `created in ${createdSeconds.toFixed(1)} s, all Succeeded after ${drainedSeconds.toFixed(1)} s  (${(backlog.size / drainedSeconds).toFixed(1)} items/s)`,
);

for (const w of workers) w.kill('SIGTERM');
await tearDown(plane, manager);
