// Names of a Project's children: stable, so that re-applying never duplicates them.

import type { Resource } from '../../runtime/client.ts';
import {
  NETWORK_POLICIES,
  PODS,
  PVCS,
  SECRETS,
  SERVICE_ACCOUNTS,
  SERVICES,
} from '../../runtime/resources.ts';
import { boundedName, dns1035 } from '../../shared/naming.ts';

export const FINALIZER = 'rdev.dev/project';

export const workspaceName = (project: string) => boundedName(project, 'workspace');
export const serviceName = (project: string) => dns1035(workspaceName(project));
export const credentialsSecretName = (project: string) => boundedName(project, 'credentials');

/** Labels on every child: selectors route traffic by them (they never decide deletion). */
export const childLabels = (project: string) => ({
  'app.kubernetes.io/name': 'rdev-workspace',
  'app.kubernetes.io/instance': project,
  'app.kubernetes.io/managed-by': 'rdev',
  'rdev.dev/project': project,
});

/** What the operator's child informers select on. */
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=rdev';

/** Annotation holding the hash of what the operator last applied to a child. */
export const SPEC_HASH = 'rdev.dev/spec-hash';

/** Children applied on every reconcile and skipped when their applied hash matches. */
export const APPLIED_CHILDREN: Resource[] = [SERVICE_ACCOUNTS, PVCS, SERVICES, NETWORK_POLICIES];

/** Every kind of child a Project controls (the Pod and Secrets have rules of their own). */
export const OWNED_RESOURCES: Resource[] = [...APPLIED_CHILDREN, PODS, SECRETS];
