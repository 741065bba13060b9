// An in-memory Cloudflare API v4, limited to what the `cloudflare` SDK uses for DNS records:
// list (filters, pagination), create, get, update (PUT), edit (PATCH), delete, in Cloudflare's
// envelope and with its error codes. It is stricter than Cloudflare in one place: a record name
// outside the zone is refused (Cloudflare would append the zone name), since rdev never means that.
import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { bearerToken, type FakeReply, type FakeRequest, FakeService, jsonBody } from './server.ts';

export const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export interface FakeDnsRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: RecordType;
  content: string;
  proxiable: boolean;
  proxied: boolean;
  ttl: number;
  settings: Record<string, never>;
  meta: Record<string, never>;
  comment: string | null;
  tags: string[];
  created_on: string;
  modified_on: string;
  comment_modified_on?: string;
}

export interface FakeZone {
  id: string;
  name: string;
}

/** What a record is made of when seeded or written (Cloudflare's request body). */
export interface RecordInput {
  type: RecordType;
  name: string;
  content: string;
  ttl?: number;
  proxied?: boolean;
  comment?: string | null;
}

interface TokenScope {
  /** Zone ids it may use; all when undefined. */
  zones?: string[];
  /** Reads only: writes answer 403. */
  readOnly?: boolean;
}

export interface FakeCloudflareOptions {
  /** The token with access to every zone (default "cf-test-token"). */
  token?: string;
  /** Zone names (default ["example.dev"]); ids are generated. */
  zones?: string[];
  /** Longest comment accepted: 100 on the Free plan, 500 on paid plans. */
  commentLimit?: number;
}

interface CfError {
  code: number;
  message: string;
}

