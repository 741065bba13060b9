// Generated credentials live in a Secret owned by the Project, written *before* the external
// account is created with them: a crash in between leaves a password on record, never an
// account nobody can log into or clean up. The generic sub-reconciler (external.ts) keeps this
// rule: it is the only writer of these connection Secrets, and hands a password to a provider
// only once the Secret holds it.
import { randomBytes } from 'node:crypto';
import { FIELD_MANAGER } from '../api/constants.ts';
import type { LiveProject } from '../api/v1alpha1/index.ts';
import { applyObject, setControllerReference } from '../runtime/apply.ts';
import { isNotFound, type KubeClient } from '../runtime/client.ts';
import { SECRETS } from '../runtime/resources.ts';
import { readSecretData, type SecretData } from '../shared/secrets.ts';

export const generatePassword = () => randomBytes(24).toString('base64url');

/** The Project's connection Secrets, as the sub-reconciler reads, writes and deletes them. */
export interface ConnectionSecrets {
  /** The decoded data of the Project's Secret `name`, or undefined when it does not exist. */
  read(project: LiveProject, name: string): Promise<SecretData | undefined>;
  /** Writes the Project's Secret `name` with exactly `data`. */
  write(project: LiveProject, name: string, data: SecretData): Promise<void>;
  /** Deletes the Project's Secret `name`; gone already is fine. */
  delete(project: LiveProject, name: string): Promise<void>;
}

/** Connection Secrets in the Project's namespace: server-side applied, controlled by the Project. */
export function projectSecrets(client: KubeClient): ConnectionSecrets {
  return {
    read: (project, name) => readSecretData(client, project.metadata.namespace, name),

    async write(project, name, data) {
      const secret = setControllerReference(project, {
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
    },

    async delete(project, name) {
      await client.delete(SECRETS, project.metadata.namespace, name).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    },
  };
}
