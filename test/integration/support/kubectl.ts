import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { ROOT } from '../../support/manifests.ts';

/** Runs kubectl (the local plane's, else the one on PATH) against the cluster under test. */
export function kubectl(...args: string[]): { stdout: string; stderr: string; status: number | null } {
  const local = join(ROOT, '.cluster', 'bin', 'kubectl');
  const bin = existsSync(local) ? local : 'kubectl';
  const run = spawnSync(bin, ['--kubeconfig', inject('kubeconfig'), ...args], { encoding: 'utf8' });
  return { stdout: run.stdout, stderr: run.stderr, status: run.status };
}
