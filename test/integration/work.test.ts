// WorkItems end to end: the in-process operator schedules, two `rdev worker` processes run.
// Outcomes, retries with backoff, timeouts, cancellation, idempotency keys, TTL and the agent
// type (with a stand-in for the agent's CLI on the worker's PATH).
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { PODS, type Pod } from '../../operator/src/runtime/resources.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { boundTo } from '../../operator/src/shared/worker-names.ts';
import { createSecret, eventually, kubeConfig } from './support/kube.ts';
import { gaugeValue } from './support/metrics.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { rdevKind } from './support/rdev-objects.ts';
import { spawnWorker, type WorkerProcess } from './support/worker.ts';

const ns = useOperatorNamespace('rdev-work', (n) => [`--worker-namespace=${n}`]);
const client = new KubeClient(kubeConfig());
const workers: WorkerProcess[] = [];
let agentBin = '';

beforeAll(async () => {
  // The agent's CLI, stood in for by a script that echoes its command line and model. (Its key
  // reaches the runner through the Pod's env: the test reads that from the runner Pod.)
  agentBin = await mkdtemp(join(tmpdir(), 'rdev-agent-'));
  await writeFile(
    join(agentBin, 'agent'),
    ['#!/bin/sh', 'cli=$1; shift', 'echo "$cli got: $*"', 'echo "model: $ANTHROPIC_MODEL"', ''].join('\n'),
  );
  await chmod(join(agentBin, 'agent'), 0o755);
  for (const name of ['w1', 'w2'])
    workers.push(spawnWorker(ns.name, name, ['--capacity=2', `--agent-command=${join(agentBin, 'agent')}`]));
  await rdevKind(client, PROJECTS, ns).create('shop', {
    agent: { model: 'claude-test-model', credentialsSecretRef: { name: 'agent-keys' } },
  });
  await createSecret(ns.name, 'agent-keys', { ANTHROPIC_API_KEY: 'sk-test-agent' });
});

/** Waits until `check` stops throwing. */
const until = (check: () => unknown) =>
  eventually(async () => {
    await check();
    return true;
  });

const items = rdevKind<LiveWorkItem>(client, WORK_ITEMS, ns, { spec: { projectRef: { name: 'shop' } } });
let counter = 0;
/** Creates an item with a name of its own; its name. */
async function createItem(spec: Record<string, unknown>): Promise<string> {
  const name = `item-${++counter}`;
  await items.create(name, spec);
  return name;
}
const finished = (name: string) => items.phase(name, ['Succeeded', 'Failed', 'Cancelled']);

const outputOf = (name: string) =>
  workers.flatMap((w) => w.lines.filter((l) => l.startsWith(`[${ns.name}/${name}#`)));

