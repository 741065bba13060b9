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

/** What keeps a Project from publishing its host names through external-dns. */
export interface HostnameConflicts {
  /** Requested names not under the zone. */
  outside: string[];
  /** Names another Project claims, and which. */
  taken: { hostname: string; by: LiveProject }[];
}

const published = (p: LiveProject) => new Set(p.status?.dns?.hostnames ?? []);

/** Whether `a` came before `b`: created earlier, then by namespace/name (a total, stable order). */
function before(a: LiveProject, b: LiveProject): boolean {
  const [ta, tb] = [a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? ''];
  if (ta !== tb) return ta < tb;
  return `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}`;
}

/**
 * Which of the host names `project` asks for (external-dns publishes whatever a Service's
 * annotation says, so nothing else stops one Project from taking another's name) it may not have:
 * those outside the zone, and those another Project claims, in any namespace. A name goes to the
 * Project that has it published already; between two that both have, or neither, to the older.
 */
export function conflictingHostnames(
  project: LiveProject,
  allProjects: readonly LiveProject[],
  zone: string,
): HostnameConflicts {
  const wanted = unseenZoneHostnames(project, zone);
  const mine = published(project);
  const taken: HostnameConflicts['taken'] = [];
  for (const other of allProjects) {
    if (other.metadata.uid === project.metadata.uid) continue;
    const theirs = published(other);
    const claims = new Set([...theirs, ...(other.spec.dns.enabled ? unseenZoneHostnames(other, zone) : [])]);
    for (const hostname of wanted) {
      if (!claims.has(hostname)) continue;
      const wins =
        theirs.has(hostname) !== mine.has(hostname) ? theirs.has(hostname) : before(other, project);
      if (wins) taken.push({ hostname, by: other });
    }
  }
  return { outside: wanted.filter((h) => !isInZone(h, zone)), taken };
}
