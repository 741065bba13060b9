// Live WorkItem logs on the local plane: the operator and the shim in this process, one
// `rdev worker` process serving its output on a loopback port. A shell item prints a line every
// BENCH_LOGS_INTERVAL_MS with the time it printed it (kwok runs exec'd commands on this machine,
// so same clock); GET /work/{id}/logs is read here, and each line's latency is from its print to
// the SSE bytes that carry it arriving. For comparison, the same through a shim without the
// workers' token, which follows status.outputTail as the worker flushes it (--output-flush-seconds).
// Run: make bench (brings the plane up if needed).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createShim, type RunningShim } from '../api-shim/src/shim.ts';
import { PROJECTS, WORK_ITEMS } from '../operator/src/api/resources.ts';
import type { LiveProject } from '../operator/src/api/v1alpha1/index.ts';
import { registerProjectController } from '../operator/src/controllers/project/index.ts';
import { registerWorkControllers } from '../operator/src/controllers/workitem/index.ts';
import { createLogger } from '../operator/src/runtime/logging.ts';
import { LEASES } from '../operator/src/runtime/resources.ts';
import { OUTPUT_URL_ANNOTATION } from '../operator/src/shared/live-output.ts';
import { workerLeaseName } from '../operator/src/shared/worker-names.ts';
import { PROJECT_SPEC, rdevManifest } from '../test/support/manifests.ts';
import { latencies, localPlane, ROOT, row, startOperator, tearDown, until } from './support.ts';

const LINES = Number(process.env.BENCH_LOGS_LINES ?? 100);
const INTERVAL_MS = Number(process.env.BENCH_LOGS_INTERVAL_MS ?? 100);
const FLUSH_SECONDS = 5;

const plane = await localPlane('bench-logs');
const { client, namespace } = plane;
const manager = await startOperator(
  plane,
  [registerProjectController, registerWorkControllers],
  [`--worker-namespace=${namespace}`],
);
await client.create(
  PROJECTS,
  rdevManifest('Project', namespace, 'shop', { ...PROJECT_SPEC, runners: { warm: 1 } }),
);

const tokenFile = join(mkdtempSync(join(tmpdir(), 'rdev-bench-token-')), 'token');
writeFileSync(tokenFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
const worker: ChildProcess = spawn(
  process.execPath,
  [
    join(ROOT, 'bin', 'rdev.js'),
    'worker',
    '--name=bench-logs',
    `--lease-namespace=${namespace}`,
    `--namespace=${namespace}`,
    '--health-addr=127.0.0.1:0',
    `--output-token-file=${tokenFile}`,
    `--output-flush-seconds=${FLUSH_SECONDS}`,
    '--log-level=warn',
  ],
  { env: { ...process.env, KUBECONFIG: plane.kubeconfig }, stdio: ['ignore', 'ignore', 'inherit'] },
);
await until(
  async () =>
    (await client.get(LEASES, namespace, workerLeaseName('bench-logs')).catch(() => undefined))?.metadata
      .annotations?.[OUTPUT_URL_ANNOTATION] !== undefined,
  200,
);

const key = `rdev_${randomBytes(24).toString('base64url')}`;
const startShim = (workerOutputTokenFile?: string) =>
  createShim(
    plane.kc,
    {
      namespace,
      namespaces: [namespace],
      defaultNamespace: namespace,
      workerNamespace: namespace,
      rateLimit: 1000,
      rateBurst: 1000,
      bodyLimit: 1024 * 1024,
      trustProxy: 'false',
      bootstrapKey: key,
      workerOutputTokenFile,
    },
    createLogger({ level: 'silent' }),
  );

// A warm runner, so the item starts at once.
await until(async () => {
  const project = await client.get<LiveProject>(PROJECTS, namespace, 'shop');
  return project.status?.phase === 'Ready' && (project.status.runners?.warm ?? 0) >= 1;
}, 500);

let serial = 0;
/** Runs one item, its logs read through `shim`: each line's print → SSE arrival, in ms. */
async function measure(shim: RunningShim, url: string): Promise<number[]> {
  const name = `item-${++serial}`;
  // A second's pause first: the stream is open before the first line.
  const script = `sleep 1; i=1; while [ $i -le ${LINES} ]; do echo "$i $(date +%s%3N)"; sleep ${INTERVAL_MS / 1000}; i=$((i+1)); done`;
  await client.create(
    WORK_ITEMS,
    rdevManifest('WorkItem', namespace, name, {
      projectRef: { name: 'shop' },
      type: 'shell',
      command: ['sh', '-c', script],
    }),
  );
  await until(() => shim.context.cache.kinds.WorkItem.store.get(`${namespace}/${name}`) !== undefined, 20);
  const response = await fetch(`${url}/work/${name}/logs`, { headers: { authorization: `Bearer ${key}` } });
  const reader = response.body?.getReader();
  if (!reader) throw new Error('no stream');
  const delays: number[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const now = Date.now();
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!block.includes('event: output')) continue;
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      const { data: text } = JSON.parse(data?.slice(6) ?? '{}') as { data: string };
      for (const line of text.split('\n').filter(Boolean)) delays.push(now - Number(line.split(' ')[1]));
    }
  }
  if (delays.length !== LINES) throw new Error(`${name}: ${delays.length} of ${LINES} lines arrived`);
  return delays;
}

console.log(
  `# WorkItem logs (local plane, in-process operator and shim, 1 worker): ${LINES} lines, one every ${INTERVAL_MS} ms`,
);
console.log('# latency: line printed in the runner → its SSE event read from GET /work/{id}/logs');
for (const [label, tokenFileOfShim] of [
  ['live (worker /output relayed)', tokenFile],
  [`outputTail (flushed every ${FLUSH_SECONDS} s)`, undefined],
] as const) {
  const shim = await startShim(tokenFileOfShim);
  const url = await shim.app.listen({ host: '127.0.0.1', port: 0 });
  await shim.context.cache.waitForSync();
  row(label, latencies(await measure(shim, url), [50, 90, 99, 100]));
  await shim.close();
}

worker.kill('SIGTERM');
await tearDown(plane, manager);
