// The REST shim under load on the local plane (autocannon, 50 connections): GET /projects from
// the cache and POST /projects/{p}/work (a CR write each), requests/s and latency percentiles;
// then the time from POST /sessions/{id}/exec to the first streamed byte of output. The floor for
// GET /projects/{p}: a bare Fastify route, in the same process, answering the very JSON the shim
// answers for that Project; the shim's figure is also given as a share of the floor's.
// Run: make bench (brings the plane up if needed). BENCH_SHIM_ONLY_GET=1 runs only the floor and
// GET /projects/p-7 (while profiling or comparing a change); BENCH_SHIM_ROUNDS sets how many
// times the two take turns (3).
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { createShim } from '../api-shim/src/shim.ts';
import { PROJECTS, SESSIONS } from '../operator/src/api/resources.ts';
import { registerProjectController } from '../operator/src/controllers/project/index.ts';
import { registerSessionController } from '../operator/src/controllers/session/index.ts';
import { createLogger } from '../operator/src/runtime/logging.ts';
import { PROJECT_SPEC, rdevManifest } from '../test/support/manifests.ts';
import { inParallel, range } from '../test/support/parallel.ts';
import { latencies, localPlane, percentile, row, startOperator, tearDown, until } from './support.ts';

const PROJECT_COUNT = Number(process.env.BENCH_SHIM_PROJECTS ?? 200);
const SECONDS = Number(process.env.BENCH_SHIM_SECONDS ?? 10);
const EXECS = Number(process.env.BENCH_SHIM_EXECS ?? 50);
const ROUNDS = Number(process.env.BENCH_SHIM_ROUNDS ?? 3);
const ONLY_GET = process.env.BENCH_SHIM_ONLY_GET === '1';

const plane = await localPlane('bench-shim');
const { client, namespace } = plane;
const manager = await startOperator(plane, [registerProjectController, registerSessionController]);

const key = `rdev_${randomBytes(24).toString('base64url')}`;
const shim = await createShim(
  plane.kc,
  {
    namespace,
    namespaces: [namespace],
    defaultNamespace: namespace,
    workerNamespace: namespace,
    rateLimit: 1_000_000,
    rateBurst: 1_000_000,
    bodyLimit: 1024 * 1024,
    trustProxy: 'false',
    bootstrapKey: key,
    // The bench posts far more WorkItems to one Project than the shim creates by default.
    maxObjectsPerProject: 1_000_000,
  },
  createLogger({ level: 'silent' }),
);
const url = await shim.app.listen({ host: '127.0.0.1', port: 0 });
await shim.context.cache.waitForSync();

await inParallel(range(PROJECT_COUNT), 20, (i) =>
  client.create(PROJECTS, rdevManifest('Project', namespace, `p-${i}`, PROJECT_SPEC)),
);
await until(() => shim.context.cache.kinds.Project.store.size >= PROJECT_COUNT, 100);
// Measured once the operator is done with them: it runs in this process, and a Project's answer
// is at its full size (status, conditions) only once it is Ready.
await until(
  () =>
    shim.context.cache.kinds.Project.store.list().filter((p) => p.status?.phase === 'Ready').length >=
    PROJECT_COUNT,
  200,
);

const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
/** A load's figures, and the CPU time this process (client, server and operator) spent per request. */
async function measure(options: autocannon.Options) {
  const cpu = process.cpuUsage();
  const result = await autocannon({ connections: 50, duration: SECONDS, headers, ...options });
  const { user, system } = process.cpuUsage(cpu);
  return Object.assign(result, { cpuPerRequest: (user + system) / result.requests.total });
}
const figures = (result: autocannon.Result & { cpuPerRequest: number }) =>
  `${result.requests.average.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  cpu ${result.cpuPerRequest.toFixed(0)} µs/req  (${result.requests.total} requests, ${result.non2xx + result.errors + result.timeouts} not 2xx)`;
async function load(title: string, options: autocannon.Options): Promise<void> {
  row(title, figures(await measure(options)));
}

// The floor: what Fastify alone does with the same answer (parsed, so that it is serialized per
// request as the shim's is), on a port of its own.
const one = await fetch(`${url}/projects/p-7`, { headers });
if (!one.ok) throw new Error(`GET /projects/p-7 answered ${one.status}`);
const answer: unknown = await one.json();
const bare = Fastify();
bare.get('/projects/:project', async () => answer);
const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

console.log(
  `# rdev shim, local plane, 50 connections for ${SECONDS} s each, ${PROJECT_COUNT} Projects cached`,
);
console.log(`# one Project answers ${JSON.stringify(answer).length} bytes of JSON`);
// Whatever else the machine runs comes and goes: the floor and the shim take turns, and the share
// is the median of the rounds'.
const shares: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const floor = await measure({ url: `${bareUrl}/projects/p-7` });
  const get = await measure({ url: `${url}/projects/p-7` });
  const share = (100 * get.requests.average) / floor.requests.average;
  shares.push(share);
  const of = ROUNDS > 1 ? ` (${round}/${ROUNDS})` : '';
  row(`bare Fastify route, same JSON${of}`, figures(floor));
  row(`GET /projects/p-7${of}`, `${figures(get)}  ${share.toFixed(0)} % of the bare route's req/s`);
}
row(
  'GET /projects/p-7 ÷ bare route',
  `${percentile(shares, 50).toFixed(0).padStart(6)} % of its req/s (median)`,
);
await bare.close();
if (ONLY_GET) {
  await shim.close();
  await tearDown(plane, manager);
  process.exit(0);
}
await load('GET /projects (from the cache)', { url: `${url}/projects` });
await load('GET /projects?limit=50 (a page)', { url: `${url}/projects?limit=50` });
await load('POST /projects/p-1/work (CR write)', {
  url: `${url}/projects/p-1/work`,
  method: 'POST',
  body: JSON.stringify({ spec: { type: 'shell', command: ['true'] } }),
});

// Exec: a Session in the Project's workspace Pod (kwok runs the command on this machine).
await client.create(SESSIONS, rdevManifest('Session', namespace, 'bench', { projectRef: { name: 'p-0' } }));
await until(
  () => shim.context.cache.kinds.Session.store.get(`${namespace}/bench`)?.status?.phase === 'Active',
  200,
);
const firstByte: number[] = [];
for (let i = 0; i < EXECS; i++) {
  const started = performance.now();
  const response = await fetch(`${url}/sessions/bench/exec`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ command: ['echo', 'hello'] }),
  });
  const reader = response.body?.getReader();
  let text = '';
  let seen = false;
  for (;;) {
    const { value, done } = (await reader?.read()) ?? { done: true, value: undefined };
    if (done) break;
    text += new TextDecoder().decode(value);
    if (!seen && text.includes('event: stdout')) {
      firstByte.push(performance.now() - started);
      seen = true;
    }
  }
}
row(
  'POST /sessions/{id}/exec → first output byte',
  `${latencies(firstByte, [50, 99])}  (${firstByte.length} of ${EXECS} runs)`,
);

await shim.close();
await tearDown(plane, manager);
