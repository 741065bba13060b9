// The queue's order and limits on a real backlog: 300 items from five Projects, created before
// any worker exists, then three workers of three slots each, with at most six items running in
// all and two per Project. Judged by what the item processes did (a ledger file).
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS as PROJECT_KIND, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { inParallel } from '../support/parallel.ts';
import { createAgentSecret, eventually, kubeConfig } from './support/kube.ts';
import { Ledger } from './support/ledger.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { rdevKind } from './support/rdev-objects.ts';
import { spawnWorker } from './support/worker.ts';

const ns = useOperatorNamespace('rdev-work-fair', (n) => [
  `--worker-namespace=${n}`,
  '--max-running=6',
  '--max-running-per-project=2',
]);
const client = new KubeClient(kubeConfig());
const items = rdevKind<LiveWorkItem>(client, WORK_ITEMS, ns);
const projects = rdevKind(client, PROJECT_KIND, ns, { spec: PROJECT_SPEC });

const PROJECTS = ['p1', 'p2', 'p3', 'p4', 'p5'];

// Items run in runner Pods of their Projects.
beforeAll(async () => {
  await createAgentSecret(ns.name);
  await Promise.all(PROJECTS.map((p) => projects.create(p)));
  await Promise.all(PROJECTS.map((p) => projects.phase(p, 'Ready', 90_000)));
});
/** Per Project: 12 urgent, 36 normal and 12 background items (60, 180 and 60 in all). */
const CLASSES = [
  { name: 'hi', priority: 5, count: 12 },
  { name: 'mid', priority: 0, count: 36 },
  { name: 'lo', priority: -5, count: 12 },
];
const projectOf = (item: string) => item.split('-')[0] ?? '';
const classOf = (item: string) => item.split('-')[1] ?? '';

describe('a backlog of 300 items on three workers', () => {
  it('runs each once, urgent first, Projects served in turn, within the running limits', async () => {
    const ledger = new Ledger();
    const backlog = PROJECTS.flatMap((project) =>
      CLASSES.flatMap((c) =>
        Array.from({ length: c.count }, (_, i) => ({
          name: `${project}-${c.name}-${i}`,
          project,
          priority: c.priority,
        })),
      ),
    );
    await inParallel(backlog, 8, (item) =>
      items.create(item.name, {
        projectRef: { name: item.project },
        type: 'shell',
        command: ledger.command(0.5),
        priority: item.priority,
        maxAttempts: 1,
      }),
    );
    for (const name of ['f1', 'f2', 'f3']) spawnWorker(ns.name, name, ['--capacity=3']);

    await eventually(
      async () => {
        const left = (await items.list()).filter((i) => i.status?.phase !== 'Succeeded');
        if (left.length > 0) {
          const failed = left.filter((i) => i.status?.phase === 'Failed');
          throw new Error(
            `${left.length} not done; failed: ${failed.map((i) => i.metadata.name).join(', ')}`,
          );
        }
        return true;
      },
      { timeoutMs: 300_000, intervalMs: 1000 },
    );

    const counts = ledger.counts();
    expect(counts.size).toBe(backlog.length);
    for (const item of backlog) expect(counts.get(item.name), item.name).toEqual({ started: 1, finished: 1 });

    // Within the limits, and the pool was in use.
    const overall = ledger.maxConcurrent().get('all') ?? 0;
    expect(overall).toBeLessThanOrEqual(6);
    expect(overall).toBeGreaterThanOrEqual(4);
    for (const [project, max] of ledger.maxConcurrent(projectOf)) expect(max, project).toBeLessThanOrEqual(2);

    // Strict priority: the first 30 to start are urgent, background starts after every urgent one.
    const order = ledger.runs().map((r) => r.item);
    expect(order.slice(0, 30).map(classOf)).toEqual(Array(30).fill('hi'));
    const startsOf = (cls: string) =>
      ledger
        .runs()
        .filter((r) => classOf(r.item) === cls)
        .map((r) => r.start);
    expect(Math.min(...startsOf('lo'))).toBeGreaterThan(Math.max(...startsOf('hi')));

    // Fair share among equals: the first 50 normal items are spread evenly over the Projects.
    const firstNormal = order.filter((item) => classOf(item) === 'mid').slice(0, 50);
    for (const project of PROJECTS) {
      const served = firstNormal.filter((item) => projectOf(item) === project).length;
      expect(served, `${project} among the first 50 normal items`).toBeGreaterThanOrEqual(8);
      expect(served, `${project} among the first 50 normal items`).toBeLessThanOrEqual(12);
    }
  });
});
