// Example and invalid manifests, shared by the unit tests (zod) and the integration tests (the
// API server), so that both judge the same inputs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { API_VERSION } from '../../operator/src/api/v1alpha1/index.ts';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Manifest {
  apiVersion: string;
  kind: 'Project' | 'Session' | 'Checkout' | 'WorkItem';
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}

export interface InvalidCase {
  name: string;
  /** The field the error must name, as the API server writes it (spec.a.b[0]). */
  field: string;
  admissionOnly?: boolean;
  before?: Manifest;
  manifest: Manifest;
}

/** The Secret a test's Projects take their agent credentials from, and a Project spec naming it. */
export const AGENT_SECRET = 'anthropic';
export const PROJECT_SPEC = { agent: { credentialsSecretRef: { name: AGENT_SECRET } } };

/** A manifest of an rdev kind in `namespace`. */
export function rdevManifest(
  kind: string,
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
) {
  return { apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec };
}

export function examples(): { file: string; manifest: Manifest }[] {
  const dir = join(ROOT, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => ({
        file,
        manifest: doc.toJSON() as Manifest,
      })),
    );
}

export function invalidCases(): InvalidCase[] {
  return parse(
    readFileSync(join(ROOT, 'test', 'fixtures', 'invalid-manifests.yaml'), 'utf8'),
  ) as InvalidCase[];
}

/** A zod issue path written the way the API server names fields: spec.a.b[0]. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}
