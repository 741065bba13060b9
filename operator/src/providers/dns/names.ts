// The DNS names of a Project: pure functions of the Project and the zone, unit-tested without a
// DNS provider.
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import { boundedName, shortHash } from '../../shared/naming.ts';

/** `label.zone`, lower-case. */
export const inZone = (label: string, zone: string) => `${label}.${zone}`.toLowerCase();

/** Whether `host` is the zone or a name under it. */
export const isInZone = (host: string, zone: string) =>
  host === zone.toLowerCase() || host.endsWith(`.${zone.toLowerCase()}`);

/**
 * The two labels a Project without spec.dns.subdomain may get: its name, and when that is taken
 * in the zone by someone else, its name suffixed with a hash of namespace/name (unique in the
 * zone, still a DNS label of at most 63 characters).
 */
export function autoLabels(project: LiveProject): { preferred: string; fallback: string } {
  const { namespace, name } = project.metadata;
  return { preferred: name, fallback: boundedName(name, shortHash(`${namespace}/${name}`), 63) };
}

/** The aliases of the Project, lower-case and without a final dot, in the order given. */
export const aliases = (project: LiveProject) =>
  (project.spec.dns.aliases ?? []).map((a) => a.toLowerCase().replace(/\.$/, ''));

/**
 * The host names of a Project when the zone cannot be looked at (external-dns publishes them):
 * its subdomain, or the automatic label that is unique by construction, plus its aliases.
 */
export function unseenZoneHostnames(project: LiveProject, zone: string): string[] {
  const label = project.spec.dns.subdomain ?? autoLabels(project).fallback;
  return [...new Set([inZone(label, zone), ...aliases(project)])];
}
