// The CRD files under crds/, rendered in memory: `make crds` writes them, a unit test compares.
import { stringify } from 'yaml';
import { crdFor } from './crd.ts';
import { GROUP, KINDS } from './v1alpha1/index.ts';

const HEADER = '# Generated from operator/src/api/v1alpha1 by `make crds`. Do not edit.\n';

/** File name (relative to crds/) → contents, for every kind. */
export function renderCrdFiles(): Map<string, string> {
  return new Map(
    KINDS.map((def) => [`${def.plural}.${GROUP}.yaml`, HEADER + stringify(crdFor(def), { lineWidth: 0 })]),
  );
}
