// Shared helpers for integration tests: clients for the cluster under test, a throwaway
// namespace per test file, and polling for eventually-consistent outcomes.
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, inject } from 'vitest';

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfig'));
  return kc;
}

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/**
 * A namespace created before the file's tests, and deleted after them; the cleanup waits until
 * it is gone. A file that runs an operator must register the operator's stop *before* calling
 * this (hooks run last-registered first), so that the operator removes its finalizers.
 */
export function useNamespace(prefix = 'rdev-it'): { readonly name: string } {
  const ns = { name: uniqueName(prefix) };
  const core = kubeConfig().makeApiClient(CoreV1Api);
  beforeAll(async () => {
    await core.createNamespace({
      body: { metadata: { name: ns.name, labels: { 'rdev.dev/test': 'true' } } },
    });
    // Pods need the namespace's default ServiceAccount, made asynchronously by the controller manager.
    await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: ns.name }));
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: ns.name }).catch(() => undefined);
    await eventually(() => core.readNamespace({ name: ns.name }).then(() => false, isNotFound), {
      timeoutMs: 120_000,
    });
  });
  return ns;
}

/** Polls `check` until it returns without throwing and with a value other than false/undefined. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 60_000, intervalMs = 200 } = {},
): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value as Exclude<T, false | undefined>;
      last = new Error(`condition still ${String(value)}`);
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms: ${String(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** True when the API answered 404 for the object. */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 404;
}

/**
 * Makes `line` appear in the log stream of pods on the local plane's kwok node, which serves
 * every pod's log from one shared file. Returns false on other clusters, where the pod itself
 * must print it.
 */
export function writePodLogLine(line: string): boolean {
  const plane = inject('plane');
  if (plane.kind !== 'local') return false;
  // kwok parses the CRI log format: "<RFC 3339 time> <stream> <F(ull)|P(artial)> <text>".
  appendFileSync(
    join(plane.root, '.cluster', 'pod-logs', 'pods.log'),
    `${new Date().toISOString()} stdout F ${line}\n`,
  );
  return true;
}
