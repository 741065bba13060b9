// The DNS record calls rdev makes to one Cloudflare zone, through the official SDK, with its
// errors turned into one typed error whose message tells Cloudflare's codes (the SDK's own message
// is the whole JSON envelope). The SDK does not retry (maxRetries 0): the sub-reconciler backs off.
import type Cloudflare from 'cloudflare';

/**
 * The SDK, loaded on first use: it is a large module (tens of MiB resident), and an operator
 * without Cloudflare DNS never needs it.
 */
let sdk: Promise<typeof import('cloudflare')> | undefined;
const loadSdk = () => {
  sdk ??= import('cloudflare');
  return sdk;
};

/** What rdev reads of a record. */
export interface RecordView {
  id: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  comment: string | null;
}

/** What rdev writes: its records are A or CNAME, with automatic TTL. */
export interface RecordInput {
  type: 'A' | 'CNAME';
  name: string;
  content: string;
  proxied: boolean;
  comment: string;
}

export interface ZoneAccess {
  apiToken: string;
  zoneId: string;
  /** The API's root (default https://api.cloudflare.com/client/v4). */
  baseURL?: string;
  timeoutMs?: number;
}

/** Codes of "a record with that name already exists": identical, or A/AAAA/CNAME clash. */
export const DUPLICATE_CODES: readonly number[] = [81053, 81054, 81057];
const RECORD_MISSING = 81044;

/** A failed call; `status` is undefined when no answer came (timeout, network error). */
export class CloudflareDnsError extends Error {
  readonly status: number | undefined;
  readonly codes: number[];
  constructor(message: string, status: number | undefined, codes: number[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'CloudflareDnsError';
    this.status = status;
    this.codes = codes;
  }
}

export const isDuplicate = (err: unknown) =>
  err instanceof CloudflareDnsError && err.codes.some((c) => DUPLICATE_CODES.includes(c));
// By its code only: a 404 for an unknown zone (7003) must not pass for "record already gone".
const isMissing = (err: unknown) => err instanceof CloudflareDnsError && err.codes.includes(RECORD_MISSING);

const DEFAULT_TIMEOUT_MS = 10_000;

export function zoneRecords(access: ZoneAccess) {
  const timeoutMs = access.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let client: Promise<Cloudflare> | undefined;
  const connect = async () =>
    new (await loadSdk()).default({
      apiToken: access.apiToken,
      // the token only: no other credential picked up from the operator's environment
      apiKey: null,
      apiEmail: null,
      userServiceKey: null,
      baseURL: access.baseURL,
      maxRetries: 0,
      timeout: timeoutMs,
      // failures reach the caller as errors; the SDK's own logging (CLOUDFLARE_LOG) stays out of ours
      logLevel: 'off',
    });
  const zone_id = access.zoneId;

  async function call<T>(what: string, run: (cf: Cloudflare) => Promise<T>): Promise<T> {
    client ??= connect();
    const cf = await client;
    const { APIConnectionTimeoutError, APIError, APIUserAbortError } = await loadSdk();
    try {
      return await run(cf);
    } catch (err) {
      if (err instanceof APIUserAbortError) throw err; // cancelled by the caller: not a failure
      if (err instanceof APIConnectionTimeoutError) {
        throw new CloudflareDnsError(`Cloudflare ${what}: no answer within ${timeoutMs} ms`, undefined, [], {
          cause: err,
        });
      }
      if (err instanceof APIError) {
        const codes = err.errors.flatMap((e) => (e.code === undefined ? [] : [e.code]));
        const detail =
          err.errors.map((e) => `${e.message ?? 'error'} (${e.code ?? '?'})`).join('; ') ||
          (err.status ? '' : err.message);
        const status = err.status ?? undefined;
        throw new CloudflareDnsError(
          `Cloudflare ${what}: ${status === undefined ? '' : `HTTP ${status}`}${detail ? ` ${detail}` : ''}`.trim(),
          status,
          codes,
          { cause: err },
        );
      }
      throw err;
    }
  }

  const view = (r: {
    id: string;
    name: string;
    type: string;
    content?: string;
    proxied?: boolean;
    comment?: string | null;
  }): RecordView => ({
    id: r.id,
    name: r.name,
    type: r.type,
    content: r.content ?? '',
    proxied: r.proxied ?? false,
    comment: r.comment ?? null,
  });

  return {
    /** Every record (all pages) with this exact name, or this exact comment. */
    list: (filter: { name?: string; comment?: string }, signal?: AbortSignal) =>
      call(`list of records${filter.name ? ` named ${filter.name}` : ''}`, async (cf) => {
        const out: RecordView[] = [];
        const pages = cf.dns.records.list(
          {
            zone_id,
            per_page: 100,
            ...(filter.name !== undefined && { name: { exact: filter.name } }),
            ...(filter.comment !== undefined && { comment: { exact: filter.comment } }),
          },
          { signal },
        );
        for await (const r of pages) out.push(view(r));
        return out;
      }),

    /** The record, or undefined when it does not exist. */
    get: (id: string, signal?: AbortSignal) =>
      call(`read of record ${id}`, async (cf) =>
        view(await cf.dns.records.get(id, { zone_id }, { signal })),
      ).catch((err) => {
        if (isMissing(err)) return undefined;
        throw err;
      }),

    create: (input: RecordInput, signal?: AbortSignal) =>
      call(`creation of ${input.type} record ${input.name}`, async (cf) =>
        view(await cf.dns.records.create({ zone_id, ttl: 1, ...input }, { signal })),
      ),

    /** Changes type, content and proxying of a record (PATCH: other fields are kept). */
    edit: (id: string, input: RecordInput, signal?: AbortSignal) =>
      call(`change of record ${input.name}`, async (cf) =>
        view(await cf.dns.records.edit(id, { zone_id, ttl: 1, ...input }, { signal })),
      ),

    /** Deletes the record; false when it was already gone. */
    delete: (id: string, signal?: AbortSignal) =>
      call(`deletion of record ${id}`, async (cf) => {
        await cf.dns.records.delete(id, { zone_id }, { signal });
        return true;
      }).catch((err) => {
        if (isMissing(err)) return false;
        throw err;
      }),
  };
}

export type ZoneRecords = ReturnType<typeof zoneRecords>;
