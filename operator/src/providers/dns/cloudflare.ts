// DNS provider: one record per host name of the Project (its subdomain or an automatic label
// under the zone, plus its aliases), all pointing at the configured target, in one Cloudflare
// zone. A record is the Project's when its comment is the Project's marker: records without it
// are someone else's and are never changed or deleted; a name they hold is reported, not taken.
// Finding our records by their marker (not only by the ids on record) is what lets an attempt
// interrupted between creating a record and recording its id adopt it, and deletion find it.
import type { LiveProject } from '../../api/v1alpha1/index.ts';
import { ownerMarker } from '../marker.ts';
import { type ExternalClient, type ExternalContext, NotConfiguredError } from '../ports.ts';
import {
  isDuplicate,
  type RecordInput,
  type RecordView,
  type ZoneRecords,
  zoneRecords,
} from './cloudflare-records.ts';
import { aliases, autoLabels, inZone, isInZone } from './names.ts';

export interface CloudflareDnsSettings {
  apiToken: string;
  /** The zone's id in Cloudflare. */
  zoneId: string;
  /** The zone's name, the configured domain (e.g. example.dev). */
  zoneName: string;
  /** What every host name of a Project points at: the ingress' name (CNAME) or address (A). */
  target: { type: 'CNAME' | 'A'; content: string };
  /** Whether the records go through Cloudflare's proxy. */
  proxied: boolean;
  /** The API's root (default https://api.cloudflare.com/client/v4). */
  baseURL?: string;
  timeoutMs?: number;
}

/** The settings, a function reading them when needed (from a Secret), or undefined: not configured. */
export type CloudflareDnsSettingsSource =
  | CloudflareDnsSettings
  | (() => Promise<CloudflareDnsSettings>)
  | undefined;

export interface DnsRecordRef {
  id: string;
  name: string;
  type: string;
}

export interface DnsIds {
  hostnames: string[];
  records: DnsRecordRef[];
}

/** A host name the Project wants already has a record that is not the Project's. */
export class ForeignRecordError extends Error {
  readonly hosts: string[];
  constructor(hosts: string[], marker: string, options?: ErrorOptions) {
    super(
      `DNS name ${hosts.join(', ')} already has a record that belongs to someone else (its comment is not ` +
        `"${marker}"); rdev does not change or delete it: remove it, or choose another name`,
      options,
    );
    this.name = 'ForeignRecordError';
    this.hosts = hosts;
  }
}

/** Types that serve a host name: another owner's record of these types means the name is taken. */
const SERVING: ReadonlySet<string> = new Set(['A', 'AAAA', 'CNAME']);

/** What status records: the ids of the last records made (authoritative until changed). */
export const dnsIds = (project: LiveProject): DnsIds => ({
  hostnames: project.status?.dns?.hostnames ?? [],
  records: project.status?.dns?.records ?? [],
});

/** For the condition's message: "<this> is ready". */
export const describeDNS = (ids: DnsIds) =>
  ids.hostnames.length > 0 ? `DNS for ${ids.hostnames.join(', ')}` : 'DNS';

interface Plan {
  hostnames: string[];
  /** Ours and as wanted. */
  keep: RecordView[];
  /** Ours, pointing elsewhere. */
  edit: RecordView[];
  /** Hosts without a record. */
  create: string[];
  /** Ours and no longer wanted (a host dropped from the spec, or a duplicate). */
  remove: RecordView[];
}

