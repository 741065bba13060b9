// Crash safety of the work queue, judged by what the item processes did (a ledger file) rather
// than by what the API says: a worker SIGKILLed mid-item has its item retried on another worker
// and finished once; the operator SIGKILLed again and again while items flow loses none and runs
// none twice.
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { PODS, type Pod } from '../../operator/src/runtime/resources.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { installCrds } from './support/crds.ts';
import { createAgentSecret, eventually, isGone, kubeConfig, useNamespace } from './support/kube.ts';
import { Ledger } from './support/ledger.ts';
import { useOperatorProcess } from './support/operator.ts';
import { seededRandom } from './support/random.ts';
import { rdevKind } from './support/rdev-objects.ts';
import { spawnWorker } from './support/worker.ts';

const kc = kubeConfig();
const client = new KubeClient(kc);
const operator = useOperatorProcess(
  () => ns.name,
  (n) => [`--worker-namespace=${n}`],
);
const ns = useNamespace('rdev-work-chaos');
const items = rdevKind<LiveWorkItem>(client, WORK_ITEMS, ns, {
  spec: { projectRef: { name: 'chaos' }, type: 'shell', retryBackoff: '1s' },
});

const projects = rdevKind(client, PROJECTS, ns, { spec: PROJECT_SPEC });

const random = seededRandom(7); // deterministic: a failure can be replayed
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await installCrds(kc);
  operator.restart();
  // Items run in runner Pods of their Project.
  await createAgentSecret(ns.name);
  await projects.create('chaos');
  await projects.phase('chaos', 'Ready', 90_000);
});

describe('the work queue under crashes', () => {
  it('retries the item of a SIGKILLed worker on another worker and finishes it once', async () => {
    const ledger = new Ledger();
    const workers = [
      spawnWorker(ns.name, 'k1', ['--capacity=1']),
      spawnWorker(ns.name, 'k2', ['--capacity=1']),
    ];
    await items.create('victim', { command: ledger.command(4) });
    const running = await eventually(async () => {
      const item = await items.get('victim');
      return item.status?.phase === 'Running' && ledger.runs().length === 1 ? item : undefined;
    });
    const first = running.status?.worker;
    const firstRunner = running.status?.runner?.podName ?? '';
    workers.find((w) => w.name === first)?.kill('SIGKILL');

    const done = await items.phase('victim', 'Succeeded', 60_000);
    expect(done.status?.attempts).toBe(2);
    expect(done.status?.worker).not.toBe(first);
    expect(done.status?.runner?.podName).not.toBe(firstRunner);
    expect(ledger.counts().get('victim')?.started).toBe(2);
    // The lost attempt's runner is deleted, which stops its process on a real node. (On the local
    // plane kwok runs exec'd commands on this machine, where a Pod's deletion does not reach them.)
    await eventually(() => isGone(() => client.get(PODS, ns.name, firstRunner)));
    for (const w of workers) w.kill('SIGKILL');
  });

  // The first test's dead workers still look alive for a lease period, so an item may be bound
  // to one and reclaimed: it never started there, which the ledger shows.
  it('loses no item and runs none twice while the operator is SIGKILLed and restarted', async () => {
    const ledger = new Ledger();
    for (const name of ['c1', 'c2']) spawnWorker(ns.name, name, ['--capacity=2']);
    const names = Array.from({ length: 40 }, (_, i) => `flow-${i}`);
    const creating = (async () => {
      for (const name of names) {
        await items.create(name, { command: ledger.command(0.3) });
        await sleep(random() * 150);
      }
    })();
    for (let kills = 0; kills < 8; kills++) {
      await sleep(500 + random() * 1500);
      operator.restart();
    }
    await creating;

    await eventually(
      async () => {
        const flow = (await items.list()).filter((i) => i.metadata.name.startsWith('flow-'));
        const pending = flow.filter((i) => i.status?.phase !== 'Succeeded');
        if (flow.length < names.length || pending.length > 0) {
          const describe = (i: LiveWorkItem) =>
            `${i.metadata.name} ${i.status?.phase ?? 'new'} on ${i.status?.worker ?? '-'}: ${i.status?.message ?? ''}`;
          throw new Error(`${flow.length} items, not done: ${pending.map(describe).join('; ')}`);
        }
        return true;
      },
      { timeoutMs: 90_000 },
    );
    const counts = ledger.counts();
    for (const name of names) expect(counts.get(name), name).toEqual({ started: 1, finished: 1 });
    // Each runner went with its attempt: none is left claimed.
    await eventually(async () => {
      const left = (await client.list<Pod>(PODS, ns.name, { labelSelector: 'rdev.dev/work-item' })).items;
      return left.length === 0 || undefined;
    });
  });
});
