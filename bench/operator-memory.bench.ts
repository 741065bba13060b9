// The operator's memory with many Ready Projects: `rdev operator` as its own process (every
// controller, as deployed), N Projects applied and Ready, their children cached; its resident
// memory (VmRSS) idle and then loaded. Run: make bench (BENCH_MEMORY_PROJECTS, default 2000).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECTS } from '../operator/src/api/resources.ts';
import type { KubeObject } from '../operator/src/runtime/client.ts';
import { NAMESPACES } from '../operator/src/runtime/resources.ts';
import { PROJECT_SPEC, rdevManifest } from '../test/support/manifests.ts';
import { inParallel, range } from '../test/support/parallel.ts';
import { localPlane, ROOT, row, sleep, until } from './support.ts';

const COUNT = Number(process.env.BENCH_MEMORY_PROJECTS ?? 2000);

/** The resident memory of process `pid`, in MiB. */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** Heap used and total and external memory, in MiB, from the operator's /metrics. */
async function heap(port: number): Promise<string> {
  const text = await (
    await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })
  ).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN) / MiB;
  return `heap used ${value('nodejs_heap_size_used_bytes').toFixed(0)} of ${value('nodejs_heap_size_total_bytes').toFixed(0)} MiB, external ${value('nodejs_external_memory_bytes').toFixed(0)} MiB`;
}

const MiB = 1024 * 1024;
const METRICS_PORT = 20000 + Math.floor(Math.random() * 20000);

const plane = await localPlane('bench-mem');
const { client, namespace } = plane;
/** `rdev operator` as its own process, watching the bench's namespace, its metrics on METRICS_PORT. */
const startOperatorProcess = () =>
  spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'rdev.js'),
      'operator',
      `--namespace=${namespace}`,
      '--health-addr=',
      `--metrics-addr=127.0.0.1:${METRICS_PORT}`,
      '--log-level=error',
    ],
    { env: { ...process.env, KUBECONFIG: plane.kubeconfig }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
const operator = startOperatorProcess();
const pid = operator.pid as number;
await sleep(5000); // started, caches synced, idle
const idle = await rssMiB(pid);
const idleHeap = await heap(METRICS_PORT);

const started = performance.now();
await inParallel(range(COUNT), 50, (i) =>
  client.create(PROJECTS, rdevManifest('Project', namespace, `mem-${i}`, PROJECT_SPEC)),
);
await until(async () => {
  const list = await client.list<KubeObject & { status?: { phase?: string } }>(PROJECTS, namespace);
  return list.items.filter((p) => p.status?.phase === 'Ready').length === COUNT;
}, 1000);
const readySeconds = (performance.now() - started) / 1000;
const peak = await rssMiB(pid);
await sleep(15_000); // quiet: what it keeps, not what a burst left behind
const loaded = await rssMiB(pid);
const loadedHeap = await heap(METRICS_PORT);

console.log(`# the operator's memory (rdev operator, every controller) with ${COUNT} Ready Projects`);
row('all Ready after', `${readySeconds.toFixed(1)} s`);
row('RSS idle, no Project', `${idle.toFixed(0)} MiB  (${idleHeap})`);
row(`RSS right after all Ready`, `${peak.toFixed(0)} MiB`);
row(`RSS with ${COUNT} Projects, 15 s later`, `${loaded.toFixed(0)} MiB  (${loadedHeap})`);
row('per Project', `${(((loaded - idle) / COUNT) * 1024).toFixed(0)} KiB`);

// A new operator process that finds them all Ready: what a restart holds, without a burst's
// heap growth.
operator.kill('SIGTERM');
await new Promise((resolve) => operator.once('exit', resolve));
const restarted = startOperatorProcess();
await sleep(20_000); // caches listed and synced, a pass over every Project done
const afterRestart = await rssMiB(restarted.pid as number);
const afterRestartHeap = await heap(METRICS_PORT);
row(`RSS of a new process finding them`, `${afterRestart.toFixed(0)} MiB  (${afterRestartHeap})`);
row('per Project, after the restart', `${(((afterRestart - idle) / COUNT) * 1024).toFixed(0)} KiB`);

// The operator stays until the namespace is gone (it finalizes what needs it), then stops.
await client.delete(NAMESPACES, undefined, namespace);
await until(
  () =>
    client.get(NAMESPACES, undefined, namespace).then(
      () => false,
      () => true,
    ),
  1000,
);
restarted.kill('SIGTERM');
await client.close();
