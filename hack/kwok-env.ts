// kwok-env: the part of a kubelet that kwok leaves out, a Pod's environment, for the local plane
// (started by hack/cluster.sh, logging to .cluster/logs/kwok-env.log).
//
// kwok runs a command exec'd in a Pod on this machine, with the settings of the Exec object
// (kwok.x-k8s.io/v1alpha1, read with --enable-crds=Exec) named like the Pod, or else those of the
// ClusterExec in .cluster/kwok.yaml. Left at that, the command sees none of the Pod's env: neither
// its literal values nor what it takes from Secrets and ConfigMaps, which a kubelet gives every
// process of the container (rdev's runners are to get their git token so). So this process resolves
// each Pod's env as a kubelet does when it starts the containers, writes it into the Pod's Exec
// (owned by the Pod: the garbage collector removes it), and then annotates the Pod with a hash of
// it. The plane's pod-ready stage waits for that annotation: a Pod whose env names a missing
// Secret, ConfigMap or key (not optional) stays Pending until it appears, as on a kubelet
// (CreateContainerConfigError).
//
// How kwok v0.8.0 applies the envs (pkg/kwok/server/debugging_exec.go, pkg/utils/exec/exec.go):
// the command's environment is kwok's own (os.Environ(): this machine's, with HOME=.cluster/
// kwok-home) followed by the envs, and Go's os/exec keeps the last of duplicate names. So the Pod's
// variables win over the machine's, but the machine's others stay visible (PATH among them), and
// a variable the Pod sets, HOME say, applies to a command running here, not in a container. Once
// a Pod has an Exec, kwok ignores the ClusterExec for it, and fails an exec into a container the
// Exec does not name: so it has one entry per container, init containers included.
//
// Unlike a kubelet: a changed Secret or ConfigMap reaches the next exec (a kubelet keeps a started
// container's env until it restarts); $(VAR) references are not expanded; fieldRef resolves
// metadata and spec fields (status.podIP once kwok set it), resourceFieldRef and fileKeyRef leave
// the variable unset; the image's env and service links are not added. Values never reach the
// log: it names Pods and the references they wait for, nothing else. It runs on the operator's
// runtime (informers that list, watch and list again; a work queue; the JSON client).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeConfig, type V1Container } from '@kubernetes/client-node';
import {
  ApiError,
  type Json,
  KubeClient,
  type KubeObject,
  type Resource,
} from '../operator/src/runtime/client.ts';
import { Informer } from '../operator/src/runtime/informer.ts';
import { createLogger } from '../operator/src/runtime/logging.ts';
import {
  CONFIG_MAPS,
  type ConfigMap,
  PODS,
  type Pod,
  SECRETS,
  type Secret,
} from '../operator/src/runtime/resources.ts';
import { keyOf } from '../operator/src/runtime/store.ts';
import { WorkQueue } from '../operator/src/runtime/workqueue.ts';

type Container = Json<V1Container>;
type SourceKind = 'Secret' | 'ConfigMap';
/** The data of a Secret or ConfigMap of the Pod's namespace, as strings; undefined when it does not exist. */
export type Lookup = (kind: SourceKind, name: string) => Record<string, string> | undefined;

export interface ResolvedEnv {
  env: Map<string, string>;
  /** The references that must resolve before the container could start, e.g. "Secret git/token". */
  missing: string[];
}

/**
 * A container's env as a kubelet makes it: envFrom in order, then env in order, a later entry
 * overriding an earlier one of the same name; a missing source or key is skipped when optional
 * and otherwise keeps the container from starting.
 */
