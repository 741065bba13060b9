// Brings up what the integration tier runs against (the local control plane, PostgreSQL and
// Redis) unless it is already up, hands its coordinates to the tests, and afterwards stops only
// what it started. RDEV_TEST_KUBECONFIG points the tier at another cluster instead of the plane.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

const root = join(import.meta.dirname, '..', '..');
const hack = (script: string, ...args: string[]) =>
  spawnSync(join(root, 'hack', script), args, { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;

function bringUp(script: string, started: string[]): void {
  if (spawnSync(join(root, 'hack', script), ['status'], { stdio: 'ignore' }).status === 0) return;
  if (!hack(script, 'up')) throw new Error(`hack/${script} up failed; see the messages above`);
  started.push(script);
}

function readEnvFile(path: string): Record<string, string> {
  const entries = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
  return Object.fromEntries(entries);
}

export default function setup(project: TestProject) {
  const started: string[] = [];
  const external = process.env.RDEV_TEST_KUBECONFIG;
  if (!external) bringUp('cluster.sh', started);
  bringUp('services.sh', started);

  const devOperator = join(root, '.cluster', 'pids', 'operator.pid');
  if (
    !external &&
    existsSync(devOperator) &&
    spawnSync('kill', ['-0', readFileSync(devOperator, 'utf8').trim()]).status === 0
  ) {
    console.warn(
      'warning: the operator of `make dev` is running and will reconcile test objects too; `make dev-down` first',
    );
  }

  const services = readEnvFile(join(root, '.cluster', 'services', 'services.env'));
  project.provide('kubeconfig', external ?? join(root, '.cluster', 'kubeconfig'));
  project.provide('plane', external ? { kind: 'external' } : { kind: 'local', root });
  project.provide('services', {
    databaseAdminUrl: services.DATABASE_ADMIN_URL ?? '',
    redisAdminUrl: services.REDIS_ADMIN_URL ?? '',
  });

  return () => {
    for (const script of started.reverse()) hack(script, 'down');
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    /** `local`: the plane from hack/cluster.sh (kwok node, exec runs locally, logs from a file). */
    plane: { kind: 'local'; root: string } | { kind: 'external' };
    services: { databaseAdminUrl: string; redisAdminUrl: string };
  }
}
