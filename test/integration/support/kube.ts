// Shared helpers for integration tests: clients for the cluster under test, a throwaway
// namespace per test file, Secrets, and polling for eventually-consistent outcomes.
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1ConfigMap, type V1OwnerReference } from '@kubernetes/client-node';
import { afterAll, beforeAll, inject } from 'vitest';
import { AGENT_SECRET } from '../../support/manifests.ts';

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

/** Whether the object `read` reads is gone (404); any other failure is thrown. */
export function isGone(read: () => Promise<unknown>): Promise<boolean> {
  return read().then(
    () => false,
    (err: unknown) => {
      if (isNotFound(err)) return true;
      throw err;
    },
  );
}

/** Waits until the object `read` reads is gone (404). */
export async function untilGone(read: () => Promise<unknown>, { timeoutMs = 60_000 } = {}): Promise<void> {
  await eventually(() => isGone(read), { timeoutMs });
}

/** A controlling owner reference to a ConfigMap, for the garbage collector and the controllers' owns(). */
export function configMapOwnerRef(owner: V1ConfigMap): V1OwnerReference {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
  };
}

/** Creates a Secret of string values. */
export function createSecret(
  namespace: string,
  name: string,
  stringData: Record<string, string>,
  labels?: Record<string, string>,
) {
  return kubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedSecret({ namespace, body: { metadata: { name, labels }, stringData } });
}

/** A Secret's data, decoded. */
export async function readSecret(namespace: string, name: string): Promise<Record<string, string>> {
  const secret = await kubeConfig().makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name });
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );
}

/**
 * The agent credentials Secret that PROJECT_SPEC names; labelled for `project` when a Project
 * created through the shim names it.
 */
export const createAgentSecret = (namespace: string, project?: string) =>
  createSecret(
    namespace,
    AGENT_SECRET,
    { ANTHROPIC_API_KEY: 'sk-test-not-real' },
    project ? { 'rdev.dev/project': project } : undefined,
  );

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
