// Example and invalid manifests, shared by the unit tests (zod) and the integration tests (the
// API server), so that both judge the same inputs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

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
