// The in-cluster child a Checkout should have, as a pure function of the Checkout and the
// credentials leased to it: the Secret holding the Project identity's username and token, controlled by the
// Checkout (the garbage collector removes it with the Checkout).
import type { V1Secret } from '@kubernetes/client-node';
import { API_VERSION, type LiveCheckout } from '../../api/v1alpha1/index.ts';
import { setControllerReference } from '../../runtime/apply.ts';
import type { KubeObject } from '../../runtime/client.ts';
import { secretNameOf } from './names.ts';

/** A Secret as client-node types it, with what the runtime's client needs (a named metadata). */
export type CredentialsSecret = V1Secret & KubeObject;

const base64 = (value: string) => Buffer.from(value).toString('base64');

export function desiredCredentialsSecret(
  co: LiveCheckout,
  credentials: Record<string, string>,
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
      data: Object.fromEntries(Object.entries(credentials).map(([k, v]) => [k, base64(v)])),
    },
  );
}