export function resolveEnv(pod: Pod, container: Container, lookup: Lookup): ResolvedEnv {
  const env = new Map<string, string>();
  const missing: string[] = [];
  for (const from of container.envFrom ?? []) {
    const [kind, ref] = from.secretRef
      ? (['Secret', from.secretRef] as const)
      : (['ConfigMap', from.configMapRef ?? {}] as const);
    const data = lookup(kind, ref.name ?? '');
    if (!data) {
      if (!ref.optional) missing.push(`${kind} ${ref.name}`);
      continue;
    }
    // A key that cannot be a variable's name is skipped (a kubelet records an event for it).
    for (const [key, value] of Object.entries(data))
      if (!key.includes('=')) env.set(`${from.prefix ?? ''}${key}`, value);
  }
  for (const { name, value, valueFrom } of container.env ?? []) {
    const keyRef = valueFrom?.secretKeyRef ?? valueFrom?.configMapKeyRef;
    if (keyRef) {
      const kind: SourceKind = valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap';
      const data = lookup(kind, keyRef.name ?? '');
      const resolved = data?.[keyRef.key];
      if (resolved !== undefined) env.set(name, resolved);
      else if (!keyRef.optional)
        missing.push(data ? `key ${keyRef.key} of ${kind} ${keyRef.name}` : `${kind} ${keyRef.name}`);
    } else if (valueFrom?.fieldRef) {
      const resolved = podField(pod, valueFrom.fieldRef.fieldPath);
      if (resolved !== undefined) env.set(name, resolved);
    } else if (!valueFrom) {
      env.set(name, value ?? '');
    }
  }
  return { env, missing };
}

/** The downward API's fields that exist before the Pod runs (and status.podIP/hostIP once set). */
function podField(pod: Pod, path: string): string | undefined {
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return pod.metadata[keyed[1] as 'labels' | 'annotations']?.[keyed[2] ?? ''];
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': pod.status?.podIP,
    'status.hostIP': pod.status?.hostIP,
  };
  return fields[path];
}

const EXECS: Resource = {
  group: 'kwok.x-k8s.io',
  version: 'v1alpha1',
  plural: 'execs',
  kind: 'Exec',
  namespaced: true,
};

const containersOf = (pod: Pod): Container[] => [
  ...(pod.spec?.initContainers ?? []),
  ...(pod.spec?.containers ?? []),
];

