// Installs the generated CRDs into the cluster under test (server-side apply) and waits until
// the API server serves them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { ROOT } from '../../support/manifests.ts';
import { eventually } from './kube.ts';

export async function installCrds(kc: KubeConfig): Promise<V1CustomResourceDefinition[]> {
  const dir = join(ROOT, 'crds');
  // loadYaml builds the client's typed model: the client serializes from model attributes, so a
  // plain object would lose keys such as `default` and `x-kubernetes-validations` on the way out.
  const crds = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => loadYaml<V1CustomResourceDefinition>(readFileSync(join(dir, f), 'utf8')));
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    await objects.patch(crd, undefined, undefined, 'rdev-tests', true, PatchStrategy.ServerSideApply);
  }
  for (const crd of crds) {
    await eventually(async () => {
      const live = await ext.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
      return live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
  return crds;
}

/** The message of a failed API call (the Status the API server answered with). */
export function apiErrorMessage(err: unknown): string {
  if (typeof err !== 'object' || err === null || !('body' in err)) return String(err);
  const body = err.body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (body as { message?: string } | undefined)?.message ?? String(err);
}
