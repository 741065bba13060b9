// rdev custom objects through CustomObjectsApi. (KubernetesObjectApi serializes unknown kinds as
// bare KubernetesObjects, dropping spec and status.)
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, KINDS, VERSION } from '../../../operator/src/api/v1alpha1/index.ts';
import type { KubeClient, KubeObject, Resource } from '../../../operator/src/runtime/client.ts';
import { type Manifest, rdevManifest } from '../../support/manifests.ts';
import { eventually, untilGone } from './kube.ts';

export type RdevObject = Manifest & {
  metadata: Manifest['metadata'] & { resourceVersion?: string; uid?: string };
  status?: Record<string, unknown>;
};

export function rdevObjects(kc: KubeConfig, namespace: string) {
  const api = kc.makeApiClient(CustomObjectsApi);
  const plural = (kind: string) => {
    const def = KINDS.find((k) => k.kind === kind);
    if (!def) throw new Error(`not an rdev kind: ${kind}`);
    return def.plural;
  };
  const at = (m: Manifest) => ({ group: GROUP, version: VERSION, namespace, plural: plural(m.kind) });
  return {
    create: (m: Manifest, dryRun?: 'All'): Promise<RdevObject> =>
      api.createNamespacedCustomObject({
        ...at(m),
        body: { ...m, metadata: { ...m.metadata, namespace } },
        dryRun,
      }),
    replace: (m: RdevObject, dryRun?: 'All'): Promise<RdevObject> =>
      api.replaceNamespacedCustomObject({
        ...at(m),
        name: m.metadata.name,
        body: { ...m, metadata: { ...m.metadata, namespace } },
        dryRun,
      }),
    get: (kind: Manifest['kind'], name: string): Promise<RdevObject> =>
      api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: plural(kind),
        name,
      }),
  };
}

// The same kinds through the operator's own KubeClient, the way most tests drive them: build a
// manifest, read it back, wait for a phase or for it to be gone.

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** An rdev object as the API server returns it, with the status fields every kind shares. */
export type RdevLive = KubeObject & {
  spec?: Record<string, unknown>;
  status?: { phase?: string; message?: string; conditions?: Condition[]; [key: string]: unknown };
};

type ConditionOf<T extends RdevLive> = NonNullable<NonNullable<T['status']>['conditions']>[number];

/** The condition of `type` in an object's status. */
export function conditionOf<C extends Condition>(
  obj: { status?: { conditions?: readonly C[] } },
  type: string,
): C | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

/** Where an object stands, for a wait that timed out: its phase, message and every condition not True. */
function whereIs(obj: RdevLive): string {
  const failing = (obj.status?.conditions ?? []).filter((c) => c.status !== 'True');
  return [
    `${obj.metadata.name} is ${obj.status?.phase ?? 'new'}`,
    ...(obj.status?.message ? [obj.status.message] : []),
    ...failing.map((c) => `${c.type} ${c.reason}: ${c.message}`),
  ].join('; ');
}

export interface KindOptions {
  /** What every object created gets in its spec (a shallow merge: a field given replaces it). */
  spec?: Record<string, unknown>;
  /** How long `phase` waits, unless told otherwise; 60 s by default. */
  timeoutMs?: number;
}

/** Objects of one rdev kind in one namespace, through `client`. */
export function rdevKind<T extends RdevLive = RdevLive>(
  client: KubeClient,
  resource: Resource,
  namespace: { readonly name: string },
  options: KindOptions = {},
) {
  const get = (name: string) => client.get<T>(resource, namespace.name, name);
  return {
    create: (name: string, spec: Record<string, unknown> = {}) =>
      client.create<T>(
        resource,
        rdevManifest(resource.kind, namespace.name, name, { ...options.spec, ...spec }) as T,
      ),
    get,
    list: async () => (await client.list<T>(resource, namespace.name)).items,
    delete: (name: string) => client.delete(resource, namespace.name, name),
    /** A merge patch of the spec. */
    patchSpec: (name: string, spec: Record<string, unknown>) =>
      client.patch<T>(resource, namespace.name, name, { spec }, 'merge'),
    condition: async (name: string, type: string): Promise<ConditionOf<T> | undefined> =>
      conditionOf(await get(name), type),
    /** Waits until the object is in one of `phases`, and returns it as it was then. */
    phase: (name: string, phases: string | readonly string[], timeoutMs = options.timeoutMs ?? 60_000) =>
      eventually(
        async () => {
          const obj = await get(name);
          if (![phases].flat().includes(obj.status?.phase ?? '')) throw new Error(whereIs(obj));
          return obj;
        },
        { timeoutMs },
      ),
    /** Waits until the object is gone. */
    gone: (name: string, timeoutMs = 60_000) => untilGone(() => get(name), { timeoutMs }),
  };
}
