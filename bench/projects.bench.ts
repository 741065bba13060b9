// 500 Projects applied at once on the local plane: time until all are Ready, the operator's API
// writes per Project, and beside it the floor: the same children (ServiceAccount, claim, Service,
// NetworkPolicy, Secret, Pod) applied by a client loop, waiting for the same Pods Running. Run:
// make bench (brings the plane up if needed).
import { PROJECTS } from '../operator/src/api/resources.ts';
import { registerProjectController } from '../operator/src/controllers/project/index.ts';
import type { KubeObject } from '../operator/src/runtime/client.ts';
import { PODS } from '../operator/src/runtime/resources.ts';
import { apiWrites } from '../test/integration/support/metrics.ts';
import { PROJECT_SPEC, rdevManifest } from '../test/support/manifests.ts';
import { inParallel, range } from '../test/support/parallel.ts';
import { localPlane, projectChildren, row, startOperator, tearDown, until } from './support.ts';

const COUNT = Number(process.env.BENCH_PROJECTS ?? 500);
const CONCURRENCY = 4; // the operator's default workers per controller

const plane = await localPlane('bench');
const { client, namespace } = plane;
const manager = await startOperator(plane, [registerProjectController]);

const writesBefore = await apiWrites(manager);
const started = performance.now();
await inParallel(range(COUNT), 50, (i) =>
  client.create(PROJECTS, rdevManifest('Project', namespace, `bench-${i}`, PROJECT_SPEC)),
);
const applied = performance.now();
await until(async () => {
  const list = await client.list<KubeObject & { status?: { phase?: string } }>(PROJECTS, namespace);
  return list.items.filter((p) => p.status?.phase === 'Ready').length === COUNT;
}, 250);
const readySeconds = (performance.now() - started) / 1000;
const operatorWrites = (await apiWrites(manager)) - writesBefore;

// The floor: what the operator makes for each Project, created by a client loop (the Projects'
// children one after the other, 50 Projects' at once, as the Projects were sent), until the
// same Pods are Running.
const floorStarted = performance.now();
await inParallel(range(COUNT), 50, async (i) => {
  for (const { resource, obj } of projectChildren(namespace, `floor-${i}`))
    await client.create(resource, obj);
});
await until(async () => {
  const pods = await client.list<KubeObject & { status?: { phase?: string } }>(PODS, namespace);
  return (
    pods.items.filter((p) => p.metadata.name?.startsWith('floor-') && p.status?.phase === 'Running')
      .length === COUNT
  );
}, 250);
const floorSeconds = (performance.now() - floorStarted) / 1000;

console.log(`# ${COUNT} Projects applied at once (local plane, operator with ${CONCURRENCY} workers)`);
row('applied (all creates accepted)', `${((applied - started) / 1000).toFixed(1)} s`);
row('all Ready', `${readySeconds.toFixed(1)} s  (${(COUNT / readySeconds).toFixed(1)} Projects/s)`);
row('operator API writes', `${operatorWrites}  (${(operatorWrites / COUNT).toFixed(1)} per Project)`);
row('floor: the same children, Pods Running', `${floorSeconds.toFixed(1)} s`);
row('ratio operator / floor', `${(readySeconds / floorSeconds).toFixed(2)}x`);

const reconciles = await manager.metrics.registry
  .getSingleMetric('controller_runtime_reconcile_total')
  ?.get();
row('reconciles', (reconciles?.values ?? []).map((v) => `${v.labels.result}: ${v.value}`).join(', '));

await tearDown(plane, manager);