const PROXIABLE: ReadonlySet<string> = new Set(['A', 'AAAA', 'CNAME']);
const ADDRESS_TYPES: ReadonlySet<string> = new Set(['A', 'AAAA']);
const HOST = /^(\*\.)?([a-z0-9_]([-a-z0-9_]*[a-z0-9_])?\.)*[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?$/;
const newId = () => randomBytes(16).toString('hex');

const envelope = (status: number, result: unknown, resultInfo?: object): FakeReply => ({
  status,
  body: { success: true, errors: [], messages: [], result, ...(resultInfo && { result_info: resultInfo }) },
});

const failure = (status: number, ...errors: CfError[]): FakeReply => ({
  status,
  body: { success: false, errors, messages: [], result: null },
});

/** Thrown inside handlers to answer with a Cloudflare error. */
class Refusal extends Error {
  readonly reply: FakeReply;
  constructor(status: number, code: number, message: string) {
    super(message);
    this.reply = failure(status, { code, message });
  }
}

/** A fake Cloudflare API; its `url` is the SDK's baseURL, http://127.0.0.1:<port>/client/v4. */
export class FakeCloudflare extends FakeService {
  readonly token: string;
  readonly zones: FakeZone[];
  readonly #tokens = new Map<string, TokenScope>();
  readonly #records = new Map<string, FakeDnsRecord>();
  readonly #commentLimit: number;

  private constructor(options: FakeCloudflareOptions) {
    super();
    this.token = options.token ?? 'cf-test-token';
    this.#tokens.set(this.token, {});
    this.zones = (options.zones ?? ['example.dev']).map((name) => ({ id: newId(), name }));
    this.#commentLimit = options.commentLimit ?? 100;
  }

  static async start(options: FakeCloudflareOptions = {}): Promise<FakeCloudflare> {
    const fake = new FakeCloudflare(options);
    await fake.listen(
      (req) => fake.#handle(req),
      // 971 is Cloudflare's rate-limit code; for other injected statuses it varies, so 1000 + status
      (status, message) =>
        status === 429
          ? failure(429, {
              code: 971,
              message: message ?? 'Please wait and consider throttling your request speed',
            })
          : failure(status, { code: 1000 + status, message: message ?? `injected ${status}` }),
      '/client/v4',
    );
    return fake;
  }

  /** The first zone (or the one named): its id is what the provider is configured with. */
  zone(name?: string): FakeZone {
    const zone = name === undefined ? this.zones[0] : this.zones.find((z) => z.name === name);
    if (!zone) throw new Error(`the fake has no zone ${name}`);
    return zone;
  }

  /** Another token, optionally limited to some zones or to reads. */
  addToken(token: string, scope: TokenScope = {}): void {
    this.#tokens.set(token, scope);
  }

  /** A record made by someone else (or by a previous run), bypassing the API and its faults. */
  seed(input: RecordInput, zoneName?: string): FakeDnsRecord {
    const zone = this.zone(zoneName);
    const record = this.#build(zone, undefined, input);
    this.#records.set(record.id, record);
    return structuredClone(record);
  }

  /** Copies of the records of a zone, sorted by name then type. */
  records(zoneName?: string): FakeDnsRecord[] {
    const zone = this.zone(zoneName);
    return sortRecords([...this.#records.values()].filter((r) => r.zone_id === zone.id)).map((r) =>
      structuredClone(r),
    );
  }

  /** Removes a record behind the API's back (someone deleting it in the dashboard). */
  remove(id: string): void {
    this.#records.delete(id);
  }

  #handle(req: FakeRequest): FakeReply {
    try {
      return this.#route(req);
    } catch (err) {
      if (err instanceof Refusal) return err.reply;
      throw err;
    }
  }

  #route(req: FakeRequest): FakeReply {
    const path = req.path.replace(/^\/client\/v4/, '');
    const scope = this.#authenticate(req);
    if (path === '/user/tokens/verify' && req.method === 'GET') {
      return envelope(200, { id: 'fake-token', status: 'active' });
    }
    const m = /^\/zones\/([^/]+)(\/dns_records(?:\/([^/]+))?)?$/.exec(path);
    if (!m) throw new Refusal(404, 7000, 'No route for that URI');
    const [, zoneId, collection, recordId] = m;
    const zone = this.zones.find((z) => z.id === zoneId);
    if (!zone) {
      throw new Refusal(404, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`);
    }
    if (scope.zones && !scope.zones.includes(zone.id)) throw new Refusal(403, 10000, 'Authentication error');
    if (scope.readOnly && req.method !== 'GET') throw new Refusal(403, 10000, 'Authentication error');

    if (!collection) {
      if (req.method !== 'GET') throw new Refusal(405, 7001, 'Method not allowed');
      return envelope(200, { id: zone.id, name: zone.name, status: 'active' });
    }
    if (recordId === undefined) {
      if (req.method === 'GET') return this.#list(zone, req.query);
      if (req.method === 'POST') return this.#create(zone, req);
      throw new Refusal(405, 7001, 'Method not allowed');
    }
    const existing = this.#records.get(recordId);
    if (!existing || existing.zone_id !== zone.id) throw new Refusal(404, 81044, 'Record does not exist.');
    switch (req.method) {
      case 'GET':
        return envelope(200, existing);
      case 'DELETE':
        this.#records.delete(recordId);
        return envelope(200, { id: recordId });
      case 'PUT':
        return this.#write(zone, existing, body(req) as Partial<RecordInput>);
      case 'PATCH':
        return this.#write(zone, existing, { ...existing, ...(body(req) as Partial<RecordInput>) });
      default:
        throw new Refusal(405, 7001, 'Method not allowed');
    }
  }

  #authenticate(req: FakeRequest): TokenScope {
    const token = bearerToken(req);
    if (token === undefined) {
      throw new Refusal(401, 10001, 'Unable to authenticate request');
    }
    const scope = this.#tokens.get(token);
    if (!scope) throw new Refusal(401, 1000, 'Invalid API Token');
    return scope;
  }

  #create(zone: FakeZone, req: FakeRequest): FakeReply {
    const record = this.#build(zone, undefined, body(req) as Partial<RecordInput>);
    this.#conflicts(record);
    this.#records.set(record.id, record);
    return envelope(200, record);
  }

  #write(zone: FakeZone, existing: FakeDnsRecord, input: Partial<RecordInput>): FakeReply {
    const record = this.#build(zone, existing, input);
    this.#conflicts(record);
    this.#records.set(record.id, record);
    return envelope(200, record);
  }

  /** A validated record from a request body, as Cloudflare would store it. */
  #build(zone: FakeZone, existing: FakeDnsRecord | undefined, input: Partial<RecordInput>): FakeDnsRecord {
    const type = input.type;
    if (typeof type !== 'string' || !(RECORD_TYPES as readonly string[]).includes(type)) {
      throw new Refusal(400, 9008, 'Invalid DNS record type');
    }
    const name = normalizeName(input.name, zone.name);
    if (name === undefined) throw new Refusal(400, 9000, 'DNS name is invalid.');
    const content = typeof input.content === 'string' ? input.content.trim() : '';
    validateContent(type as RecordType, name, content);
    const ttl = input.ttl ?? 1;
    if (!Number.isInteger(ttl) || (ttl !== 1 && (ttl < 60 || ttl > 86400))) {
      throw new Refusal(400, 9021, 'Invalid TTL. Must be between 60 and 86400, or 1 for automatic.');
    }
    const proxied = input.proxied ?? false;
    if (typeof proxied !== 'boolean')
      throw new Refusal(400, 9003, 'Invalid proxied value; expected a boolean.');
    if (proxied && !PROXIABLE.has(type)) throw new Refusal(400, 9004, 'This record type cannot be proxied.');
    const comment = input.comment ?? null;
    if (comment !== null && typeof comment !== 'string') {
      throw new Refusal(400, 9101, 'Invalid comment; expected a string.');
    }
    if (comment !== null && comment.length > this.#commentLimit) {
      throw new Refusal(
        400,
        9102,
        `DNS record has ${comment.length} characters in comment, exceeds limit of ${this.#commentLimit}`,
      );
    }
    const now = new Date().toISOString();
    const commentChanged = comment !== (existing?.comment ?? null);
    return {
      id: existing?.id ?? newId(),
      zone_id: zone.id,
      zone_name: zone.name,
      name,
      type: type as RecordType,
      content: type === 'CNAME' ? content.toLowerCase().replace(/\.$/, '') : content,
      proxiable: PROXIABLE.has(type),
      proxied,
      ttl,
      settings: {},
      meta: {},
      comment,
      tags: [],
      created_on: existing?.created_on ?? now,
      modified_on: now,
      ...(comment !== null && {
        comment_modified_on: commentChanged ? now : (existing?.comment_modified_on ?? now),
      }),
    };
  }

  /** Cloudflare's rules on records sharing a name. */
  #conflicts(record: FakeDnsRecord): void {
    for (const other of this.#records.values()) {
      if (other.id === record.id || other.zone_id !== record.zone_id || other.name !== record.name) continue;
      if (other.type === record.type && other.content === record.content) {
        throw new Refusal(400, 81057, 'Record already exists.');
      }
      if (record.type === 'CNAME' && (PROXIABLE.has(other.type) || other.type === 'NS')) {
        throw new Refusal(400, 81053, 'An A, AAAA, or CNAME record with that host already exists.');
      }
      if (ADDRESS_TYPES.has(record.type) && other.type === 'CNAME') {
        throw new Refusal(400, 81054, 'A CNAME record with that host already exists.');
      }
    }
  }

  #list(zone: FakeZone, query: URLSearchParams): FakeReply {
    const page = intParam(query, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
    const perPage = intParam(query, 'per_page', 100, 5, 5_000_000);
    const filters = recordFilters(query);
    const matchAny = query.get('match') === 'any';
    const all = [...this.#records.values()].filter(
      (r) =>
        r.zone_id === zone.id &&
        (filters.length === 0 || (matchAny ? filters.some((f) => f(r)) : filters.every((f) => f(r)))),
    );
    const sorted = sortRecords(all, query.get('order'), query.get('direction') === 'desc');
    const items = sorted.slice((page - 1) * perPage, page * perPage);
    return envelope(200, items, {
      page,
      per_page: perPage,
      count: items.length,
      total_count: sorted.length,
      total_pages: Math.ceil(sorted.length / perPage),
    });
  }
}

