// The Secrets a Project's spec names, with the field naming each: what the shim checks a key may
// hand to the Project's Pods (workspace, runners, dedicated Sessions), which mount them as env.

/** The label that ties a Secret to the Project whose Pods may use it. */
export const SECRET_PROJECT_LABEL = 'rdev.dev/project';

/** A Secret named by a spec, and where: `spec.workspace.env[2].valueFrom.secretKeyRef`. */
export interface SecretReference {
  field: string;
  name: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const at = (node: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>(
    (n, key) =>
      typeof key === 'number' ? (Array.isArray(n) ? n[key] : undefined) : isRecord(n) ? n[key] : undefined,
    node,
  );

const nameAt = (node: unknown, ...path: (string | number)[]): string | undefined => {
  const name = at(node, ...path, 'name');
  return typeof name === 'string' && name !== '' ? name : undefined;
};

/**
 * Every Secret a Project spec (as sent or merged, not yet parsed) names: the agent's
 * credentialsSecretRef and each workspace env entry's valueFrom.secretKeyRef. ConfigMaps are not
 * Secrets and are left alone. `envFrom` entries, which the schema does not have, are read too, so
 * a schema that gains them stays covered.
 */
export function projectSecretReferences(spec: unknown): SecretReference[] {
  const found: SecretReference[] = [];
  const credentials = nameAt(spec, 'agent', 'credentialsSecretRef');
  if (credentials) found.push({ field: 'spec.agent.credentialsSecretRef', name: credentials });
  const env = at(spec, 'workspace', 'env');
  if (Array.isArray(env)) {
    env.forEach((entry, i) => {
      const name = nameAt(entry, 'valueFrom', 'secretKeyRef');
      if (name) found.push({ field: `spec.workspace.env[${i}].valueFrom.secretKeyRef`, name });
    });
  }
  const envFrom = at(spec, 'workspace', 'envFrom');
  if (Array.isArray(envFrom)) {
    envFrom.forEach((entry, i) => {
      const name = nameAt(entry, 'secretRef');
      if (name) found.push({ field: `spec.workspace.envFrom[${i}].secretRef`, name });
    });
  }
  return found;
}
