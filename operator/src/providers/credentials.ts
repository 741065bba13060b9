// Generated credentials live in a Secret owned by the Project, written *before* the external
// account is created with them: a crash in between leaves a password on record, never an
// account nobody can log into or clean up.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { LiveProject } from '../controllers/project/desired.ts';
import { FIELD_MANAGER } from '../controllers/project/names.ts';
import { applyObject, setControllerReference } from '../runtime/apply.ts';
import { isNotFound, type KubeClient, type KubeObject } from '../runtime/client.ts';
import { SECRETS } from '../runtime/resources.ts';

export const generatePassword = () => randomBytes(24).toString('base64url');

type SecretData = Record<string, string>;

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