export function cloudflareDnsProvider(settings: CloudflareDnsSettingsSource): ExternalClient<DnsIds> {
  async function resolve(): Promise<{ s: CloudflareDnsSettings; api: ZoneRecords }> {
    if (settings === undefined) throw new NotConfiguredError('no Cloudflare zone is configured for DNS');
    const s = typeof settings === 'function' ? await settings() : settings;
    return { s, api: zoneRecords(s) };
  }

  /** The record a host should have: the target, and the Project's marker as its comment. */
  const wanted = (s: CloudflareDnsSettings, host: string, marker: string): RecordInput => ({
    type: s.target.type,
    name: host,
    content: s.target.content,
    proxied: s.proxied,
    comment: marker,
  });

  const isAsWanted = (s: CloudflareDnsSettings, r: RecordView) =>
    r.type === s.target.type &&
    r.content.toLowerCase().replace(/\.$/, '') === s.target.content.toLowerCase().replace(/\.$/, '') &&
    r.proxied === s.proxied;

  async function plan(
    ctx: ExternalContext<DnsIds>,
    s: CloudflareDnsSettings,
    api: ZoneRecords,
  ): Promise<Plan> {
    const { project, signal } = ctx;
    const zone = s.zoneName.toLowerCase();
    const marker = ownerMarker(project);
    const ours = await api.list({ comment: marker }, signal);
    const taken = new Map<string, boolean>();
    const isTaken = async (host: string) => {
      let t = taken.get(host);
      if (t === undefined) {
        const records = await api.list({ name: host }, signal);
        t = records.some((r) => r.comment !== marker && SERVING.has(r.type));
        taken.set(host, t);
      }
      return t;
    };

    const outside = aliases(project).filter((a) => !isInZone(a, zone));
    if (outside.length > 0) {
      throw new Error(
        `alias ${outside.join(', ')} is not in the DNS zone ${zone}: only names in that zone can be made`,
      );
    }
    const primary = await primaryHost(project, zone, ours, isTaken);
    const hostnames = [...new Set([primary, ...aliases(project)])];

    const p: Plan = { hostnames, keep: [], edit: [], create: [], remove: [] };
    const conflicts: string[] = [];
    for (const host of hostnames) {
      const mine = ours.filter((r) => r.name === host);
      const chosen = mine.find((r) => isAsWanted(s, r)) ?? mine[0];
      if (chosen) {
        (isAsWanted(s, chosen) ? p.keep : p.edit).push(chosen);
        p.remove.push(...mine.filter((r) => r !== chosen));
      } else if (await isTaken(host)) conflicts.push(host);
      else p.create.push(host);
    }
    if (conflicts.length > 0) throw new ForeignRecordError(conflicts, marker);
    p.remove.push(...ours.filter((r) => !hostnames.includes(r.name)));
    return p;
  }

  /** POSTs the record of `host`; one made meanwhile (another replica, a lost answer) is adopted if ours. */
  async function post(
    s: CloudflareDnsSettings,
    api: ZoneRecords,
    host: string,
    ctx: ExternalContext<DnsIds>,
  ) {
    const input = wanted(s, host, ownerMarker(ctx.project));
    try {
      return await api.create(input, ctx.signal);
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      const mine = (await api.list({ name: host }, ctx.signal)).find((r) => r.comment === input.comment);
      if (!mine) throw new ForeignRecordError([host], input.comment, { cause: err });
      return isAsWanted(s, mine) ? mine : api.edit(mine.id, input, ctx.signal);
    }
  }

  /** The Project has no record yet: one POST per host name. */
  async function create(ctx: ExternalContext<DnsIds>): Promise<DnsIds> {
    const { s, api } = await resolve();
    const p = await plan(ctx, s, api);
    // Observed without a record of ours: what the plan keeps (made meanwhile) stands as it is, and
    // anything else of ours is left to the next update.
    const records = [...p.keep];
    for (const host of p.create) records.push(await post(s, api, host, ctx));
    return idsOf(p.hostnames, records);
  }

  /** PATCHes the records pointing elsewhere, POSTs the missing ones, DELETEs those no longer wanted. */
  async function update(ctx: ExternalContext<DnsIds>): Promise<DnsIds> {
    const { s, api } = await resolve();
    const marker = ownerMarker(ctx.project);
    const p = await plan(ctx, s, api);
    const records = [...p.keep];
    for (const r of p.edit) records.push(await api.edit(r.id, wanted(s, r.name, marker), ctx.signal));
    for (const host of p.create) records.push(await post(s, api, host, ctx));
    // Last, so that a host keeps resolving until its replacement exists.
    for (const r of p.remove) await api.delete(r.id, ctx.signal);
    return idsOf(p.hostnames, records);
  }

  return {
    ids: dnsIds,

    async observe(ctx) {
      const { s, api } = await resolve();
      const p = await plan(ctx, s, api);
      const names = (rs: RecordView[]) => [...new Set(rs.map((r) => r.name))].join(', ');
      const ids = idsOf(p.hostnames, p.keep);
      const diff =
        p.create.length > 0
          ? `no record yet for ${p.create.join(', ')}`
          : p.edit.length > 0
            ? `the record of ${names(p.edit)} does not point at ${s.target.content}`
            : p.remove.length > 0
              ? `records no longer wanted: ${names(p.remove)}`
              : !sameIds(ctx.recorded, ids)
                ? 'the records are not recorded yet'
                : undefined;
      return {
        exists: p.keep.length + p.edit.length + p.remove.length > 0,
        upToDate: diff === undefined,
        diff,
        ids,
      };
    },

    create,
    update,

    async delete(ids, ctx) {
      const { api } = await resolve();
      const marker = ownerMarker(ctx.project);
      // Ours by marker (including any never recorded), then recorded ids the marker missed.
      const ours = await api.list({ comment: marker }, ctx.signal);
      for (const r of ours) await api.delete(r.id, ctx.signal);
      const done = new Set(ours.map((r) => r.id));
      for (const ref of ids.records.filter((r) => !done.has(r.id))) {
        const record = await api.get(ref.id, ctx.signal);
        // No longer carrying our marker: someone took it over, so it is theirs now.
        if (record?.comment === marker) await api.delete(record.id, ctx.signal);
      }
    },
  };
}

/**
 * The Project's main host: spec.dns.subdomain, else its name under the zone, unless someone
 * else holds that name, then its hash-suffixed variant. Once chosen (recorded or made), the
 * choice sticks: a host name does not move when the other owner goes away.
 */
async function primaryHost(
  project: LiveProject,
  zone: string,
  ours: RecordView[],
  isTaken: (host: string) => Promise<boolean>,
): Promise<string> {
  if (project.spec.dns.subdomain) return inZone(project.spec.dns.subdomain, zone);
  const { preferred, fallback } = autoLabels(project);
  const [p, f] = [inZone(preferred, zone), inZone(fallback, zone)];
  const recorded = project.status?.dns?.hostnames ?? [];
  for (const host of [p, f]) {
    if (recorded.includes(host) || ours.some((r) => r.name === host)) return host;
  }
  return (await isTaken(p)) ? f : p;
}

function idsOf(hostnames: string[], records: RecordView[]): DnsIds {
  const rank = (name: string) => hostnames.indexOf(name);
  const sorted = [...records].sort((a, b) => rank(a.name) - rank(b.name));
  return { hostnames, records: sorted.map(({ id, name, type }) => ({ id, name, type })) };
}

function sameIds(a: DnsIds | undefined, b: DnsIds): boolean {
  if (!a) return b.records.length === 0 && b.hostnames.length === 0;
  const key = (ids: DnsIds) =>
    JSON.stringify([ids.hostnames, ids.records.map((r) => `${r.id} ${r.name} ${r.type}`).sort()]);
  return key(a) === key(b);
}
