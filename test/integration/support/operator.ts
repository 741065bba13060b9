// Runs the rdev operator for a test: in this process (scoped to the test's namespace), or as
// a child process that a chaos test can SIGKILL.

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { loadConfig } from '../../../operator/src/config.ts';
import { registerControllers } from '../../../operator/src/controllers/register.ts';
import { closeCacheClients } from '../../../operator/src/providers/cache/provider.ts';
import { closeDatabasePools } from '../../../operator/src/providers/database/provider.ts';
import { createLogger } from '../../../operator/src/runtime/logging.ts';
import { Manager } from '../../../operator/src/runtime/manager.ts';
import type { FakeCloudflare } from '../../fakes/cloudflare.ts';
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
  registerControllers(manager, config);
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

/**
 * The operator's flags for DNS records in a fake Cloudflare's example.dev zone, pointing at
 * ingress.example.dev, with its token in the namespace's Secret `cloudflare`.
 */
export function cloudflareArgs(namespace: string, cloudflare: FakeCloudflare): string[] {
  return [
    '--dns-mode=cloudflare',
    '--domain=example.dev',
    `--cloudflare-secret=${namespace}/cloudflare`,
    `--cloudflare-zone-id=${cloudflare.zone().id}`,
    `--cloudflare-api-url=${cloudflare.url}`,
    '--dns-target=CNAME:ingress.example.dev',
  ];
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

/**
 * `rdev operator` as a child process that a chaos test SIGKILLs and starts again, for a namespace
 * made after this call: the cleanup registered here runs after the namespace's (hooks run
 * last-registered first), so that the last operator outlives the namespace and finalizes what
 * is in it.
 */
export function useOperatorProcess(
  namespace: () => string,
  args: (namespace: string) => string[] = () => [],
) {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });
  return {
    /** SIGKILLs the running operator, if any, and starts another. */
    restart() {
      child?.kill('SIGKILL');
      child = spawnOperator(namespace(), args(namespace()));
    },
    kill() {
      child?.kill('SIGKILL');
    },
  };
}
