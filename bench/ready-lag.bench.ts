// Where a Project's time goes: N Projects applied at once, and for each, seen through watches of
// our own, when its workspace Pod turned Running and when the Project turned Ready; the lag
// between the two, the operator's writes per Project by verb, its reconciles, and how long keys
// waited in the queue against how long reconciles took. Run: make bench.
import { PROJECTS } from '../operator/src/api/resources.ts';
import { registerProjectController } from '../operator/src/controllers/project/index.ts';
import { workspaceName } from '../operator/src/controllers/project/names.ts';
import type { KubeObject, Resource } from '../operator/src/runtime/client.ts';
import { PODS } from '../operator/src/runtime/resources.ts';
import { counterTotal, WRITE_VERBS } from '../test/integration/support/metrics.ts';
import { PROJECT_SPEC, rdevManifest } from '../test/support/manifests.ts';
import { inParallel, range } from '../test/support/parallel.ts';
import { Observer } from './observer.ts';
import { latencies, localPlane, row, startOperator, tearDown } from './support.ts';

const COUNT = Number(process.env.BENCH_LAG_PROJECTS ?? 100);
// Extra operator options, e.g. BENCH_LAG_ARGS=--workers=16.

type Phased = KubeObject & { status?: { phase?: string } };

const plane = await localPlane('bench-lag');
const { client, namespace } = plane;
const manager = await startOperator(
  plane,
  [registerProjectController],
  process.env.BENCH_LAG_ARGS?.split(' ') ?? [],
);

const inPhase = (phase: string) => (obj: Phased) => obj.status?.phase === phase;
const observer = new Observer(client, namespace, [
  { resource: PODS, ready: inPhase('Running') },
  { resource: PROJECTS, ready: inPhase('Ready') },
]);
await observer.start();
/** When the watch first showed `resource`'s object `name` ready (NaN: never). */
const readyAt = (resource: Resource, name: string) =>
  observer.get(resource, namespace, name)?.readyAt ?? Number.NaN;

const writesBefore = new Map<string, number>();
for (const verb of WRITE_VERBS)
  writesBefore.set(verb, await counterTotal(manager, 'rest_client_requests_total', (l) => l.verb === verb));
const created = new Map<string, number>();
const started = performance.now();
await inParallel(range(COUNT), 50, async (i) => {
  await client.create(PROJECTS, rdevManifest('Project', namespace, `lag-${i}`, PROJECT_SPEC));
  created.set(`lag-${i}`, performance.now());
});
const names = range(COUNT).map((i) => `lag-${i}`);
await observer.until(
  () => names.every((n) => readyAt(PROJECTS, n) >= 0),
  () => 'every Project Ready',
);
const wall = performance.now() - started;
observer.stop();

const podOf = (name: string) => readyAt(PODS, workspaceName(name));
const toRunning = names.map((n) => podOf(n) - (created.get(n) ?? 0));
const toReady = names.map((n) => readyAt(PROJECTS, n) - (created.get(n) ?? 0));
const lag = names.map((n) => readyAt(PROJECTS, n) - podOf(n));
const writes: string[] = [];
let total = 0;
for (const verb of WRITE_VERBS) {
  const n =
    (await counterTotal(manager, 'rest_client_requests_total', (l) => l.verb === verb)) -
    (writesBefore.get(verb) ?? 0);
  total += n;
  if (n > 0) writes.push(`${verb} ${(n / COUNT).toFixed(1)}`);
}
const metric = async (name: string) => {
  const values = (await manager.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  const of = (suffix: string) =>
    values
      .filter(
        (v) =>
          (v as { metricName?: string }).metricName === `${name}${suffix}` &&
          v.labels.controller === 'project',
      )
      .reduce((s, v) => s + v.value, 0);
  return { sum: of('_sum'), count: of('_count') };
};
const queued = await metric('workqueue_queue_duration_seconds');
const work = await metric('workqueue_work_duration_seconds');

console.log(`# ${COUNT} Projects applied at once: where the time goes (local plane, 4 workers)`);
row('create → Pod Running', latencies(toRunning, [50, 90, 99]));
row('create → Project Ready', latencies(toReady, [50, 90, 99]));
row('Pod Running → Project Ready', latencies(lag, [50, 90, 99, 100]));
row('wall (all Ready)', `${(wall / 1000).toFixed(2)} s`);
row('API writes per Project', `${(total / COUNT).toFixed(1)}  (${writes.join(', ')})`);
row(
  'reconciles per Project',
  `${(work.count / COUNT).toFixed(1)}  (queue wait avg ${((queued.sum / queued.count) * 1000).toFixed(0)} ms, reconcile avg ${((work.sum / work.count) * 1000).toFixed(0)} ms)`,
);
await tearDown(plane, manager);
