// rdev custom objects through CustomObjectsApi. (KubernetesObjectApi serializes unknown kinds as
// bare KubernetesObjects, dropping spec and status.)
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, KINDS, VERSION } from '../../../operator/src/api/v1alpha1/index.ts';
import type { Manifest } from '../../support/manifests.ts';

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
