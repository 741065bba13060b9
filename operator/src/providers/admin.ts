// Admin credentials of external systems come from Secrets named in the operator configuration
// ("namespace/name"), read when needed and never logged.
import type { KubeClient, KubeObject } from '../runtime/client.ts';
import { isNotFound } from '../runtime/client.ts';
import { SECRETS } from '../runtime/resources.ts';
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
  try {
    const secret = await client.get<KubeObject & { data?: Record<string, string> }>(SECRETS, namespace, name);
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  } catch (err) {
    if (isNotFound(err)) throw new NotConfiguredError(`the ${what} Secret ${ref} (--${flag}) does not exist`);
    throw err;
  }
}
