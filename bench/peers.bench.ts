// rdev beside its peer, kubernetes-sigs/agent-sandbox (built from its Go module, its controller a
// local process), and beside the floors a plain client reaches, on one local plane: N objects
// created at once, the time until each is Ready, and the time until all of them and everything
// they own are gone after they are deleted. Each controller runs alone: neither for the floors,
// agent-sandbox's for its scenarios, rdev's operator (in this process) and workers for rdev's.
//
//   floor A                     N bare Pods (client loop), Ready: Running
//   floor B                     N × what a workspace-only Project makes (ServiceAccount, PVC,
//                               Service, NetworkPolicy, Secret, Pod: rdev's own desired.ts), from a
//                               client loop: each unit's objects in rdev's order, the units at once
//   Sandbox                     a Sandbox of one Pod, Ready: its Ready condition
//   Sandbox + PVC + Service     with a volumeClaimTemplate and service: true
//   rdev Project                workspace only (repository, CI, database, cache, DNS off), Ready:
//                               its Ready condition
//   SandboxClaim (warm)         W claims on a SandboxWarmPool of W, Ready: the claim's Ready condition
//   rdev WorkItem (warm)        W shell items printing one line, on W warm runners: Ready is the
//                               line arriving on the worker's output (what the live log relays)
//
// Latency is from the create request being sent to the watch event that shows the object ready
// (an informer here, so no poll interval quantises it); deletion is from the deletes being sent
// to the DELETED event of the last object of their trees (owner references, any depth).
// Run: make bench-peers (BENCH_PEERS_N, BENCH_PEERS_REPS, BENCH_PEERS_WARM).
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PROJECTS, WORK_ITEMS } from '../operator/src/api/resources.ts';
import { registerProjectController } from '../operator/src/controllers/project/index.ts';
import { APPLIED_CHILDREN, workspaceName } from '../operator/src/controllers/project/names.ts';
import { registerWorkControllers } from '../operator/src/controllers/workitem/index.ts';
import { apiVersionOf, KubeClient, type KubeObject, type Resource } from '../operator/src/runtime/client.ts';
import { isConditionTrue } from '../operator/src/runtime/conditions.ts';
import type { Manager } from '../operator/src/runtime/manager.ts';
import { PODS, type Pod, SECRETS } from '../operator/src/runtime/resources.ts';
import { apiWrites, gaugeValue, WRITE_VERBS } from '../test/integration/support/metrics.ts';
import { PROJECT_SPEC, rdevManifest } from '../test/support/manifests.ts';
import { range } from '../test/support/parallel.ts';
import { Observer, type Tracked, type Watched } from './observer.ts';
import {
  AgentSandboxController,
  agentSandboxBuild,
  installAgentSandboxCrds,
  SANDBOX_CLAIMS,
  SANDBOX_TEMPLATES,
  SANDBOX_WARM_POOLS,
  SANDBOXES,
  untilCollected,
} from './peers-support.ts';
import {
  localPlane,
  percentile,
  projectChildren,
  ROOT,
  spawnWorker,
  startOperator,
  tearDown,
  until,
} from './support.ts';

const N = Number(process.env.BENCH_PEERS_N ?? 100);
const REPS = Number(process.env.BENCH_PEERS_REPS ?? 3);
/** Size of the warm pools, and how many claims / WorkItems take from them at once. */
const WARM = Number(process.env.BENCH_PEERS_WARM ?? 50);
/** A Project keeps at most 20 warm runners (spec.runners.warm): WARM spreads over several. */
const WARM_PER_PROJECT = 20;
const WORKERS = 3;

/** The Pod of the floors and of agent-sandbox (kwok runs none of it: any image does). */
const IMAGE = 'busybox';
const SLEEP = ['sleep', 'infinity'];
const SANDBOX_POD = { metadata: {}, spec: { containers: [{ name: 'main', image: IMAGE, command: SLEEP }] } };

// Everything the build prints goes to stderr: stdout is the table.
const buildDir = agentSandboxBuild();
const plane = await localPlane('bench-peers');
const { namespace } = plane;
const log = (message: string) => process.stderr.write(`peers: ${message}\n`);

/** The bench's own client: it counts its writes (the floors' cost is theirs). */
let clientWrites = 0;
const client = new KubeClient(plane.kc, {
  observe: (verb) => void (WRITE_VERBS.has(verb) && clientWrites++),
});

