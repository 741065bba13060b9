// Installs (server-side applies) the CRDs rendered from the schemas and waits until the API
// server serves them. Used by tests, benchmarks and `make dev`-like setups.
import { parse } from 'yaml';
import { z } from 'zod';
import { applyObject } from '../runtime/apply.ts';
import type { KubeClient, KubeObject, Resource } from '../runtime/client.ts';
import { renderCrdFiles } from './crd-files.ts';

export const CRDS: Resource = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

type Crd = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

/** What installing reads of a rendered CRD: its name (the rest is applied as it is). */
const rendered = z.object({ metadata: z.object({ name: z.string() }).loose() }).loose();

export async function installCrds(client: KubeClient, options: { timeoutMs?: number } = {}): Promise<void> {
  const crds = [...renderCrdFiles().values()].map((text) => rendered.parse(parse(text)));
  await applyCrds(client, crds, { fieldManager: 'rdev-installer', ...options });
}

/** Server-side applies `crds` and waits until the API server serves each (Established). */
export async function applyCrds(
  client: KubeClient,
  crds: readonly (KubeObject & { metadata: { name: string } })[],
  options: { fieldManager: string; timeoutMs?: number },
): Promise<void> {
  for (const crd of crds) await applyObject(client, CRDS, crd, { fieldManager: options.fieldManager });
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (const crd of crds) {
    for (;;) {
      const live = await client.get<Crd>(CRDS, undefined, crd.metadata.name);
      if (live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established in time`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
