// DNS through external-dns: the cluster already runs it, so the operator only annotates the
// Project's Service with its host names (desired.ts) and external-dns makes the records. There
// is nothing outside the cluster for the operator to create or delete; the condition reports
// the names the annotation publishes. external-dns publishes whatever an annotation asks for, so
// the names are vetted here first (under the domain, claimed by no other Project in any
// namespace) and the annotation carries only what this sub-reconciler recorded in status.
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import { type ExternalClient, ForeignResourceError, NotConfiguredError } from '../ports.ts';
import type { DnsIds } from './cloudflare.ts';
import { conflictingHostnames, unseenZoneHostnames } from './names.ts';

/** Host names a Project may not publish: outside the domain, or another Project's. */
export class HostnameTakenError extends ForeignResourceError {
  constructor(
    project: LiveProject,
    outside: string[],
    taken: { hostname: string; by: LiveProject }[],
    zone: string,
  ) {
    const why = [
      ...outside.map((h) => `${h} is not under ${zone}`),
      ...taken.map(({ hostname, by }) =>
        // Another namespace's Project is not named: the name alone says enough.
        by.metadata.namespace === project.metadata.namespace
          ? `${hostname} is already claimed by Project ${by.metadata.name}`
          : `${hostname} is already claimed by another Project`,
      ),
    ];
    super(
      `host names refused: ${why.join('; ')}; none is published until the spec asks for names that are free`,
    );
    this.name = 'HostnameTakenError';
  }
}

/** The annotations external-dns reads on a Service. */
export const EXTERNAL_DNS_HOSTNAME = 'external-dns.alpha.kubernetes.io/hostname';
export const EXTERNAL_DNS_TARGET = 'external-dns.alpha.kubernetes.io/target';

/**
 * The Service's annotations: the host names the DNS sub-reconciler vetted and recorded in
 * status.dns (none while they are refused), and the target.
 */
export function externalDnsAnnotations(
  project: LiveProject,
  domain: string | undefined,
  target: string | undefined,
): Record<string, string> {
  const hostnames = project.status?.dns?.hostnames ?? [];
  if (!project.spec.dns.enabled || !domain || hostnames.length === 0) return {};
  return {
    [EXTERNAL_DNS_HOSTNAME]: hostnames.join(','),
    ...(target ? { [EXTERNAL_DNS_TARGET]: target.slice(target.indexOf(':') + 1) } : {}),
  };
}

export function externalDnsProvider(
  domain: string | undefined,
  projects: () => readonly LiveProject[] = () => [],
): ExternalClient<DnsIds> {
  const ids = (project: LiveProject): DnsIds => {
    if (!domain) throw new NotConfiguredError('no --domain is configured for Project DNS names');
    const { outside, taken } = conflictingHostnames(project, projects(), domain);
    if (outside.length > 0 || taken.length > 0) throw new HostnameTakenError(project, outside, taken, domain);
    return { hostnames: unseenZoneHostnames(project, domain), records: [] };
  };
  // Nothing outside the cluster to make or change: creating and updating both only name the hosts.
  const names = async ({ project }: { project: LiveProject }) => ids(project);
  return {
    ids: (project) => ({ hostnames: domain ? unseenZoneHostnames(project, domain) : [], records: [] }),
    observe: async ({ project }) => ({ exists: true, upToDate: true, ids: ids(project) }),
    create: names,
    update: names,
    delete: async () => undefined,
  };
}

/** DNS with no mode configured: the condition says how to configure one. */
export function unconfiguredDnsProvider(): ExternalClient<DnsIds> {
  const fail = async (): Promise<never> => {
    throw new NotConfiguredError(
      'no DNS mode is configured (operator option --dns-mode: cloudflare or external-dns)',
    );
  };
  return {
    ids: () => ({ hostnames: [], records: [] }),
    observe: fail,
    create: fail,
    update: fail,
    delete: async () => undefined,
  };
}
