// The kinds of rdev.dev/v1alpha1: the single source of truth for the CRDs, the TypeScript
// types and the shim's request validation.
import { z } from 'zod';
import { checkoutKind, checkoutSpec, checkoutStatus } from './checkout.ts';
import { API_VERSION, objectMeta } from './common.ts';
import { featureKind, featureSpec, featureStatus } from './feature.ts';
import type { KindDefinition } from './kind.ts';
import { createdMeta, liveMeta, liveParser } from './live.ts';
import { projectKind, projectSpec, projectStatus } from './project.ts';
import { sessionKind, sessionSpec, sessionStatus } from './session.ts';
import { workItemKind, workItemSpec, workItemStatus } from './workitem.ts';

export * from './checkout.ts';
export { API_VERSION, type CelRule, GROUP, VERSION } from './common.ts';
export * from './feature.ts';
export type { KindDefinition } from './kind.ts';
export * from './project.ts';
export * from './session.ts';
export * from './workitem.ts';

export const KINDS: readonly KindDefinition[] = [
  projectKind,
  sessionKind,
  checkoutKind,
  workItemKind,
  featureKind,
];

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
export const feature = resource('Feature', featureSpec, featureStatus);

/** Schema of a full resource by kind, for validating manifests of any of the kinds. */
export const RESOURCES = {
  Project: project,
  Session: session,
  Checkout: checkout,
  WorkItem: workItem,
  Feature: feature,
} as const;

export type Project = z.infer<typeof project>;
export type Session = z.infer<typeof session>;
export type Checkout = z.infer<typeof checkout>;
export type WorkItem = z.infer<typeof workItem>;
export type Feature = z.infer<typeof feature>;

/** apiVersion and kind of a kind as read: filled in when a list left them out. */
const typeMeta = <K extends string>(kind: K) => ({
  apiVersion: z.literal(API_VERSION).default(API_VERSION),
  kind: z.literal(kind).default(kind),
});

export const liveProject = project.extend({ ...typeMeta('Project'), metadata: liveMeta });
export const liveSession = session.extend({ ...typeMeta('Session'), metadata: createdMeta });
export const liveCheckout = checkout.extend({ ...typeMeta('Checkout'), metadata: createdMeta });
export const liveWorkItem = workItem.extend({ ...typeMeta('WorkItem'), metadata: liveMeta });
export const liveFeature = feature.extend({ ...typeMeta('Feature'), metadata: liveMeta });

/** A Project as read from the API server (parsed: defaults filled in). */
export type LiveProject = z.infer<typeof liveProject>;
/** A Session as read from the API server. */
export type LiveSession = z.infer<typeof liveSession>;
/** A Checkout as read from the API server. */
export type LiveCheckout = z.infer<typeof liveCheckout>;
/** A WorkItem as read from the API server. */
export type LiveWorkItem = z.infer<typeof liveWorkItem>;
/** A Feature as read from the API server. */
export type LiveFeature = z.infer<typeof liveFeature>;

/** An object of any of the kinds, as read: `kind` tells which. */
export type LiveObject = LiveProject | LiveSession | LiveCheckout | LiveWorkItem | LiveFeature;

/** What informers of the kinds hold: each object parsed once, as it arrives. */
export const parseProject = liveParser(liveProject);
export const parseSession = liveParser(liveSession);
export const parseCheckout = liveParser(liveCheckout);
export const parseWorkItem = liveParser(liveWorkItem);
export const parseFeature = liveParser(liveFeature);
