// The DNS names of a Project and the marker that says a record is its own: pure functions of the
// Project and the zone, unit-tested without a DNS provider.
import type { LiveProject } from '../../controllers/project/desired.ts';
import { boundedName, shortHash } from '../../naming.ts';

/** Cloudflare's limit on a record's comment on the Free plan (paid plans allow more). */
export const COMMENT_LIMIT = 100;

/**
 * The comment marking a record as this Project's: namespace, name and uid (a Project recreated
 * under the same name is another owner). When that is too long, a hash of all three keeps it
 * unique and within the limit.
 */
export function ownerMarker(project: LiveProject): string {
  const { namespace, name, uid } = project.metadata;
  const full = `rdev:${namespace}/${name} uid=${uid}`;
  if (full.length <= COMMENT_LIMIT) return full;
  const hash = shortHash(`${namespace}/${name}/${uid}`, 16);
  const readable = `rdev:${namespace}/${name}`.slice(0, COMMENT_LIMIT - hash.length - 2);
  return `${readable} #${hash}`;
}

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
