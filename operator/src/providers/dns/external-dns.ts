// DNS through external-dns: the cluster already runs it, so the operator only annotates the
// Project's Service with its host names (desired.ts) and external-dns makes the records. There
// is nothing outside the cluster for the operator to create or delete; the condition reports
// the names the annotation publishes.
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import { type ExternalClient, NotConfiguredError } from '../ports.ts';
import type { DnsIds } from './cloudflare.ts';
import { unseenZoneHostnames } from './names.ts';

/** The annotations external-dns reads on a Service. */
export const EXTERNAL_DNS_HOSTNAME = 'external-dns.alpha.kubernetes.io/hostname';
export const EXTERNAL_DNS_TARGET = 'external-dns.alpha.kubernetes.io/target';

export function externalDnsAnnotations(
  project: LiveProject,
  domain: string | undefined,
  target: string | undefined,
): Record<string, string> {
  if (!project.spec.dns.enabled || !domain) return {};
  return {
    [EXTERNAL_DNS_HOSTNAME]: unseenZoneHostnames(project, domain).join(','),
    ...(target ? { [EXTERNAL_DNS_TARGET]: target.slice(target.indexOf(':') + 1) } : {}),
  };
}

export function externalDnsProvider(domain: string | undefined): ExternalClient<DnsIds> {
  const ids = (project: LiveProject): DnsIds => {
    if (!domain) throw new NotConfiguredError('no --domain is configured for Project DNS names');
    return { hostnames: unseenZoneHostnames(project, domain), records: [] };
  };
  // Nothing outside the cluster to make or change: creating and updating both only name the hosts.
  const names = async ({ project }: { project: LiveProject }) => ids(project);
  return {
    ids: (project) => (domain ? ids(project) : { hostnames: [], records: [] }),
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
