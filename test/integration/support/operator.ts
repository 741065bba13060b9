// Runs the rdev operator for a test: in this process (scoped to the test's namespace), or as
// a child process that a chaos test can SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { loadConfig } from '../../../operator/src/config.ts';
import { registerCheckoutController } from '../../../operator/src/controllers/checkout/index.ts';
import { registerProjectController } from '../../../operator/src/controllers/project/index.ts';
import { registerSessionController } from '../../../operator/src/controllers/session/index.ts';
import { registerWorkControllers } from '../../../operator/src/controllers/workitem/index.ts';
import { closeCacheClients } from '../../../operator/src/providers/cache/provider.ts';
import { closeDatabasePools } from '../../../operator/src/providers/database/provider.ts';
import { createLogger } from '../../../operator/src/runtime/logging.ts';
import { Manager } from '../../../operator/src/runtime/manager.ts';
import { registerWebhookDelivery } from '../../../operator/src/webhooks/index.ts';
import { ROOT } from '../../support/manifests.ts';
import { installCrds } from './crds.ts';
import { kubeConfig, useNamespace } from './kube.ts';

export async function startOperator(namespace: string, args: string[] = []): Promise<Manager> {
  const config = loadConfig([`--namespace=${namespace}`, ...args], {});
  const manager = new Manager({
    kubeConfig: kubeConfig(),
    name: 'rdev-operator',
    namespaces: [namespace],
    log: createLogger({ level: process.env.RDEV_TEST_LOG_LEVEL ?? 'silent', name: 'rdev-operator' }),
  });
  registerProjectController(manager, config);
  registerWorkControllers(manager, config);
  registerCheckoutController(manager, config);
  registerSessionController(manager, config);
  registerWebhookDelivery(manager, config);
  await manager.start();
  return manager;
}

/**
 * A namespace for the file's tests with an in-process operator watching it (CRDs installed
 * first). The operator is stopped only after the namespace is gone, so that it can remove its
 * finalizers; hooks run last-registered first, hence the order below.
 */
export function useOperatorNamespace(prefix: string, args: (namespace: string) => string[] = () => []) {
  const state: { operator?: Manager } = {};
  afterAll(async () => {
    await state.operator?.stop();
    await closeDatabasePools();
    await closeCacheClients();
  });
  const ns = useNamespace(prefix);
  beforeAll(async () => {
    await installCrds(kubeConfig());
    state.operator = await startOperator(ns.name, args(ns.name));
  });
  return {
    get name() {
      return ns.name;
    },
    /** The running operator (after the file's first beforeAll). */
    get operator(): Manager {
      if (!state.operator) throw new Error('the operator is not running');
      return state.operator;
    },
    /** Stops the in-process operator early (a test that runs its own, as a child process). */
    async stopOperator() {
      await state.operator?.stop();
      state.operator = undefined;
    },
  };
}

/** `rdev operator` as a child process, watching one namespace, with its output discarded. */
export function spawnOperator(namespace: string, args: string[] = []): ChildProcess {
  return spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'rdev.js'),
      'operator',
      `--namespace=${namespace}`,
      '--health-addr=',
      '--metrics-addr=',
      '--log-level=warn',
      ...args,
    ],
    { env: { ...process.env, KUBECONFIG: inject('kubeconfig') }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** Total of a counter in a manager's registry, over the label sets `match` accepts. */
export async function counterTotal(
  manager: Manager,
  name: string,
  match: (labels: Partial<Record<string, string | number>>) => boolean = () => true,
): Promise<number> {
  const metric = await manager.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).filter((v) => match(v.labels)).reduce((sum, v) => sum + v.value, 0);
}

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);
