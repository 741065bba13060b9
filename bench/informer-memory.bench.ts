// Informer memory per 1,000 cached objects: heap growth after caching realistic Project
// objects (spec, status with conditions, managedFields as the API server returns them), with
// the default transform (managedFields dropped) and without. Run: make bench (needs --expose-gc)
import type { KubeObject, ObjectList } from '../operator/src/runtime/client.ts';
import { Informer } from '../operator/src/runtime/informer.ts';
import type { ListWatch } from '../operator/src/runtime/reflector.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** A Project as the API server returns it. */
type ProjectObject = KubeObject & { spec: Record<string, unknown>; status: Record<string, unknown> };

function project(i: number): ProjectObject {
  const time = '2026-11-24T03:00:00Z';
  return {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: {
      name: `project-${i}`,
      namespace: `team-${i % 50}`,
      uid: `6f1c2d3e-${String(i).padStart(4, '0')}-4a5b-8c9d-0e1f2a3b4c5d`,
      resourceVersion: String(100000 + i),
      generation: 3,
      creationTimestamp: time,
      labels: { 'app.kubernetes.io/part-of': 'shop', team: `team-${i % 50}` },
      finalizers: ['rdev.dev/project'],
      managedFields: [
        {
          manager: 'kubectl',
          operation: 'Apply',
          apiVersion: 'rdev.dev/v1alpha1',
          time,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:spec': {
              'f:agent': { 'f:provider': {}, 'f:credentialsSecretRef': { 'f:name': {} } },
              'f:repo': { 'f:name': {} },
              'f:database': { 'f:enabled': {} },
            },
          },
        },
        {
          manager: 'rdev-operator',
          operation: 'Apply',
          apiVersion: 'rdev.dev/v1alpha1',
          time,
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: {
            'f:status': {
              'f:phase': {},
              'f:observedGeneration': {},
              'f:conditions': {
                'k:{"type":"Ready"}': {},
                'k:{"type":"RepoReady"}': {},
                'k:{"type":"DatabaseReady"}': {},
              },
              'f:repo': { 'f:id': {}, 'f:url': {}, 'f:cloneURL': {} },
            },
          },
        },
      ],
    },
    spec: {
      agent: { provider: 'claude-code', model: '', credentialsSecretRef: { name: 'anthropic' } },
      workspace: { storage: '10Gi', previewPort: 3000 },
      repo: { enabled: true, name: `project-${i}`, private: true, deletionPolicy: 'Delete' },
      ci: { enabled: true },
      database: { enabled: true, engine: 'postgres', deletionPolicy: 'Retain' },
      cache: { enabled: false, deletionPolicy: 'Delete' },
      dns: { enabled: false },
    },
    status: {
      phase: 'Ready',
      observedGeneration: 3,
      conditions: ['Ready', 'WorkspaceReady', 'RepoReady', 'CIReady', 'DatabaseReady'].map((type) => ({
        type,
        status: 'True',
        reason: 'Provisioned',
        message: `${type} is provisioned`,
        lastTransitionTime: time,
        observedGeneration: 3,
      })),
      repo: {
        id: i,
        url: `https://git.example.com/rdev/project-${i}`,
        cloneURL: `https://git.example.com/rdev/project-${i}.git`,
      },
      database: {
        name: `rdev_team_project_${i}`,
        user: `rdev_team_project_${i}`,
        secretName: `project-${i}-db`,
      },
    },
  };
}

async function measure(count: number, keepManagedFields: boolean): Promise<number> {
  // Objects are made inside the list, as a watch would parse them, and only the cache keeps them.
  const source: ListWatch<KubeObject> = {
    list: async (): Promise<ObjectList<KubeObject>> => ({
      metadata: { resourceVersion: '1' },
      items: Array.from({ length: count }, (_, i) => project(i)),
    }),
    watch: (_o, _e, signal) =>
      new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r()))),
  };
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const informer = new Informer(source, keepManagedFields ? { transform: (o) => o } : {});
  const stop = new AbortController();
  const running = informer.run(stop.signal);
  await informer.waitForSync();
  gc?.();
  const after = process.memoryUsage().heapUsed;
  if (informer.store.size !== count) throw new Error('not all cached');
  stop.abort();
  await running;
  return ((after - before) / count) * 1000;
}

console.log('# informer memory (heap growth per 1,000 cached Project objects)');
for (const count of [1_000, 10_000]) {
  const lean = await measure(count, false);
  const full = await measure(count, true);
  console.log(
    `${count.toLocaleString('en').padStart(6)} objects: ${(lean / 2 ** 20).toFixed(2)} MiB per 1,000 (managedFields dropped), ` +
      `${(full / 2 ** 20).toFixed(2)} MiB per 1,000 (kept)`,
  );
}