await installAgentSandboxCrds(client, buildDir);
log('waiting until the garbage collector collects through the new kinds (it reads discovery every ~30 s)');
const probing = performance.now();
await Promise.all([
  untilCollected(client, namespace, SANDBOXES, (ownerReferences) => ({
    apiVersion: apiVersionOf(SANDBOXES),
    kind: SANDBOXES.kind,
    metadata: { name: `gc-probe-${randomBytes(3).toString('hex')}`, namespace, ownerReferences },
    spec: { podTemplate: SANDBOX_POD },
  })),
  untilCollected(client, namespace, PROJECTS, (ownerReferences) => {
    const manifest = rdevManifest(
      'Project',
      namespace,
      `gc-probe-${randomBytes(3).toString('hex')}`,
      PROJECT_SPEC,
    );
    return { ...manifest, metadata: { ...manifest.metadata, ownerReferences } };
  }),
]);
log(`garbage collector ready after ${((performance.now() - probing) / 1000).toFixed(1)} s`);

const conditionReady = (obj: KubeObject & { status?: { conditions?: [] } }) =>
  isConditionTrue(obj.status?.conditions, 'Ready');
const watched: Watched[] = [
  { resource: PODS, ready: (pod: Pod) => pod.status?.phase === 'Running' },
  ...[...APPLIED_CHILDREN, SECRETS].map((resource) => ({ resource })),
  { resource: SANDBOXES, ready: conditionReady },
  { resource: SANDBOX_CLAIMS, ready: conditionReady },
  { resource: SANDBOX_TEMPLATES },
  { resource: SANDBOX_WARM_POOLS },
  { resource: PROJECTS, ready: conditionReady },
  { resource: WORK_ITEMS },
] as Watched[];
const observer = new Observer(new KubeClient(plane.kc), namespace, watched);
await observer.start();

/** One of the N things a scenario makes: when it was sent, when it was ready, what deleting removes. */
interface Unit {
  sentAt: number;
  readyAt(): number | undefined;
  /** The objects deleting it starts from (their trees must go). */
  roots(): Tracked[];
  /** The Pod it is waiting for, when it makes one (not when it takes a warm one). */
  pod?(): Tracked | undefined;
}

interface Scenario {
  label: string;
  /** Makes the i-th unit of repetition `rep`. */
  create(rep: number, i: number): Promise<Unit>;
  /** Deletes the units' objects. */
  remove(units: Unit[]): Promise<void>;
  /** Before the measurement (warm pools filling) and after it (the pools removed). */
  setup?(rep: number): Promise<void>;
  teardown?(): Promise<void>;
}

interface Figures {
  latencies: number[];
  /** ms from the first send until the last unit was ready. */
  allReady: number;
  /** ms from the deletes being sent until the last object of the trees was gone. */
  allGone: number;
  /** API writes per unit: the bench's own and the controller's, from create to gone. */
  writes: number;
  /** ms from each unit's send until its Pod was first seen, and until it was Running (when it makes one). */
  podCreated: number[];
  podRunning: number[];
  /** ms from the deletes being sent until the deleted objects themselves (not what they own) were gone. */
  rootsGone: number;
  /** This process's event-loop delay meanwhile, p99 ms (watch events wait for it; rdev's operator shares it). */
  loopDelay: number;
}

const tracked = (resource: Resource, name: string): Tracked[] => {
  const t = observer.get(resource, namespace, name);
  return t ? [t] : [];
};
const readyOf = (resource: Resource, name: string) => () => observer.get(resource, namespace, name)?.readyAt;
/**
 * Sends the create of one object, the unit: ready when the object is, deleting it deletes the
 * object (and the collector what it owns); `podName` names the Pod it makes, if it makes one.
 */
async function createUnit(resource: Resource, obj: KubeObject, podName?: string): Promise<Unit> {
  const { name } = obj.metadata;
  const sentAt = performance.now();
  await client.create(resource, { apiVersion: apiVersionOf(resource), kind: resource.kind, ...obj });
  return {
    sentAt,
    readyAt: readyOf(resource, name),
    roots: () => tracked(resource, name),
    ...(podName ? { pod: () => observer.get(PODS, namespace, podName) } : {}),
  };
}
const deleteRoots = (units: Unit[]) =>
  Promise.all(
    units.flatMap((u) => u.roots()).map((t) => client.delete(t.resource, namespace, t.obj.metadata.name)),
  ).then(() => undefined);

