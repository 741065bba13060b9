// The in-cluster child a Checkout should have, as a pure function of the Checkout and the
// credentials leased to it: the Secret holding the bot's username and token, controlled by the
// Checkout (the garbage collector removes it with the Checkout).
import type { V1Secret } from '@kubernetes/client-node';
import { API_VERSION, type LiveCheckout } from '../../api/v1alpha1/index.ts';
import { setControllerReference } from '../../runtime/apply.ts';
import type { KubeObject } from '../../runtime/client.ts';
import { secretNameOf } from './names.ts';

/** A Secret as client-node types it, with what the runtime's client needs (a named metadata). */
export type CredentialsSecret = V1Secret & KubeObject;

/** The git identity a Checkout's credentials are: the bot's username and the leased token. */
export interface LeasedCredentials {
  username: string;
  token: string;
}

const base64 = (value: string) => Buffer.from(value).toString('base64');

export function desiredCredentialsSecret(
  co: LiveCheckout,
  credentials: LeasedCredentials,
): CredentialsSecret {
  // Objects listed from the API server carry no apiVersion and kind: the owner reference takes
  // them from the kind itself.
  return setControllerReference<CredentialsSecret>(
    { ...co, apiVersion: API_VERSION, kind: 'Checkout' },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: secretNameOf(co),
        namespace: co.metadata.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'rdev' },
      },
      type: 'Opaque',
      data: { username: base64(credentials.username), token: base64(credentials.token) },
    },
  );
}
