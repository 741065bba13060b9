import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDocs } from '../../hack/docs/render.ts';
import { OPTIONS } from '../../operator/src/config.ts';

const docs = renderDocs();

describe('the generated references in docs/', () => {
  it('match the code (run `make docs` after changing options, schemas or routes)', () => {
    for (const [name, text] of docs) {
      expect(readFileSync(join(import.meta.dirname, '..', '..', 'docs', name), 'utf8'), name).toBe(text);
    }
  });

  it('cover every operator option, every kind and every shim route', () => {
    const config = docs.get('configuration.md') ?? '';
    for (const o of OPTIONS) expect(config).toContain(`\`--${o.flag}\``);
    const crds = docs.get('crds.md') ?? '';
    for (const kind of ['Project', 'Session', 'Checkout', 'WorkItem']) expect(crds).toContain(`## ${kind}`);
    expect(crds).toContain('`spec.projectRef.name`');
    const api = docs.get('api.md') ?? '';
    for (const route of [
      'POST /projects/{project}/work',
      'POST /sessions/{id}/exec',
      'GET /events',
      'POST /webhooks',
    ]) {
      expect(api).toContain(route);
    }
  });
});