async function measure(
  scenario: Scenario,
  rep: number,
  size: number,
  controllerWrites: () => Promise<number>,
) {
  await scenario.setup?.(rep);
  const writesBefore = clientWrites + (await controllerWrites());
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const started = performance.now();
  const units = await Promise.all(range(size).map((i) => scenario.create(rep, i)));
  const pending = () => units.filter((u) => u.readyAt() === undefined).length;
  await observer.until(
    () => pending() === 0,
    () => `${scenario.label}: ${pending()} of ${size} not ready`,
  );
  const readyAts = units.map((u) => u.readyAt() ?? Number.NaN);
  const pods = units.flatMap((u) => {
    const pod = u.pod?.();
    return pod ? [{ sentAt: u.sentAt, pod }] : [];
  });
  const roots = units.flatMap((u) => u.roots());
  const trees = observer.tree(roots);
  const deleted = performance.now();
  await scenario.remove(units);
  const left = () => trees.filter((t) => t.goneAt === undefined);
  await observer.until(
    () => left().length === 0,
    () =>
      `${scenario.label}: ${left().length} objects left (${[...new Set(left().map((t) => t.resource.kind))].join(', ')})`,
  );
  loop.disable();
  const figures: Figures = {
    latencies: units.map((u, i) => (readyAts[i] ?? Number.NaN) - u.sentAt),
    allReady: Math.max(...readyAts) - started,
    allGone: Math.max(...trees.map((t) => t.goneAt ?? Number.NaN)) - deleted,
    writes: (clientWrites + (await controllerWrites()) - writesBefore) / size,
    podCreated: pods.map(({ sentAt, pod }) => pod.seenAt - sentAt),
    podRunning: pods.map(({ sentAt, pod }) => (pod.readyAt ?? Number.NaN) - sentAt),
    rootsGone: Math.max(...roots.map((t) => t.goneAt ?? Number.NaN)) - deleted,
    loopDelay: loop.percentile(99) / 1e6,
  };
  await scenario.teardown?.();
  log(
    `${scenario.label} (rep ${rep + 1}): p50 ${percentile(figures.latencies, 50).toFixed(0)} ms, all Ready ${(figures.allReady / 1000).toFixed(1)} s, all gone ${(figures.allGone / 1000).toFixed(1)} s, event-loop delay p99 ${figures.loopDelay.toFixed(0)} ms`,
  );
  return figures;
}

// ---- floors: a client loop, no controller ----

const floorA: Scenario = {
  label: 'floor A: bare Pod',
  create(rep, i) {
    const name = `floor-a-${rep}-${i}`;
    const spec = { containers: [{ name: 'main', image: IMAGE, command: SLEEP }] };
    return createUnit(PODS, { metadata: { name, namespace }, spec } as KubeObject, name);
  },
  remove: deleteRoots,
};

const floorB: Scenario = {
  label: 'floor B: Project children',
  async create(rep, i) {
    const name = `floor-b-${rep}-${i}`;
    const children = projectChildren(namespace, name);
    const sentAt = performance.now();
    for (const { resource, obj } of children) await client.create(resource, obj);
    return {
      sentAt,
      readyAt: readyOf(PODS, workspaceName(name)),
      roots: () => children.flatMap(({ resource, obj }) => tracked(resource, obj.metadata.name)),
      pod: () => observer.get(PODS, namespace, workspaceName(name)),
    };
  },
  // As a client would: its objects one after the other, the units at once.
  remove: async (units) => {
    await Promise.all(
      units.map(async (u) => {
        for (const t of u.roots().reverse()) await client.delete(t.resource, namespace, t.obj.metadata.name);
      }),
    );
  },
};

// ---- agent-sandbox ----

