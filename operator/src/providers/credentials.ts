// Generated credentials live in a Secret owned by the Project, written *before* the external
// account is created with them: a crash in between leaves a password on record, never an
// account nobody can log into or clean up.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { FIELD_MANAGER } from '../api/constants.ts';
import type { LiveProject } from '../api/v1alpha1/index.ts';
import { applyObject, setControllerReference } from '../runtime/apply.ts';
import { isNotFound, type KubeClient, type KubeObject } from '../runtime/client.ts';
import { SECRETS } from '../runtime/resources.ts';
import { readSecretData, type SecretData } from '../shared/secrets.ts';

export const generatePassword = () => randomBytes(24).toString('base64url');

/** The decoded data of the Project's Secret `name`, or undefined when it does not exist. */
export const readOwnedSecret = (client: KubeClient, project: LiveProject, name: string) =>
  readSecretData(client, project.metadata.namespace, name);

/** Writes the Project's credentials Secret `name` with exactly `data` (server-side apply). */
export async function writeOwnedSecret(
  client: KubeClient,
  project: LiveProject,
  name: string,
  data: SecretData,
): Promise<void> {
  const secret = setControllerReference(project as LiveProject & { apiVersion: string; kind: string }, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: project.metadata.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'rdev', 'rdev.dev/project': project.metadata.name },
    },
    type: 'Opaque',
    stringData: data,
  });
  await applyObject(client, SECRETS, secret, { fieldManager: FIELD_MANAGER });
}

/**
 * The password on record in Secret `name` under `key` (a new one if there is none), with the
 * Secret rewritten first whenever what `render` derives from it differs from what it holds.
 */
export async function ensureCredentials(
  client: KubeClient,
  project: LiveProject,
  name: string,
  key: string,
  render: (password: string) => SecretData,
  rotate = false,
): Promise<{ password: string; isNew: boolean }> {
  const existing = await readOwnedSecret(client, project, name);
  const password = (!rotate && existing?.[key]) || generatePassword();
  const data = render(password);
  if (!existing || !isDeepStrictEqual(existing, data)) await writeOwnedSecret(client, project, name, data);
  return { password, isNew: !existing?.[key] };
}