function body(req: FakeRequest): object {
  const parsed = jsonBody(req);
  if (parsed instanceof Error || typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Refusal(400, 9207, 'Request body is invalid.');
  }
  return parsed;
}

/** The fully qualified, lower-case name; undefined when it is not a valid name inside the zone. */
function normalizeName(name: unknown, zone: string): string | undefined {
  if (typeof name !== 'string') return undefined;
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  const fqdn = n === '@' ? zone : n;
  if (fqdn.length > 253 || !HOST.test(fqdn)) return undefined;
  return fqdn === zone || fqdn.endsWith(`.${zone}`) ? fqdn : undefined;
}

function validateContent(type: RecordType, name: string, content: string): void {
  const bad = (message: string) => new Refusal(400, 9005, message);
  if (content === '') throw bad('Content is required.');
  if (type === 'A' && !isIPv4(content)) throw bad('Content for A record must be a valid IPv4 address.');
  if (type === 'AAAA' && !isIPv6(content)) throw bad('Content for AAAA record must be a valid IPv6 address.');
  if (type === 'CNAME' || type === 'NS' || type === 'MX') {
    const host = content.toLowerCase().replace(/\.$/, '');
    if (!HOST.test(host)) throw bad(`Content for ${type} record is invalid.`);
    if (type === 'CNAME' && host === name)
      throw new Refusal(400, 9039, 'CNAME content cannot reference itself.');
  }
}

