// The generated documents under docs/: `make docs` writes them, a unit test compares.
import { apiReference } from './api-reference.ts';
import { configurationReference } from './config-reference.ts';
import { crdReference } from './crd-reference.ts';

/** File name (relative to docs/) → contents. */
export function renderDocs(): Map<string, string> {
  return new Map([
    ['configuration.md', configurationReference()],
    ['crds.md', crdReference()],
    ['api.md', apiReference()],
  ]);
}