/** Index of Pods by the Secrets and ConfigMaps their env names: "<namespace>/<kind>/<name>". */
function referencesOf(pod: Pod): string[] {
  const names = containersOf(pod).flatMap((c) => [
    ...(c.envFrom ?? []).map((f) =>
      f.secretRef ? `Secret/${f.secretRef.name}` : `ConfigMap/${f.configMapRef?.name}`,
    ),
    ...(c.env ?? []).flatMap((e) => [
      ...(e.valueFrom?.secretKeyRef ? [`Secret/${e.valueFrom.secretKeyRef.name}`] : []),
      ...(e.valueFrom?.configMapKeyRef ? [`ConfigMap/${e.valueFrom.configMapKeyRef.name}`] : []),
    ]),
  ]);
  return [...new Set(names)].map((n) => `${pod.metadata.namespace}/${n}`);
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      annotation: { type: 'string', default: 'kwok.rdev.dev/env' },
      'ready-file': { type: 'string' },
    },
  });
  const annotation = args.annotation;
  const log = createLogger({ name: 'kwok-env' });
  const config = new KubeConfig();
  if (args.kubeconfig) config.loadFromFile(args.kubeconfig);
  else config.loadFromDefault();
  const client = new KubeClient(config);

  const options = { log };
  const pods = Informer.forResource<Pod>(client, PODS, { ...options, indexers: { refs: referencesOf } });
  const secrets = Informer.forResource<Secret>(client, SECRETS, options);
  const configMaps = Informer.forResource<ConfigMap>(client, CONFIG_MAPS, options);
  const execs = Informer.forResource<KubeObject>(client, EXECS, options);

  /** The last thing logged per Pod: each Pod's state is logged once, not on every status update. */
  const reported = new Map<string, string>();
  const report = (key: string, message: string) => {
    if (reported.get(key) === message) return;
    reported.set(key, message);
    log.info({ pod: key }, message);
  };

  const queue = new WorkQueue<string>();
  const enqueue = (obj: KubeObject) => queue.add(keyOf(obj));
  pods.on({ add: enqueue, update: (_, pod) => enqueue(pod), delete: (pod) => reported.delete(keyOf(pod)) });
  // A Pod waiting for a Secret or ConfigMap resolves when it appears; a resolved one picks up changes.
  const dependents = (kind: SourceKind) => (obj: KubeObject) => {
    for (const pod of pods.store.byIndex('refs', `${obj.metadata.namespace}/${kind}/${obj.metadata.name}`))
      enqueue(pod);
  };
  for (const [informer, kind] of [
    [secrets, 'Secret'],
    [configMaps, 'ConfigMap'],
  ] as const) {
    const changed = dependents(kind);
    informer.on({ add: changed, update: (_, obj) => changed(obj), delete: changed });
  }
  // An Exec changed or removed by anyone else (the garbage collector, racing a Pod recreated under
  // the same name) is written again.
  execs.on({ update: (_, exec) => enqueue(exec), delete: enqueue });

  const lookup =
    (namespace: string): Lookup =>
    (kind, name) => {
      if (kind === 'ConfigMap') {
        const configMap = configMaps.store.get(`${namespace}/${name}`);
        return configMap && (configMap.data ?? {});
      }
      const secret = secrets.store.get(`${namespace}/${name}`);
      if (!secret) return undefined;
      const data = Object.entries(secret.data ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString(),
      ]);
      return Object.fromEntries(data);
    };

  async function sync(key: string): Promise<void> {
    const pod = pods.store.get(key);
    if (!pod || pod.metadata.deletionTimestamp) return; // its Exec goes with it
    const { name, namespace, uid } = pod.metadata;
    const containers = containersOf(pod).map((c) => ({
      name: c.name,
      ...resolveEnv(pod, c, lookup(namespace ?? '')),
    }));
    const missing = [...new Set(containers.flatMap((c) => c.missing))];
    if (missing.length > 0) {
      // Nothing is written: the Pod stays Pending until a Secret or ConfigMap event brings it back.
      report(key, `waiting for ${missing.join(', ')}`);
      return;
    }
    const targets = containers.map((c) => ({
      containers: [c.name],
      local: { workDir: '/tmp', envs: [...c.env].map(([n, value]) => ({ name: n, value })) },
    }));
    // Salted with the UID: the annotation tells nothing about the values, and names this Pod's env.
    const hash = createHash('sha256')
      .update(`${uid}\n${JSON.stringify(targets)}`)
      .digest('hex')
      .slice(0, 16);
    if (execs.store.get(key)?.metadata.annotations?.[annotation] !== hash) {
      const exec = {
        apiVersion: `${EXECS.group}/${EXECS.version}`,
        kind: EXECS.kind,
        metadata: {
          name,
          namespace,
          annotations: { [annotation]: hash },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name, uid }],
        },
        spec: { execs: targets },
      };
      await client.patch(EXECS, namespace, name, exec, 'apply', { fieldManager: 'kwok-env', force: true });
    }
    // Only now may the Pod become Ready (kwok reads the Exec through a watch of its own, so an exec
    // right after Ready may, rarely, still see the ClusterExec). The UID cannot change: it makes
    // the patch fail, not mark another Pod of the same name.
    if (pod.metadata.annotations?.[annotation] !== hash) {
      await client.patch(
        PODS,
        namespace,
        name,
        { metadata: { uid, annotations: { [annotation]: hash } } },
        'merge',
      );
    }
    report(key, `env resolved: ${containers.map((c) => `${c.name} ${c.env.size} variables`).join(', ')}`);
  }

  async function worker(): Promise<void> {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        // Status code and reason only: a message may quote what was sent.
        const why = err instanceof ApiError ? `${err.code} ${err.reason}` : String(err);
        log.warn({ pod: key, err: why }, 'writing the env failed; retrying');
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  }

  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
  const informers = [pods, secrets, configMaps, execs];
  for (const informer of informers) void informer.run(new AbortController().signal);
  await Promise.all(informers.map((i) => i.waitForSync()));
  // Pods are looked at only once every Secret and ConfigMap is known: no false "waiting for".
  log.info({ pods: pods.store.size }, 'caches synced');
  if (args['ready-file']) writeFileSync(args['ready-file'], '');
  await Promise.all([worker(), worker()]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
