// Shared by the provider tests: Projects as read from the API server, and the CI and DNS
// resources registered the way the project controller would register them, with the status a
// reconcile records applied back onto the Project (as the controller's status write does).

import type { LiveProject } from '../../../operator/src/api/v1alpha1/index.ts';
import { project as projectSchema } from '../../../operator/src/api/v1alpha1/index.ts';
import type { CIIds } from '../../../operator/src/providers/ci/woodpecker.ts';
import { describeCI } from '../../../operator/src/providers/ci/woodpecker.ts';
import type { DnsIds } from '../../../operator/src/providers/dns/cloudflare.ts';
import { describeDNS } from '../../../operator/src/providers/dns/cloudflare.ts';
import {
  type ExternalOutcome,
  type ExternalResource,
  reconcileExternal,
} from '../../../operator/src/providers/external.ts';
import type { ExternalClient } from '../../../operator/src/providers/ports.ts';

export interface ProjectOptions {
  namespace?: string;
  name?: string;
  uid?: string;
  status?: object;
}

export function liveProject(spec: Record<string, unknown>, options: ProjectOptions = {}): LiveProject {
  return projectSchema.parse({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: {
      name: options.name ?? 'shop',
      namespace: options.namespace ?? 'team',
      uid: options.uid ?? '6f1c2d9e-0000-4000-8000-000000000001',
      generation: 1,
    },
    spec,
    status: options.status,
  }) as LiveProject;
}

export const signal = new AbortController().signal;

export function ciResource(client: ExternalClient<CIIds>): ExternalResource<CIIds> {
  return {
    name: 'CI',
    condition: 'CIReady',
    enabled: (p) => p.spec.ci.enabled !== false,
    deletionPolicy: () => 'Delete',
    recorded: (p) =>
      p.status?.ci?.repoId === undefined
        ? undefined
        : { forgeRemoteId: p.status.repo?.id, fullName: p.status.repo?.fullName, repoId: p.status.ci.repoId },
    rotation: () => ({}),
    envSecret: () => '',
    describe: describeCI,
    client,
  };
}

export function dnsResource(client: ExternalClient<DnsIds>): ExternalResource<DnsIds> {
  return {
    name: 'DNS',
    condition: 'DNSReady',
    enabled: (p) => p.spec.dns.enabled,
    deletionPolicy: () => 'Delete',
    recorded: (p) =>
      p.status?.dns?.records === undefined
        ? undefined
        : { hostnames: p.status.dns.hostnames ?? [], records: p.status.dns.records },
    rotation: () => ({}),
    envSecret: () => '',
    describe: describeDNS,
    client,
  };
}

/** The Project with the outcome's ids written to status (what the status write would do). */
export function withRecorded<Ids>(project: LiveProject, field: 'ci' | 'dns', outcome: ExternalOutcome<Ids>) {
  const ids = outcome.ids as (CIIds & DnsIds) | undefined;
  const value =
    ids === undefined
      ? undefined
      : field === 'ci'
        ? ids.repoId === undefined
          ? undefined
          : { repoId: ids.repoId }
        : { hostnames: ids.hostnames, records: ids.records };
  return { ...project, status: { ...project.status, [field]: value } } as LiveProject;
}

/** One reconcile of `resource`, then the Project as it is after its status is written. */
export async function reconcile<Ids>(
  resource: ExternalResource<Ids>,
  project: LiveProject,
  field: 'ci' | 'dns',
): Promise<{ outcome: ExternalOutcome<Ids>; project: LiveProject }> {
  const outcome = await reconcileExternal(resource, project, signal);
  return { outcome, project: withRecorded(project, field, outcome) };
}
