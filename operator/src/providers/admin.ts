// Admin credentials of external systems come from Secrets named in the operator configuration
// ("namespace/name"), read when needed and never logged.
import type { KubeClient } from '../runtime/client.ts';
import { readSecretData } from './credentials.ts';
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