describe('WorkItems on warm workers', () => {
  it('runs a shell command: Succeeded, exit code, output in status and in the worker log', async () => {
    const name = await createItem({
      type: 'shell',
      command: ['sh', '-c', 'echo hello from $RDEV_WORK_ITEM; echo oops >&2'],
    });
    const item = await finished(name);
    expect(item.status).toMatchObject({ phase: 'Succeeded', exitCode: 0, attempts: 1 });
    expect(item.status?.outputTail).toContain(`hello from ${name}`);
    expect(item.status?.outputTail).toContain('oops');
    expect(['w1', 'w2']).toContain(item.status?.worker);
    const bound = await client.list<LiveWorkItem>(WORK_ITEMS, ns.name, {
      fieldSelector: boundTo(item.status?.worker ?? ''),
    });
    expect(bound.items.map((i) => i.metadata.name)).toContain(name);
    expect(Date.parse(item.status?.finishedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(item.status?.startedAt ?? ''),
    );
    expect(item.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    await eventually(async () =>
      expect(outputOf(name)).toContain(`[${ns.name}/${name}#1] hello from ${name}`),
    );
  });

  it('retries a failing attempt after a backoff, then succeeds', async () => {
    const name = await createItem({
      type: 'shell',
      command: ['sh', '-c', 'echo attempt $RDEV_ATTEMPT; [ "$RDEV_ATTEMPT" -ge 2 ] || exit 7'],
      maxAttempts: 3,
      retryBackoff: '2s',
    });
    const retrying = await eventually(async () => {
      const item = await items.get(name);
      if (!item.status?.nextAttemptAt) throw new Error(`no retry yet: ${item.status?.phase}`);
      return item;
    });
    expect(retrying.status).toMatchObject({ phase: 'Queued', exitCode: 7, attempts: 1 });
    expect(retrying.status?.worker).toBeUndefined();
    expect(retrying.status?.message).toContain('exited with code 7');
    const item = await finished(name);
    expect(item.status).toMatchObject({ phase: 'Succeeded', attempts: 2, exitCode: 0 });
    expect(Date.parse(item.status?.startedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(retrying.status?.nextAttemptAt ?? ''),
    );
  });

  it('fails for good when the attempts run out', async () => {
    const name = await createItem({
      type: 'shell',
      command: ['sh', '-c', 'exit 3'],
      maxAttempts: 2,
      retryBackoff: '1s',
    });
    const item = await finished(name);
    expect(item.status).toMatchObject({ phase: 'Failed', attempts: 2, exitCode: 3 });
    expect(item.status?.message).toContain('no attempts left');
  });

  it('stops an attempt at its timeout', async () => {
    const name = await createItem({ type: 'shell', command: ['sleep', '60'], timeout: '1s', maxAttempts: 1 });
    const item = await finished(name);
    expect(item.status?.phase).toBe('Failed');
    expect(item.status?.message).toContain('timed out after 1s');
  });

  it('cancels a running item and stops its process', async () => {
    const marker = join(await mkdtemp(join(tmpdir(), 'rdev-cancel-')), 'pid');
    const name = await createItem({ type: 'shell', command: ['sh', '-c', `echo $$ > ${marker}; sleep 60`] });
    await until(async () => expect((await items.get(name)).status?.phase).toBe('Running'));
    const pid = await eventually(async () => Number(await readFile(marker, 'utf8')));
    await items.patchSpec(name, { cancel: true });
    const item = await finished(name);
    expect(item.status?.phase).toBe('Cancelled');
    await until(async () => expect(() => process.kill(pid, 0)).toThrow());
  });

  it('cancels a queued item without running it', async () => {
    const name = await createItem({ type: 'shell', command: ['echo', 'never'], cancel: true });
    const item = await finished(name);
    expect(item.status).toMatchObject({ phase: 'Cancelled' });
    expect(item.status?.attempts ?? 0).toBe(0);
    expect(outputOf(name)).toEqual([]);
  });

  it('runs one item per idempotency key; the duplicate points at the first', async () => {
    const first = await createItem({
      type: 'shell',
      command: ['sh', '-c', 'sleep 1; echo ran once'],
      idempotencyKey: 'deploy-42',
    });
    await until(async () => expect((await items.get(first)).status?.attempts).toBe(1));
    const second = await createItem({
      type: 'shell',
      command: ['sh', '-c', 'echo ran twice'],
      idempotencyKey: 'deploy-42',
    });
    const [a, b] = [await finished(first), await finished(second)];
    expect(a.status?.phase).toBe('Succeeded');
    expect(b.status).toMatchObject({ phase: 'Succeeded', duplicateOf: first, exitCode: 0 });
    expect(b.status?.attempts ?? 0).toBe(0);
    expect(outputOf(second)).toEqual([]);
  });

  it('deletes finished items after ttlSecondsAfterFinished', async () => {
    const name = await createItem({ type: 'shell', command: ['true'], ttlSecondsAfterFinished: 1 });
    await items.gone(name);
  });

  it("runs an agent item with the Project's agent, model and credentials", async () => {
    const name = await createItem({ type: 'agent', prompt: 'add a login page' });
    const item = await finished(name);
    expect(item.status?.phase).toBe('Succeeded');
    expect(item.status?.outputTail).toContain(
      'claude got: --print --dangerously-skip-permissions add a login page',
    );
    expect(item.status?.outputTail).toContain('model: claude-test-model');
    // Its runner is gone with the attempt; the Project's warm runners are built the same way.
    const runner = await eventually(
      async () =>
        (
          await client.list<Pod>(PODS, ns.name, {
            labelSelector: 'rdev.dev/role=runner,rdev.dev/project=shop',
          })
        ).items[0],
    );
    expect(runner?.spec?.containers[0]?.env).toContainEqual({
      name: 'ANTHROPIC_API_KEY',
      valueFrom: { secretKeyRef: { name: 'agent-keys', key: 'ANTHROPIC_API_KEY' } },
    });
  });

  it('fails a build item with nothing to run, without retrying', async () => {
    const name = await createItem({ type: 'build' });
    const item = await finished(name);
    expect(item.status).toMatchObject({ phase: 'Failed', attempts: 1 });
    expect(item.status?.message).toContain('--build-command');
  });

  it('publishes the pool: capacity, busy, idle, queue depth', async () => {
    const gauge = (name: string) => gaugeValue(ns.operator, name);
    await eventually(async () => {
      expect(await gauge('rdev_worker_pool_workers')).toBe(2);
      expect(await gauge('rdev_worker_pool_capacity')).toBe(4);
      return true;
    });
  });
});