const sandboxScenario = (label: string, prefix: string, spec: object): Scenario => ({
  label,
  create(rep, i) {
    const name = `${prefix}-${rep}-${i}`;
    // Its Pod takes its name (agents.x-k8s.io/pod-name says otherwise only for adopted Pods).
    return createUnit(SANDBOXES, { metadata: { name, namespace }, spec } as KubeObject, name);
  },
  remove: deleteRoots,
});
const sandbox = sandboxScenario('agent-sandbox Sandbox', 'sb', { podTemplate: SANDBOX_POD });
const sandboxFull = sandboxScenario('agent-sandbox Sandbox + PVC + Service', 'sbf', {
  podTemplate: {
    metadata: {},
    spec: {
      containers: [
        {
          name: 'main',
          image: IMAGE,
          command: SLEEP,
          // The Service's ports are the containers' ports; a Project's preview port is 3000.
          ports: [{ name: 'preview', containerPort: 3000, protocol: 'TCP' }],
          volumeMounts: [{ name: 'workspace', mountPath: '/workspace' }],
        },
      ],
    },
  },
  // A Project's workspace volume: 10Gi, ReadWriteOnce, the default StorageClass.
  volumeClaimTemplates: [
    {
      metadata: { name: 'workspace' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
    },
  ],
  service: true,
});

const POOL = 'bench-pool';
const warmPoolReady = () =>
  (observer.get(SANDBOX_WARM_POOLS, namespace, POOL)?.obj as { status?: { readyReplicas?: number } })?.status
    ?.readyReplicas ?? 0;
const claims: Scenario = {
  label: 'agent-sandbox SandboxClaim (warm)',
  async setup() {
    const metadata = { name: POOL, namespace };
    await createUnit(SANDBOX_TEMPLATES, { metadata, spec: { podTemplate: SANDBOX_POD } } as KubeObject);
    await createUnit(SANDBOX_WARM_POOLS, {
      metadata,
      spec: { replicas: WARM, sandboxTemplateRef: { name: POOL } },
    } as KubeObject);
    await observer.until(
      () => warmPoolReady() >= WARM,
      () => `warm pool: ${warmPoolReady()} of ${WARM} ready`,
    );
  },
  create(rep, i) {
    const metadata = { name: `claim-${rep}-${i}`, namespace };
    return createUnit(SANDBOX_CLAIMS, { metadata, spec: { warmPoolRef: { name: POOL } } } as KubeObject);
  },
  remove: deleteRoots,
  async teardown() {
    const roots = [...tracked(SANDBOX_WARM_POOLS, POOL), ...tracked(SANDBOX_TEMPLATES, POOL)];
    await removeTrees(roots);
  },
};

/** Deletes `roots` and waits until their trees are gone (outside any measurement). */
async function removeTrees(roots: Tracked[]): Promise<void> {
  const trees = observer.tree(roots);
  await Promise.all(roots.map((t) => client.delete(t.resource, namespace, t.obj.metadata.name)));
  await observer.until(
    () => trees.every((t) => t.goneAt !== undefined),
    () => `${trees.filter((t) => t.goneAt === undefined).length} objects left after clean-up`,
  );
}

// ---- rdev ----

const project: Scenario = {
  label: 'rdev Project (workspace only)',
  create(rep, i) {
    const name = `proj-${rep}-${i}`;
    return createUnit(PROJECTS, rdevManifest('Project', namespace, name, PROJECT_SPEC), workspaceName(name));
  },
  remove: deleteRoots,
};

/** When each item's first output line reached its worker, by `namespace/name`. */
const firstOutput = new Map<string, number>();
const onWorkerLine = (line: string) => {
  const key = /^\[([^#\]]+)#/.exec(line)?.[1];
  if (key && !firstOutput.has(key)) {
    firstOutput.set(key, performance.now());
    observer.poke();
  }
};
/** The warm Projects of a repetition and their warm runners: WARM spread 20 at most each. */
const warmProjects = (rep: number) =>
  range(Math.ceil(WARM / WARM_PER_PROJECT)).map((k) => ({
    name: `warm-${rep}-${k}`,
    warm: Math.min(WARM_PER_PROJECT, WARM - k * WARM_PER_PROJECT),
  }));
let warmOf: { name: string; warm: number }[] = [];
const warmRunners = (name: string) =>
  (observer.get(PROJECTS, namespace, name)?.obj as { status?: { runners?: { warm?: number } } })?.status
    ?.runners?.warm ?? 0;
const items: Scenario = {
  label: 'rdev WorkItem (warm runner)',
  async setup(rep) {
    warmOf = warmProjects(rep);
    for (const p of warmOf) {
      await client.create(
        PROJECTS,
        rdevManifest('Project', namespace, p.name, { ...PROJECT_SPEC, runners: { warm: p.warm } }),
      );
    }
    await observer.until(
      () => warmOf.every((p) => warmRunners(p.name) >= p.warm),
      () => `warm runners: ${warmOf.map((p) => `${p.name} ${warmRunners(p.name)}/${p.warm}`).join(', ')}`,
    );
  },
  async create(rep, i) {
    const name = `item-${rep}-${i}`;
    // Item i goes to the Project whose share of the warm runners it falls in.
    let k = 0;
    for (let left = i; left >= (warmOf[k]?.warm ?? Number.POSITIVE_INFINITY); k++)
      left -= warmOf[k]?.warm ?? 0;
    const item = await createUnit(
      WORK_ITEMS,
      rdevManifest('WorkItem', namespace, name, {
        projectRef: { name: warmOf[k]?.name ?? '' },
        type: 'shell',
        command: ['echo', 'ready'],
      }),
    );
    return { ...item, readyAt: () => firstOutput.get(`${namespace}/${name}`) };
  },
  remove: deleteRoots,
  async teardown() {
    await removeTrees(warmOf.flatMap((p) => tracked(PROJECTS, p.name)));
  },
};

/** Per rdev controller: reconciles, and the seconds its keys waited in the queue and were worked on. */
type ControllerStats = Map<string, { n: number; wait: number; work: number }>;
async function controllerStats(manager: Manager): Promise<ControllerStats> {
  const stats: ControllerStats = new Map();
  const add = async (metric: string, field: 'n' | 'wait' | 'work') => {
    for (const v of (await manager.metrics.registry.getSingleMetric(metric)?.get())?.values ?? []) {
      if (field !== 'n' && (v as { metricName?: string }).metricName !== `${metric}_sum`) continue;
      const controller = String(v.labels.controller ?? v.labels.name);
      const entry = stats.get(controller) ?? { n: 0, wait: 0, work: 0 };
      entry[field] += v.value;
      stats.set(controller, entry);
    }
  };
  await add('controller_runtime_reconcile_total', 'n');
  await add('workqueue_queue_duration_seconds', 'wait');
  await add('workqueue_work_duration_seconds', 'work');
  return stats;
}

/** Logs what each rdev controller did since `before` (setup included): where the operator's time went. */
function logControllerStats(label: string, before: ControllerStats, after: ControllerStats): void {
  const lines = [...after].flatMap(([controller, a]) => {
    const b = before.get(controller) ?? { n: 0, wait: 0, work: 0 };
    const n = a.n - b.n;
    if (n === 0) return [];
    const mean = (x: number) => ((1000 * x) / n).toFixed(0);
    return [
      `${controller} ${n} reconciles, mean queue wait ${mean(a.wait - b.wait)} ms, mean work ${mean(a.work - b.work)} ms`,
    ];
  });
  log(`${label}: ${lines.join('; ')}`);
}

// ---- the runs ----

const SCENARIOS = [floorA, floorB, sandbox, sandboxFull, claims, project, items];
const results = new Map<Scenario, Figures[]>(SCENARIOS.map((s) => [s, []]));
const sizeOf = (s: Scenario) => (s === claims || s === items ? WARM : N);
const noWrites = async () => 0;

for (let rep = 0; rep < REPS; rep++) {
  log(`repetition ${rep + 1} of ${REPS}: floors (no controller)`);
  for (const s of [floorA, floorB]) results.get(s)?.push(await measure(s, rep, sizeOf(s), noWrites));

  log('agent-sandbox controller alone');
  const peer = await AgentSandboxController.start(
    buildDir,
    plane.kubeconfig,
    join(ROOT, '.cluster', 'logs', 'agent-sandbox-controller.log'),
  );
  try {
    for (const s of [sandbox, sandboxFull, claims])
      results.get(s)?.push(await measure(s, rep, sizeOf(s), () => peer.writes()));
  } finally {
    await peer.stop();
  }

  log('rdev operator and workers alone');
  const manager: Manager = await startOperator(
    plane,
    [registerProjectController, registerWorkControllers],
    [`--worker-namespace=${namespace}`],
  );
  const capacity = Math.ceil(WARM / WORKERS);
  const workers = range(WORKERS).map((w) =>
    spawnWorker(plane, `peers-${rep}-${w}`, [`--capacity=${capacity}`], onWorkerLine),
  );
  try {
    await until(async () => (await gaugeValue(manager, 'rdev_worker_pool_workers')) === WORKERS, 200);
    for (const s of [project, items]) {
      const before = await controllerStats(manager);
      results.get(s)?.push(await measure(s, rep, sizeOf(s), () => apiWrites(manager)));
      logControllerStats(s.label, before, await controllerStats(manager));
    }
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    if (rep < REPS - 1) await manager.stop();
    else {
      observer.stop();
      await tearDown(plane, manager); // the namespace goes while the operator can still finalize
    }
  }
}

// ---- the table ----

const median = (values: number[]) => percentile(values, 50);
interface Summary {
  p50: number;
  p90: number;
  p99: number;
  allReady: number;
  allGone: number;
  writes: number;
  podCreated: number;
  podRunning: number;
  rootsGone: number;
  loopDelay: number;
}
/** Each figure: the median over the repetitions of the repetition's figure. */
const summary = (runs: Figures[]): Summary => ({
  p50: median(runs.map((r) => percentile(r.latencies, 50))),
  p90: median(runs.map((r) => percentile(r.latencies, 90))),
  p99: median(runs.map((r) => percentile(r.latencies, 99))),
  allReady: median(runs.map((r) => r.allReady)),
  allGone: median(runs.map((r) => r.allGone)),
  writes: median(runs.map((r) => r.writes)),
  podCreated: median(runs.map((r) => percentile(r.podCreated, 50))),
  podRunning: median(runs.map((r) => percentile(r.podRunning, 50))),
  rootsGone: median(runs.map((r) => r.rootsGone)),
  loopDelay: median(runs.map((r) => r.loopDelay)),
});
const summaries = new Map(SCENARIOS.map((s) => [s, summary(results.get(s) ?? [])]));
const ms = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(0));
const s1 = (v: number) => (v / 1000).toFixed(1);

/** A markdown table: the first column left-aligned, the figures right-aligned. */
function table(header: string[], rows: string[][]): void {
  console.log(`| ${header.join(' | ')} |`);
  console.log(
    `|---|${header
      .slice(1)
      .map(() => '---:|')
      .join('')}`,
  );
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
}
const byScenario = (cells: (s: Scenario, f: Summary) => string[]) =>
  SCENARIOS.map((s) => {
    const f = summaries.get(s) ?? summary([]);
    return [s.label, ...cells(s, f)];
  });

console.log(
  `### rdev beside ${basename(buildDir)} (local plane, N=${N}, warm ${WARM}, medians of ${REPS} repetition${REPS === 1 ? '' : 's'})\n`,
);
table(
  ['scenario', 'N', 'Ready p50 ms', 'p90 ms', 'p99 ms', 'all Ready s', 'all gone s', 'API writes / object'],
  byScenario((s, f) => [
    String(sizeOf(s)),
    ms(f.p50),
    ms(f.p90),
    ms(f.p99),
    s1(f.allReady),
    s1(f.allGone),
    f.writes.toFixed(1),
  ]),
);
const RATIOS: [string, Scenario, Scenario][] = [
  ['rdev Project / Sandbox + PVC + Service', project, sandboxFull],
  ['rdev Project / floor B', project, floorB],
  ['Sandbox + PVC + Service / floor B', sandboxFull, floorB],
  ['rdev WorkItem / SandboxClaim (warm)', items, claims],
];
const RATIO_OF: (keyof Summary)[] = ['p50', 'p90', 'p99', 'allReady', 'allGone', 'writes'];
table(
  ['ratio', 'p50', 'p90', 'p99', 'all Ready', 'all gone', 'API writes'],
  RATIOS.map(([label, a, b]) => {
    const x = summaries.get(a) ?? summary([]);
    const y = summaries.get(b) ?? summary([]);
    // The workers' writes are not counted: no ratio of writes with rdev's WorkItems.
    return [
      label,
      ...RATIO_OF.map((k) => (a === items && k === 'writes' ? '–' : `${(x[k] / y[k]).toFixed(2)}x`)),
    ];
  }),
);
console.log('Where the time goes (p50 ms from the send; deletions in s from the deletes):\n');
table(
  [
    'scenario',
    'Pod created',
    'Pod Running',
    'Ready',
    'deleted objects gone s',
    'all gone s',
    'event-loop delay p99 ms',
  ],
  byScenario((_, f) => [
    ms(f.podCreated),
    ms(f.podRunning),
    ms(f.p50),
    s1(f.rootsGone),
    s1(f.allGone),
    ms(f.loopDelay),
  ]),
);
console.log(
  [
    'Ready: Pods Running; Sandbox, SandboxClaim and Project their Ready condition; WorkItem its first output',
    "line reaching its worker (the live output). Latency from the create request's send to the watch event.",
    'All gone: from the deletes to the DELETED event of the last object they own (owner references).',
    "API writes: the bench client's (creates, deletes) plus the controller's, per object, create to gone;",
    "rdev's WorkItem row counts the operator's writes, not the workers'. Warm rows include the pools' refill.",
  ].join('\n'),
);
await client.close();
process.exit(0);
