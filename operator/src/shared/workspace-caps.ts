// The most CPU and memory one Project's Pod may ask for (--max-workspace-cpu, --max-workspace-memory):
// the operator runs no workspace, runner or dedicated Session Pod above them, the shim accepts no
// Project spec above them, and a Pod that names no limit gets the cap as its limit, as a
// LimitRange's default would (without one, a container may use the whole node).
import { z } from 'zod';
import { parseQuantity } from '../api/v1alpha1/quantity.ts';

const RESOURCES = ['cpu', 'memory'] as const;
type CappedResource = (typeof RESOURCES)[number];

export type WorkspaceCaps = Partial<Record<CappedResource, string>>;

type ResourceList = Record<string, string>;
export interface Resources {
  requests?: ResourceList;
  limits?: ResourceList;
}

const capField = (resource: CappedResource, example: string) =>
  z
    .string()
    .refine((v) => (parseQuantity(v) ?? 0) > 0, `not a positive quantity (e.g. ${example})`)
    .optional()
    .describe(`most ${resource} one Project's Pod may ask for (none: no cap)`)
    .meta({
      option: {
        flag: `max-workspace-${resource}`,
        env: `RDEV_MAX_WORKSPACE_${resource.toUpperCase()}`,
        help: `most ${resource} a workspace, runner or dedicated Session Pod may request or be limited to (e.g. ${example}); also the limit of a Pod whose spec names none; none: no cap`,
      },
    });

/** The options, as the operator's and the shim's configurations both take them. */
export const workspaceCapsFields = {
  cpu: capField('cpu', '8'),
  memory: capField('memory', '16Gi'),
};

/**
 * The first request or limit of `resources` above a cap, as a sentence naming the field (under
 * `field`, e.g. spec.workspace.resources); undefined when all are within.
 */
export function resourcesAboveCaps(
  resources: Resources | undefined,
  caps: WorkspaceCaps,
  field = 'spec.workspace.resources',
): string | undefined {
  for (const resource of RESOURCES) {
    const cap = caps[resource];
    if (cap === undefined) continue;
    for (const kind of ['requests', 'limits'] as const) {
      const asked = resources?.[kind]?.[resource];
      if (
        asked !== undefined &&
        (parseQuantity(asked) ?? 0) > (parseQuantity(cap) ?? Number.POSITIVE_INFINITY)
      ) {
        return `${field}.${kind}.${resource}: ${asked} is above the most a Project's Pod may have (--max-workspace-${resource}=${cap})`;
      }
    }
  }
  return undefined;
}

/**
 * `resources` within the caps: a capped resource without a limit is limited to its cap, and a
 * request above it (the operator's default request, a spec's is refused first) lowered to it.
 */
export function withinCaps(resources: Resources, caps: WorkspaceCaps): Resources {
  const requests = { ...resources.requests };
  const limits = { ...resources.limits };
  for (const resource of RESOURCES) {
    const cap = caps[resource];
    if (cap === undefined) continue;
    limits[resource] ??= cap;
    const asked = requests[resource];
    if (asked !== undefined && (parseQuantity(asked) ?? 0) > (parseQuantity(cap) ?? 0))
      requests[resource] = cap;
  }
  return {
    ...(Object.keys(requests).length > 0 ? { requests } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}
