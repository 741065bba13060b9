// The layer rules of .dependency-cruiser.cjs fire: each planted import below sits in a throwaway
// tree shaped like the real one and must be refused by the rule named, and a clean tree passes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.cjs');

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** Writes `files` (path → source) into a fresh tree and runs the layer check on it. */
function check(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rdev-layers-'));
  dirs.push(dir);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  const run = spawnSync(depcruise, ['operator/src', 'api-shim/src', '--config', config], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: run.status, output: run.stdout + run.stderr };
}

const base = {
  'operator/src/runtime/client.ts': 'export const client = 1;\n',
  'operator/src/api/kinds.ts':
    "import { client } from '../runtime/client.ts';\nexport const kinds = client;\n",
  'operator/src/shared/pool.ts': "import { kinds } from '../api/kinds.ts';\nexport const pool = kinds;\n",
  'operator/src/controllers/project/reconcile.ts':
    "import { pool } from '../../shared/pool.ts';\nexport const reconcile = pool;\n",
  'api-shim/src/routes.ts':
    "import { pool } from '../../operator/src/shared/pool.ts';\nexport const routes = pool;\n",
  'operator/src/cli/main.ts':
    "import { reconcile } from '../controllers/project/reconcile.ts';\nimport { routes } from '../../../api-shim/src/routes.ts';\nexport const main = [reconcile, routes];\n",
};

describe('layer rules', () => {
  it('pass a tree that keeps to its layers', () => {
    const { status, output } = check(base);
    expect(output).toContain('no dependency violations found');
    expect(status).toBe(0);
  });

  it.each([
    [
      'runtime-is-the-floor',
      'operator/src/runtime/conditions.ts',
      "import { kinds } from '../api/kinds.ts';\nexport const c = kinds;\n",
    ],
    [
      'domain-below-controllers',
      'operator/src/providers/git.ts',
      "import { reconcile } from '../controllers/project/reconcile.ts';\nexport const git = reconcile;\n",
    ],
    [
      'shim-uses-the-surface',
      'api-shim/src/queue.ts',
      "import { reconcile } from '../../operator/src/controllers/project/reconcile.ts';\nexport const q = reconcile;\n",
    ],
    [
      'cli-is-the-root',
      'operator/src/worker/worker.ts',
      "import { main } from '../cli/main.ts';\nexport const w = main;\n",
    ],
  ])('refuse a planted import that breaks %s', (rule, path, source) => {
    const { status, output } = check({ ...base, [path]: source });
    expect(output).toContain(`error ${rule}: ${path}`);
    expect(status).not.toBe(0);
  });

  it('refuse a cycle', () => {
    const { status, output } = check({
      ...base,
      'operator/src/queue/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'operator/src/queue/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
    });
    expect(output).toContain('error no-circular');
    expect(status).not.toBe(0);
  });
});
