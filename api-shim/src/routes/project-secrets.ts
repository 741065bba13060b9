// What a key may hand to a Project's Pods: Secrets of that Project only, allowed images, and
// CPU and memory within the caps.
// kubectl users keep Kubernetes RBAC as their boundary; through the shim, a key could otherwise
// name any Secret of the namespace (another Project's database credentials, a provider token)
// and read it from the workspace.
import { isNotFound } from '../../../operator/src/runtime/client.ts';
import { SECRETS } from '../../../operator/src/runtime/resources.ts';
import { imageAllowed } from '../../../operator/src/shared/image-allow.ts';
import {
  projectSecretReferences,
  SECRET_PROJECT_LABEL,
} from '../../../operator/src/shared/project-secrets.ts';
import {
  type Resources,
  resourcesAboveCaps,
  type WorkspaceCaps,
} from '../../../operator/src/shared/workspace-caps.ts';
import { canReachProject } from '../auth/access.ts';
import { forbidden } from '../http/errors.ts';
import type { ApiKey } from '../keys/api-key.ts';
import type { ShimContext } from './context.ts';

/**
 * Refuses (403) a Project spec that names a Secret not labelled `rdev.dev/project=<project>` (or
 * the name of another Project the key reaches), a workspace image --allowed-images does not
 * allow, or resources above --max-workspace-cpu/-memory. A missing Secret and another Project's answer the same: the key learns nothing of
 * Secrets it may not use. Only the Secret's metadata is read, never its data.
 */
export async function requireUsableBy(
  ctx: Pick<ShimContext, 'client'> & {
    config: { allowedImages?: readonly string[]; workspaceCaps?: WorkspaceCaps };
  },
  key: ApiKey,
  namespace: string,
  project: string,
  spec: unknown,
): Promise<void> {
  const image = (spec as { workspace?: { image?: unknown } } | undefined)?.workspace?.image;
  if (typeof image === 'string' && !imageAllowed(image, ctx.config.allowedImages ?? [])) {
    throw forbidden(
      `spec.workspace.image: the image "${image}" is not among the allowed images (--allowed-images)`,
    );
  }
  const above = resourcesAboveCaps(
    (spec as { workspace?: { resources?: Resources } } | undefined)?.workspace?.resources,
    ctx.config.workspaceCaps ?? {},
  );
  if (above !== undefined) throw forbidden(above);
  const checked = new Map<string, boolean>();
  for (const ref of projectSecretReferences(spec)) {
    let usable = checked.get(ref.name);
    if (usable === undefined) {
      const owner = await ctx.client
        .getMetadata(SECRETS, namespace, ref.name)
        .then((secret) => secret.metadata.labels?.[SECRET_PROJECT_LABEL])
        .catch((err) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
      usable = owner !== undefined && (owner === project || canReachProject(key, namespace, owner));
      checked.set(ref.name, usable);
    }
    if (!usable) {
      throw forbidden(
        `${ref.field}: the Secret "${ref.name}" is not usable by the project ${project}: it must exist in the namespace ${namespace} and carry the label ${SECRET_PROJECT_LABEL}=${project}`,
      );
    }
  }
}
