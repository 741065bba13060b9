// The four kinds of rdev.dev/v1alpha1: the single source of truth for the CRDs, the TypeScript
// types and the shim's request validation.
import { z } from 'zod';
import { checkoutKind, checkoutSpec, checkoutStatus } from './checkout.ts';
import { API_VERSION, type KindDefinition, objectMeta } from './common.ts';
import { projectKind, projectSpec, projectStatus } from './project.ts';
import { sessionKind, sessionSpec, sessionStatus } from './session.ts';
import { workItemKind, workItemSpec, workItemStatus } from './workitem.ts';

export * from './checkout.ts';
export { API_VERSION, type CelRule, GROUP, type KindDefinition, VERSION } from './common.ts';
export * from './project.ts';
export * from './session.ts';
export * from './workitem.ts';

export const KINDS: readonly KindDefinition[] = [projectKind, sessionKind, checkoutKind, workItemKind];

function resource<K extends string, S extends z.ZodType, T extends z.ZodType>(kind: K, spec: S, status: T) {
  return z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec,
    status: status.optional(),
  });
}

export const project = resource('Project', projectSpec, projectStatus);
export const session = resource('Session', sessionSpec, sessionStatus);
export const checkout = resource('Checkout', checkoutSpec, checkoutStatus);
export const workItem = resource('WorkItem', workItemSpec, workItemStatus);

/** Schema of a full resource by kind, for validating manifests of any of the four kinds. */
export const RESOURCES = {
  Project: project,
  Session: session,
  Checkout: checkout,
  WorkItem: workItem,
} as const;

export type Project = z.infer<typeof project>;
export type Session = z.infer<typeof session>;
export type Checkout = z.infer<typeof checkout>;
export type WorkItem = z.infer<typeof workItem>;

/** What every object read from the API server has: a name, a namespace and a uid. */
type LiveMeta = { name: string; namespace: string; uid: string };

/** A Project as read from the API server. */
export type LiveProject = Project & { metadata: Project['metadata'] & LiveMeta };
/** A Session as read from the API server. */
export type LiveSession = Session & {
  metadata: Session['metadata'] & LiveMeta & { creationTimestamp: string };
};
/** A Checkout as read from the API server. */
export type LiveCheckout = Checkout & {
  metadata: Checkout['metadata'] & LiveMeta & { creationTimestamp: string };
};
