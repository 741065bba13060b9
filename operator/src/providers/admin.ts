// Admin credentials of external systems come from Secrets named in the operator configuration
// ("namespace/name"), read when needed and never logged.
import type { KubeClient } from '../runtime/client.ts';
import { readSecretData } from '../shared/secrets.ts';
import { NotConfiguredError } from './ports.ts';

/** The decoded data of the Secret `ref` ("namespace/name"); NotConfiguredError if absent. */
export async function readAdminSecret(
  client: KubeClient,
  ref: string | undefined,
  what: string,
  flag: string,
): Promise<Record<string, string>> {
  if (!ref) throw new NotConfiguredError(`no ${what} is configured (operator option --${flag})`);
  const [namespace, name] = ref.includes('/') ? ref.split('/', 2) : [undefined, ref];
  if (!namespace || !name) throw new NotConfiguredError(`--${flag} must be namespace/name, got "${ref}"`);
  const data = await readSecretData(client, namespace, name);
  if (!data) throw new NotConfiguredError(`the ${what} Secret ${ref} (--${flag}) does not exist`);
  return data;
}

/** Key `key` of an admin Secret's data; NotConfiguredError names the Secret and the key. */
export function requireKey(
  data: Record<string, string>,
  key: string,
  what: string,
  ref: string | undefined,
  flag: string,
): string {
  const value = data[key];
  if (!value) throw new NotConfiguredError(`the ${what} Secret ${ref} (--${flag}) has no key ${key}`);
  return value;
}

/** One key of the admin Secret `ref`. */
export async function readAdminSecretKey(
  client: KubeClient,
  ref: string | undefined,
  what: string,
  flag: string,
  key: string,
): Promise<string> {
  return requireKey(await readAdminSecret(client, ref, what, flag), key, what, ref, flag);
}

/**
 * A server's admin URL (key `<prefix>_ADMIN_URL` of the admin Secret `ref`), and the host and port
 * workspaces reach it at: keys `<prefix>_HOST` and `<prefix>_PORT`, else the URL's.
 */
export async function readAdminEndpoint(
  client: KubeClient,
  ref: string | undefined,
  what: string,
  flag: string,
  prefix: 'DATABASE' | 'REDIS',
  defaultPort: string,
): Promise<{ url: string; host: string; port: string }> {
  const secret = await readAdminSecret(client, ref, what, flag);
  const url = secret[`${prefix}_ADMIN_URL`];
  if (!url) throw new Error(`the Secret ${ref} has no ${prefix}_ADMIN_URL key`);
  // Node's own error would carry the whole URL, password included.
  const parsed = URL.parse(url);
  if (!parsed) throw new Error(`the Secret ${ref} holds a ${prefix}_ADMIN_URL that is not a valid URL`);
  return {
    url,
    host: secret[`${prefix}_HOST`] || parsed.hostname,
    port: secret[`${prefix}_PORT`] || parsed.port || defaultPort,
  };
}
