// Brings up what the integration tier runs against (the local control plane, PostgreSQL, Redis
// and Gitea) unless it is already up, hands its coordinates to the tests, and afterwards stops only
// what it started. RDEV_TEST_KUBECONFIG points the tier at another cluster instead of the plane.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

const root = join(import.meta.dirname, '..', '..');
const hack = (script: string, ...args: string[]) =>
  spawnSync(join(root, 'hack', script), args, { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;

const status = (script: string) => spawnSync(join(root, 'hack', script), ['status'], { encoding: 'utf8' });

function bringUp(script: string, teardown: (() => void)[]): void {
  if (status(script).status === 0) return;
  if (!hack(script, 'up')) throw new Error(`hack/${script} up failed; see the messages above`);
  teardown.push(() => hack(script, 'down'));
}

// `services.sh up` keeps a running PostgreSQL and Redis and only adds what is missing (Gitea, say):
// then only that is stopped afterwards, and the servers found running stay up for whoever uses them.
function bringUpServices(teardown: (() => void)[]): void {
  const before = status('services.sh');
  if (before.status === 0) return;
  const running = new Set(
    before.stdout
      .split('\n')
      .filter((line) => line.endsWith(')') && line.includes(': running'))
      .map((line) => line.slice(0, line.indexOf(':'))),
  );
  if (!hack('services.sh', 'up')) throw new Error('hack/services.sh up failed; see the messages above');
  if (!running.has('postgres') || !running.has('redis')) {
    teardown.push(() => hack('services.sh', 'down'));
    return;
  }
  for (const component of ['postgres', 'redis', 'gitea'].filter((c) => !running.has(c))) {
    teardown.push(() => hack('services.sh', 'stop-component', component));
  }
}

function readEnvFile(path: string): Record<string, string> {
  const entries = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
  return Object.fromEntries(entries);
}

export default function setup(project: TestProject) {
  const teardown: (() => void)[] = [];
  const external = process.env.RDEV_TEST_KUBECONFIG;
  if (!external) bringUp('cluster.sh', teardown);
  bringUpServices(teardown);

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

  // hack/services.sh keeps its state in RDEV_SERVICES_DIR when set (a second, separate set of servers).
  const servicesDir = process.env.RDEV_SERVICES_DIR ?? join(root, '.cluster', 'services');
  const services = readEnvFile(join(servicesDir, 'services.env'));
  project.provide('kubeconfig', external ?? join(root, '.cluster', 'kubeconfig'));
  project.provide('plane', external ? { kind: 'external' } : { kind: 'local', root });
  project.provide('services', {
    databaseAdminUrl: services.DATABASE_ADMIN_URL ?? '',
    redisAdminUrl: services.REDIS_ADMIN_URL ?? '',
    gitea: {
      url: services.GITEA_URL ?? '',
      adminUser: services.GITEA_ADMIN_USER ?? '',
      adminPassword: services.GITEA_ADMIN_PASSWORD ?? '',
      adminToken: services.GITEA_ADMIN_TOKEN ?? '',
    },
  });

  return () => {
    for (const stop of teardown.reverse()) stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    /** `local`: the plane from hack/cluster.sh (kwok node, exec runs locally, logs from a file). */
    plane: { kind: 'local'; root: string } | { kind: 'external' };
    services: {
      databaseAdminUrl: string;
      redisAdminUrl: string;
      /** Gitea from hack/services.sh: its base URL (no trailing slash) and an admin with an all-scopes token. */
      gitea: { url: string; adminUser: string; adminPassword: string; adminToken: string };
    };
  }
}
