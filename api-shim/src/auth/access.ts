// Where a key reaches: its namespaces and projects (empty lists: everywhere), and which
// namespace a request means when it names none.
import { forbidden } from '../http/errors.ts';
import { type ApiKey, cidrWithin } from '../keys/api-key.ts';
import { hasScope, type Scope } from './scopes.ts';

export const canReachNamespace = (key: ApiKey, namespace: string) =>
  key.namespaces.length === 0 || key.namespaces.includes(namespace);

export const canReachProject = (key: ApiKey, namespace: string, project: string | undefined) =>
  canReachNamespace(key, namespace) &&
  (key.projects.length === 0 || (project !== undefined && key.projects.includes(project)));

export function requireScope(key: ApiKey, scope: Scope): void {
  if (!hasScope(key.scopes, scope)) throw forbidden(`the API key ${key.id} lacks the scope ${scope}`);
}

export function requireProject(key: ApiKey, namespace: string, project: string): void {
  if (!canReachNamespace(key, namespace)) {
    throw forbidden(`the API key ${key.id} may not reach the namespace ${namespace}`);
  }
  if (!canReachProject(key, namespace, project)) {
    throw forbidden(`the API key ${key.id} may not reach the project ${project}`);
  }
}

/** Namespaces nothing is ever written to through the shim, whatever it serves. */
export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

/**
 * Where the shim may write Projects, Sessions, Checkouts, WorkItems and Features: a namespace it
 * serves (--watch-namespace, when set), never a system namespace, and never its own or the
 * workers' namespace (they hold the API-key, webhook and bootstrap Secrets and the workers'
 * Leases) unless --watch-namespace names that namespace itself.
 */
export function requireWritableNamespace(
  config: { namespace: string; namespaces: readonly string[]; workerNamespace: string },
  namespace: string,
): void {
  if (SYSTEM_NAMESPACES.includes(namespace)) {
    throw forbidden(`the namespace ${namespace} is a system namespace: nothing is written there`);
  }
  if (config.namespaces.length && !config.namespaces.includes(namespace)) {
    throw forbidden(
      `the namespace ${namespace} is not served here (served: ${config.namespaces.join(', ')})`,
    );
  }
  const own =
    namespace === config.namespace
      ? 'the shim’s own'
      : namespace === config.workerNamespace
        ? 'the workers’'
        : '';
  if (own && !config.namespaces.includes(namespace)) {
    throw forbidden(`the namespace ${namespace} is ${own} namespace: nothing is written there`);
  }
}

/** ?namespace= if given; else the key's only namespace; else the shim's default. */
export function requestNamespace(key: ApiKey, asked: string | undefined, fallback: string): string {
  if (asked) return asked;
  const [only, ...others] = key.namespaces;
  if (only !== undefined && others.length === 0) return only;
  return fallback;
}

/** Whether `other` reaches no namespace or project beyond those `key` reaches. */
export const within = (
  key: Pick<ApiKey, 'namespaces' | 'projects'>,
  other: { namespaces: readonly string[]; projects: readonly string[] },
): boolean =>
  (key.namespaces.length === 0 ||
    (other.namespaces.length > 0 && other.namespaces.every((n) => key.namespaces.includes(n)))) &&
  (key.projects.length === 0 ||
    (other.projects.length > 0 && other.projects.every((p) => key.projects.includes(p))));

/**
 * A key may hand on only what it holds itself: scopes and reach no wider than its own, client
 * addresses within its own and an expiry no later than its own.
 */
export function requireNoWider(
  key: ApiKey,
  wanted: {
    scopes?: readonly Scope[];
    namespaces: readonly string[];
    projects: readonly string[];
    cidrs?: readonly string[];
    expiresAt?: string | undefined;
  },
): void {
  const missing = (wanted.scopes ?? []).filter((s) => !hasScope(key.scopes, s));
  if (missing.length)
    throw forbidden(`the API key ${key.id} cannot grant scopes it lacks: ${missing.join(', ')}`);
  if (
    key.namespaces.length &&
    (wanted.namespaces.length === 0 || wanted.namespaces.some((n) => !key.namespaces.includes(n)))
  ) {
    throw forbidden(`the API key ${key.id} is limited to the namespaces ${key.namespaces.join(', ')}`);
  }
  if (
    key.projects.length &&
    (wanted.projects.length === 0 || wanted.projects.some((p) => !key.projects.includes(p)))
  ) {
    throw forbidden(`the API key ${key.id} is limited to the projects ${key.projects.join(', ')}`);
  }
  const cidrs = wanted.cidrs ?? [];
  if (key.cidrs.length && (cidrs.length === 0 || cidrs.some((c) => !cidrWithin(key.cidrs, c)))) {
    throw forbidden(`the API key ${key.id} is limited to the client addresses ${key.cidrs.join(', ')}`);
  }
  if (
    key.expiresAt &&
    (wanted.expiresAt === undefined || !(Date.parse(wanted.expiresAt) <= Date.parse(key.expiresAt)))
  ) {
    throw forbidden(`the API key ${key.id} expires at ${key.expiresAt}: a key it makes must expire no later`);
  }
}
