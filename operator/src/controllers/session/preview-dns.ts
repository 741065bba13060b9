// A DNS record for a Session's preview host, for a preview domain without a wildcard record
// (--preview-dns-records, with --dns-mode cloudflare). The record carries the Session's mark;
// a record of that name without it is someone else's and is left alone, and the condition says
// so. The Session keeps a finalizer while a record may exist, so that deletion removes it.
import type { OperatorConfig } from '../../config.ts';
import { zoneRecords } from '../../providers/dns/cloudflare-records.ts';
import { cloudflareSettings } from '../../providers/index.ts';
import { ownerMarker } from '../../providers/marker.ts';
import type { KubeClient, KubeObject } from '../../runtime/client.ts';

export const PREVIEW_DNS_FINALIZER = 'rdev.dev/preview-dns';

export type PreviewDnsOutcome = { ok: true } | { ok: false; message: string };

export interface PreviewDns {
  ensure(session: KubeObject, host: string, signal: AbortSignal): Promise<PreviewDnsOutcome>;
  remove(session: KubeObject, signal: AbortSignal): Promise<void>;
}

export function previewDns(client: KubeClient, config: OperatorConfig): PreviewDns | undefined {
  if (!config.preview.dnsRecords || config.dns.mode !== 'cloudflare') return undefined;
  const zone = async () => {
    const s = await cloudflareSettings(client, config);
    return { s, api: zoneRecords(s) };
  };
  return {
    async ensure(session, host, signal) {
      const { s, api } = await zone();
      const marker = ownerMarker(session);
      const wanted = {
        type: s.target.type,
        name: host,
        content: s.target.content,
        proxied: s.proxied,
        comment: marker,
      };
      const existing = await api.list({ name: host }, signal);
      const foreign = existing.filter((r) => r.comment !== marker && ['A', 'AAAA', 'CNAME'].includes(r.type));
      if (foreign.length > 0) {
        return {
          ok: false,
          message: `DNS name ${host} already has a record that is not this Session's; it is left alone`,
        };
      }
      const ours = existing.find((r) => r.comment === marker);
      if (!ours) await api.create(wanted, signal);
      else if (
        ours.type !== wanted.type ||
        ours.content !== wanted.content ||
        ours.proxied !== wanted.proxied
      ) {
        await api.edit(ours.id, wanted, signal);
      }
      return { ok: true };
    },
    async remove(session, signal) {
      const { api } = await zone();
      for (const r of await api.list({ comment: ownerMarker(session) }, signal))
        await api.delete(r.id, signal);
    },
  };
}
