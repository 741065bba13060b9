// Installs the generated CRDs into the cluster under test.
import type { KubeConfig } from '@kubernetes/client-node';
import { installCrds as install } from '../../../operator/src/api/install-crds.ts';
import { KubeClient } from '../../../operator/src/runtime/client.ts';

export const installCrds = (kc: KubeConfig) => install(new KubeClient(kc));

/** The message of a failed API call (the Status the API server answered with). */
export function apiErrorMessage(err: unknown): string {
  if (typeof err !== 'object' || err === null || !('body' in err)) return String(err);
  const body = err.body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (body as { message?: string } | undefined)?.message ?? String(err);
}
