// The REST shim under load on the local plane (autocannon, 50 connections): GET /projects from
// the cache and POST /projects/{p}/work (a CR write each), requests/s and latency percentiles;
// then the time from POST /sessions/{id}/exec to the first streamed byte of output.
// Run: make bench (brings the plane up if needed).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import autocannon from 'autocannon';
import { createShim } from '../api-shim/src/shim.ts';
import { installCrds } from '../operator/src/api/install-crds.ts';
import { PROJECTS, SESSIONS } from '../operator/src/api/resources.ts';
import { loadConfig } from '../operator/src/config.ts';
import { registerProjectController } from '../operator/src/controllers/project/index.ts';
import { registerSessionController } from '../operator/src/controllers/session/index.ts';
import { isNotFound, KubeClient, type KubeObject } from '../operator/src/runtime/client.ts';
import { createLogger } from '../operator/src/runtime/logging.ts';
import { Manager } from '../operator/src/runtime/manager.ts';
import { NAMESPACES, SECRETS } from '../operator/src/runtime/resources.ts';

const PROJECT_COUNT = Number(process.env.BENCH_SHIM_PROJECTS ?? 200);
const SECONDS = Number(process.env.BENCH_SHIM_SECONDS ?? 10);
const EXECS = Number(process.env.BENCH_SHIM_EXECS ?? 50);
const root = join(import.meta.dirname, '..');

if (
  spawnSync(join(root, 'hack', 'cluster.sh'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0
) {
  throw new Error('could not bring the local plane up');
}
const kc = new KubeConfig();
kc.loadFromFile(join(root, '.cluster', 'kubeconfig'));
const client = new KubeClient(kc);
await installCrds(client);
const namespace = `bench-shim-${randomBytes(3).toString('hex')}`;
await client.create(NAMESPACES, { metadata: { name: namespace } });
await client.create(SECRETS, {
  metadata: { name: 'anthropic', namespace },
  stringData: { ANTHROPIC_API_KEY: 'sk-bench-not-real' },
});

const log = createLogger({ level: 'silent' });
const manager = new Manager({ kubeConfig: kc, namespaces: [namespace], log });
const config = loadConfig([`--namespace=${namespace}`], {});
registerProjectController(manager, config);
registerSessionController(manager, config);
await manager.start();

const key = `rdev_${randomBytes(24).toString('base64url')}`;
const shim = await createShim(
  kc,
  {
    namespace,
    namespaces: [namespace],
    defaultNamespace: namespace,
    workerNamespace: namespace,
    rateLimit: 1_000_000,
    rateBurst: 1_000_000,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
    bootstrapKey: key,
  },
  log,
);
const url = await shim.app.listen({ host: '127.0.0.1', port: 0 });
await shim.context.cache.waitForSync();

for (let i = 0; i < PROJECT_COUNT; i += 20) {
  await Promise.all(
    Array.from({ length: Math.min(20, PROJECT_COUNT - i) }, (_, j) =>
      client.create(PROJECTS, {
        apiVersion: 'rdev.dev/v1alpha1',
        kind: 'Project',
        metadata: { name: `p-${i + j}`, namespace },
        spec: { agent: { credentialsSecretRef: { name: 'anthropic' } } },
      }),
    ),
  );
}
while (shim.context.cache.kinds.Project.store.size < PROJECT_COUNT)
  await new Promise((r) => setTimeout(r, 100));

const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
async function load(title: string, options: autocannon.Options) {
  const result = await autocannon({ connections: 50, duration: SECONDS, headers, ...options });
  const non2xx = result.non2xx + result.errors + result.timeouts;
  console.log(
    `${title.padEnd(34)} ${result.requests.average.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  (${result.requests.total} requests, ${non2xx} not 2xx)`,
  );
}

console.log(
  `# rdev shim, local plane, 50 connections for ${SECONDS} s each, ${PROJECT_COUNT} Projects cached`,
);
await load('GET /projects (from the cache)', { url: `${url}/projects` });
await load('GET /projects?limit=50 (a page)', { url: `${url}/projects?limit=50` });
await load('GET /projects/p-7', { url: `${url}/projects/p-7` });
await load('POST /projects/p-1/work (CR write)', {
  url: `${url}/projects/p-1/work`,
  method: 'POST',
  body: JSON.stringify({ spec: { type: 'shell', command: ['true'] } }),
});

// Exec: a Session in the Project's workspace Pod (kwok runs the command on this machine).
await client.create(SESSIONS, {
  apiVersion: 'rdev.dev/v1alpha1',
  kind: 'Session',
  metadata: { name: 'bench', namespace },
  spec: { projectRef: { name: 'p-0' } },
});
for (;;) {
  const s = shim.context.cache.kinds.Session.store.get(`${namespace}/bench`);
  if (s?.status?.phase === 'Active') break;
  await new Promise((r) => setTimeout(r, 200));
}
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
firstByte.sort((a, b) => a - b);
const pct = (p: number) =>
  firstByte[Math.min(firstByte.length - 1, Math.floor((p / 100) * firstByte.length))] ?? Number.NaN;
console.log(
  `POST /sessions/{id}/exec → first output byte   p50 ${pct(50).toFixed(0)} ms  p99 ${pct(99).toFixed(0)} ms  (${firstByte.length} of ${EXECS} runs)`,
);

await shim.close();
await client.delete(NAMESPACES, undefined, namespace);
for (;;) {
  const gone = await client.get<KubeObject>(NAMESPACES, undefined, namespace).then(() => false, isNotFound);
  if (gone) break;
  await new Promise((r) => setTimeout(r, 500));
}
await manager.stop();
await client.close();
