import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHIM_OPTIONS } from '../../api-shim/src/config.ts';
import { renderDocs } from '../../hack/docs/render.ts';
import { OPTIONS } from '../../operator/src/config.ts';
import { WORKER_OPTIONS } from '../../operator/src/worker/config.ts';

const docs = renderDocs();

describe('the generated references in docs/', () => {
  it('match the code (run `make docs` after changing options, schemas or routes)', () => {
    for (const [name, text] of docs) {
      expect(readFileSync(join(import.meta.dirname, '..', '..', 'docs', name), 'utf8'), name).toBe(text);
    }
  });

  it('cover every option of every command, every kind and every shim route', () => {
    const config = docs.get('configuration.md') ?? '';
    for (const o of [...OPTIONS, ...WORKER_OPTIONS, ...SHIM_OPTIONS]) {
      expect(config).toContain(`| \`--${o.flag}\` | \`${o.env}\` | \`${o.path.join('.')}\` |`);
    }
    // Defaults that depend on the machine show what they stand for.
    expect(config).toContain('| `--name` | `POD_NAME` | `name` | (host name) |');
    const crds = docs.get('crds.md') ?? '';
    for (const kind of ['Project', 'Session', 'Checkout', 'WorkItem', 'Feature'])
      expect(crds).toContain(`## ${kind}`);
    expect(crds).toContain('`spec.projectRef.name`');
    const api = docs.get('api.md') ?? '';
    for (const route of [
      'POST /projects/{project}/work',
      'POST /sessions/{id}/exec',
      'POST /features/{id}/approve',
      'GET /events',
      'POST /webhooks',
    ]) {
      expect(api).toContain(route);
    }
  });
});
