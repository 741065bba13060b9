import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { ROOT } from '../../support/manifests.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'rdev-kubectl-cache-'));

/** Runs kubectl (the local plane's, else the one on PATH) against the cluster under test. */
export function kubectl(...args: string[]): { stdout: string; stderr: string; status: number | null } {
  const local = join(ROOT, '.cluster', 'bin', 'kubectl');
  const bin = existsSync(local) ? local : 'kubectl';
  // A discovery cache of this run's own: one kept from an earlier plane on the same port would
  // not know kinds installed since.
  const run = spawnSync(bin, ['--kubeconfig', inject('kubeconfig'), `--cache-dir=${cacheDir}`, ...args], {
    encoding: 'utf8',
  });
  return { stdout: run.stdout, stderr: run.stderr, status: run.status };
}
