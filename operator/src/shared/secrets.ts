// Reading a Secret's data, decoded: the one way the operator, the worker and the shim do it.
import { isNotFound, type KubeClient, type KubeObject } from '../runtime/client.ts';
import { SECRETS } from '../runtime/resources.ts';

export type SecretData = Record<string, string>;

/** The decoded data of Secret namespace/name, or undefined when it does not exist. */
export async function readSecretData(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<SecretData | undefined> {
  try {
    const secret = await client.get<KubeObject & { data?: Record<string, string> }>(SECRETS, namespace, name);
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
