// Runners: each WorkItem attempt runs in a Pod of its own Project (token-less, restricted, under
// the Project's NetworkPolicy), claimed from a warm pool or made for it, and deleted once the
// attempt is over; the worker only execs into it. On the local plane kwok runs exec'd commands
// on this machine, so what the process did is read from files it writes, and what the Pod is
// from the API.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { execInSession } from '../../api-shim/src/sessions/exec.ts';
import { PROJECTS, SESSIONS, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import type { LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { PODS, type Pod } from '../../operator/src/runtime/resources.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { createAgentSecret, eventually, isGone, kubeConfig } from './support/kube.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { rdevKind } from './support/rdev-objects.ts';
import { spawnWorker, type WorkerProcess } from './support/worker.ts';

const ns = useOperatorNamespace('rdev-runners', (n) => [`--worker-namespace=${n}`]);
const kc = kubeConfig();
const client = new KubeClient(kc);
const projects = rdevKind<LiveProject>(client, PROJECTS, ns, { spec: PROJECT_SPEC });
const items = rdevKind<LiveWorkItem>(client, WORK_ITEMS, ns, { spec: { type: 'shell' } });
const sessions = rdevKind(client, SESSIONS, ns);
const workers: WorkerProcess[] = [];
/** Where the items' processes leave what they saw (kwok runs them on this machine). */
const traces = mkdtempSync(join(tmpdir(), 'rdev-runners-'));

const pod = (name: string) => client.get<Pod>(PODS, ns.name, name);
const runners = async (project: string) =>
  (
    await client.list<Pod>(PODS, ns.name, {
      labelSelector: `rdev.dev/role=runner,rdev.dev/project=${project}`,
    })
  ).items;
const idle = async (project: string) =>
  (await runners(project)).filter(
    (p) =>
      !p.metadata.labels?.['rdev.dev/work-item'] &&
      !p.metadata.deletionTimestamp &&
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );

let serial = 0;
/** A shell item of `project` whose process records its PID and parent in the traces, then sleeps. */
async function traced(project: string, seconds: number, spec: Record<string, unknown> = {}) {
  const name = `item-${++serial}`;
  const trace = join(traces, name);
  await items.create(name, {
    projectRef: { name: project },
    command: ['sh', '-c', `echo "$$ $PPID" > ${trace}.pid; sleep ${seconds}; echo done > ${trace}.end`],
    ...spec,
  });
  return { name, trace };
}
const running = (name: string) => items.phase(name, 'Running');
const podOf = async (name: string) =>
  (await eventually(async () => (await items.get(name)).status?.runner?.podName)) ?? '';

/** The PIDs of the processes whose parent is `pid`. */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name is in parentheses and may hold spaces: the fields after it are fixed.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}
const alive = (pid: number) => existsSync(`/proc/${pid}`);
/** The PID the traced command recorded. */
const pidIn = (trace: string) => Number(readFileSync(`${trace}.pid`, 'utf8').split(' ')[0]);

beforeAll(async () => {
  await createAgentSecret(ns.name);
  await Promise.all([
    projects.create('shop'),
    projects.create('other', { runners: { warm: 2 } }),
    projects.create('cold', { runners: { warm: 0 } }),
  ]);
  await Promise.all(['shop', 'other', 'cold'].map((p) => projects.phase(p, 'Ready', 90_000)));
  for (const name of ['r1', 'r2']) workers.push(spawnWorker(ns.name, name, ['--capacity=3']));
});

describe('a WorkItem', () => {
  it('runs in a token-less, restricted runner Pod of its Project, which goes when it ends', async () => {
    const { name, trace } = await traced('shop', 3);
    const item = await running(name);
    const runner = await pod(item.status?.runner?.podName ?? '');
    expect(runner.metadata.labels).toMatchObject({
      'rdev.dev/project': 'shop',
      'rdev.dev/role': 'runner',
      'rdev.dev/work-item': name,
    });
    expect(runner.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'WorkItem', name, uid: item.metadata.uid, controller: true }),
    ]);
    expect(runner.spec?.automountServiceAccountToken).toBe(false);
    expect(runner.spec?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(runner.spec?.containers[0]?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    // The worker runs nothing itself: the command's process is not its child.
    const pid = await eventually(() => existsSync(`${trace}.pid`) && pidIn(trace));
    expect(alive(pid)).toBe(true);
    for (const w of workers) expect(await childrenOf(w.process.pid ?? -1)).toEqual([]);

    await items.phase(name, 'Succeeded');
    await eventually(() => isGone(() => pod(runner.metadata.name)));
  });

  it('claims a warm runner, and the pool is refilled', async () => {
    const before = await eventually(async () => {
      const ready = await idle('other');
      return ready.length === 2 ? ready.map((p) => p.metadata.name) : undefined;
    });
    const { name } = await traced('other', 1);
    expect(before).toContain(await podOf(name));
    await eventually(async () => {
      const now = (await idle('other')).map((p) => p.metadata.name);
      return now.length === 2 && !now.includes(await podOf(name)) ? now : undefined;
    });
    await items.phase(name, 'Succeeded');
  });

  it('gets a runner made for it when the pool is empty (warm: 0)', async () => {
    expect(await idle('cold')).toEqual([]);
    const { name } = await traced('cold', 0);
    expect(await podOf(name)).toBe(`${name}-runner-1`);
    await items.phase(name, 'Succeeded');
    expect(await idle('cold')).toEqual([]);
  });

  it("never shares a runner with another Project's item, and the runner has its own Project's env only", async () => {
    const mine = await traced('shop', 2);
    const theirs = await traced('other', 2);
    const [a, b] = await Promise.all([podOf(mine.name), podOf(theirs.name)]);
    expect(a).not.toBe(b);
    for (const [runner, project] of [
      [a, 'shop'],
      [b, 'other'],
    ] as const) {
      const p = await pod(runner);
      expect(p.metadata.labels?.['rdev.dev/project']).toBe(project);
      const env = p.spec?.containers[0]?.env ?? [];
      expect(env).toContainEqual({ name: 'RDEV_PROJECT', value: project });
      const referenced = env.flatMap((e) =>
        e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : [],
      );
      expect(referenced.sort()).toEqual(['anthropic', `${project}-credentials`].sort());
    }
    await Promise.all([items.phase(mine.name, 'Succeeded'), items.phase(theirs.name, 'Succeeded')]);
  });

  it('is stopped in its runner by cancel and by its timeout', async () => {
    const cancelled = await traced('shop', 60);
    const timed = await traced('shop', 60, { timeout: '5s', maxAttempts: 1 });
    // Both processes are started (they record their PID first thing).
    for (const { trace } of [cancelled, timed]) await eventually(() => existsSync(`${trace}.pid`));
    await items.patchSpec(cancelled.name, { cancel: true });
    await items.phase(cancelled.name, 'Cancelled');
    await items.phase(timed.name, 'Failed');
    for (const { trace } of [cancelled, timed]) {
      const pid = pidIn(trace);
      await eventually(() => !alive(pid));
      expect(existsSync(`${trace}.end`)).toBe(false);
    }
  });

  it('is retried in a fresh runner after its worker is SIGKILLed, and the first runner goes', async () => {
    const { name } = await traced('shop', 8, { retryBackoff: '1s' });
    const first = await running(name);
    const firstRunner = first.status?.runner?.podName ?? '';
    const victim = workers.findIndex((w) => w.name === first.status?.worker);
    workers[victim]?.kill('SIGKILL');
    // The other worker takes the retry; a new one stands in for the dead one for what follows.
    workers.splice(victim, 1, spawnWorker(ns.name, `r${victim + 1}b`, ['--capacity=3']));
    const done = await items.phase(name, 'Succeeded', 90_000);
    expect(done.status?.attempts).toBe(2);
    expect(done.status?.runner?.podName).not.toBe(firstRunner);
    await eventually(() => isGone(() => pod(firstRunner)));
  });
});

describe('runIn: workspace', () => {
  it("runs in the Project's workspace Pod and sees a file a Session wrote there", async () => {
    await sessions.create('edit', { projectRef: { name: 'shop' } });
    await sessions.phase('edit', 'Active');
    const file = join(traces, 'from-session.txt');
    const code = await execInSession(
      kc,
      client,
      ns.name,
      'edit',
      ['sh', '-c', `echo written by the session > ${file}`],
      {
        onStdout: () => undefined,
        onStderr: () => undefined,
      },
    );
    expect(code).toBe(0);
    await items.create('reader', {
      projectRef: { name: 'shop' },
      runIn: 'workspace',
      command: ['cat', file],
    });
    const done = await items.phase('reader', 'Succeeded');
    expect(done.status?.runner?.podName).toBe('shop-workspace');
    expect(done.status?.outputTail).toContain('written by the session');
  });
});