type Filter = (r: FakeDnsRecord) => boolean;

/** name, content and comment filters (plain, .exact, .contains, .startswith, .endswith), type, proxied. */
function recordFilters(query: URLSearchParams): Filter[] {
  const filters: Filter[] = [];
  const text = (r: FakeDnsRecord, field: 'name' | 'content' | 'comment') => (r[field] ?? '').toLowerCase();
  for (const field of ['name', 'content', 'comment'] as const) {
    for (const [op, test] of [
      ['', (a: string, b: string) => a === b],
      ['.exact', (a: string, b: string) => a === b],
      ['.contains', (a: string, b: string) => a.includes(b)],
      ['.startswith', (a: string, b: string) => a.startsWith(b)],
      ['.endswith', (a: string, b: string) => a.endsWith(b)],
    ] as const) {
      const value = query.get(`${field}${op}`);
      if (value !== null) filters.push((r) => r[field] !== null && test(text(r, field), value.toLowerCase()));
    }
  }
  if (query.has('comment.present')) filters.push((r) => r.comment !== null && r.comment !== '');
  if (query.has('comment.absent')) filters.push((r) => r.comment === null || r.comment === '');
  const type = query.get('type');
  if (type !== null) filters.push((r) => r.type === type);
  const proxied = query.get('proxied');
  if (proxied !== null) filters.push((r) => String(r.proxied) === proxied);
  return filters;
}

function sortRecords(records: FakeDnsRecord[], order?: string | null, desc = false): FakeDnsRecord[] {
  const key = (r: FakeDnsRecord) =>
    order === 'type' || order === 'content' || order === 'ttl' || order === 'proxied'
      ? `${String(r[order]).padStart(order === 'ttl' ? 6 : 0, '0')}\u0000${r.name}`
      : `${r.name}\u0000${r.type}\u0000${r.created_on}\u0000${r.id}`;
  const sorted = records.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return desc ? sorted.reverse() : sorted;
}

function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Refusal(400, 1004, `${name} must be an integer between ${min} and ${max}`);
  }
  return n;
}
