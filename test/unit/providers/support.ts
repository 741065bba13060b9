// Shared by the provider tests: Projects as read from the API server, and the CI and DNS
// resources registered the way the project controller would register them, with the status a
// reconcile records applied back onto the Project (as the controller's status write does).

import type { LiveProject } from '../../../operator/src/api/v1alpha1/index.ts';
import { project as projectSchema } from '../../../operator/src/api/v1alpha1/index.ts';
import { type CIIds, describeCI } from '../../../operator/src/providers/ci/woodpecker.ts';
import { type DnsIds, describeDNS } from '../../../operator/src/providers/dns/cloudflare.ts';
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
  annotations?: Record<string, string>;
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
      annotations: options.annotations,
    },
    spec,
    status: options.status,
  }) as LiveProject; // the literal's metadata has what the schema leaves optional: name, namespace, uid
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
    describe: describeDNS,
    client,
  };
}

/** The ids each resource records, by its status field. */
interface Recorded {
  ci: CIIds;
  dns: DnsIds;
}

/** What the status write does with each resource's ids. */
const recordIn: {
  [F in keyof Recorded]: (
    status: LiveProject['status'],
    ids: Recorded[F] | undefined,
  ) => LiveProject['status'];
} = {
  ci: (status, ids) => ({ ...status, ci: ids?.repoId === undefined ? undefined : { repoId: ids.repoId } }),
  dns: (status, ids) => ({ ...status, dns: ids && { hostnames: ids.hostnames, records: ids.records } }),
};

/** One reconcile of `resource`, then the Project as it is after its status is written. */
export async function reconcile<F extends keyof Recorded>(
  resource: ExternalResource<Recorded[F]>,
  project: LiveProject,
  field: F,
): Promise<{ outcome: ExternalOutcome<Recorded[F]>; project: LiveProject }> {
  const outcome = await reconcileExternal(resource, project, signal);
  return { outcome, project: { ...project, status: recordIn[field](project.status, outcome.ids) } };
}
