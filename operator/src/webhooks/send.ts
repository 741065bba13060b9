// One delivery attempt: a signed POST with a timeout, judged by policy.ts. Credentials in the
// subscriber's URL travel as Basic authentication and never appear in the result, which is
// logged and recorded on the Secret. The host is resolved here and every address checked against
// the blocked ranges (shared/webhook-targets.ts); the request then connects to the address that
// was checked (a custom lookup: no second resolution a rebinding DNS server could answer
// differently), with the host name kept for the Host header and TLS (SNI, certificate check).
// Redirects are never followed.
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { field, stringField } from '../shared/fields.ts';
import { REFUSED_BLOCKED, WebhookTargets } from '../shared/webhook-targets.ts';
import { ATTEMPT_TIMEOUT_MS, type Verdict, verdictOf } from './policy.ts';
import { sign } from './signature.ts';

export interface Attempt {
  verdict: Verdict;
  status?: number;
  error?: string;
}

export interface Outgoing {
  id: string;
  type: string;
  /** The raw JSON body; signed as sent. */
  body: string;
}

export interface SendOptions {
  /** Aborts the attempt early (shutdown, lost leadership). */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Unix seconds of the attempt (x-rdev-timestamp). */
  now?: () => number;
  /** Where webhooks may go (default: every blocked range refused, nothing allowed). */
  targets?: WebhookTargets;
  /** Resolves a host name to its addresses (default: the system resolver, every address). */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

const DEFAULT_TARGETS = new WebhookTargets();
const systemResolve = (host: string) => dnsLookup(host, { all: true, verbatim: true });

/** A lookup that answers with the one address already checked, whatever it is asked. */
function pinned(address: string, family: number): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

/** POSTs `outgoing` to `url`, signed with `secret`; never throws. */
export async function sendOnce(
  url: string,
  secret: string,
  outgoing: Outgoing,
  options: SendOptions = {},
): Promise<Attempt> {
  const target = URL.parse(url);
  if (!target || (target.protocol !== 'http:' && target.protocol !== 'https:'))
    return { verdict: 'failed', error: 'invalid URL' };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'rdev-operator',
    'x-rdev-event': outgoing.type,
    'x-rdev-delivery': outgoing.id,
  };
  if (target.username || target.password) {
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const timestamp = String(options.now?.() ?? Math.floor(Date.now() / 1000));
  headers['x-rdev-timestamp'] = timestamp;
  headers['x-rdev-signature'] = sign(secret, timestamp, outgoing.body);
  headers['content-length'] = String(Buffer.byteLength(outgoing.body));

  const timeoutMs = options.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const targets = options.targets ?? DEFAULT_TARGETS;
  const host = target.hostname.replace(/^\[|\]$/g, '');
  try {
    // Every address the name has must be allowed: which one a client picks is not ours to say.
    const addresses =
      isIP(host) !== 0
        ? [{ address: host, family: isIP(host) }]
        : await (options.resolve ?? systemResolve)(host);
    const first = addresses[0];
    if (!first || addresses.some((a) => !targets.allows(a.address)))
      return { verdict: 'failed', error: REFUSED_BLOCKED };
    const status = await post(target, host, first, headers, outgoing.body, signal);
    const verdict = verdictOf(status);
    return verdict === 'delivered' ? { verdict, status } : { verdict, status, error: `HTTP ${status}` };
  } catch (err) {
    const error = timeout.aborted ? `timed out after ${timeoutMs / 1000}s` : describe(err);
    return { verdict: 'retry', error };
  }
}

/** POSTs `body` to `target` over a connection to `address`; resolves to the answer's status. */
function post(
  target: URL,
  host: string,
  address: { address: string; family: number },
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<number> {
  const https = target.protocol === 'https:';
  return new Promise<number>((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      {
        method: 'POST',
        hostname: host,
        port: target.port || (https ? 443 : 80),
        path: `${target.pathname}${target.search}`,
        headers,
        lookup: pinned(address.address, address.family),
        // TLS: the name is what the certificate must carry (an IP literal has no SNI).
        ...(https && isIP(host) === 0 ? { servername: host } : {}),
        // A fresh connection per attempt: a pooled one may lead to an address checked long ago.
        agent: false,
        signal,
      },
      (response: IncomingMessage) => {
        // The answer's body is not read; dropping it frees the connection.
        response.resume();
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A network error's short cause (ECONNREFUSED, ENOTFOUND…), with any URL in it blanked out. */
function describe(err: unknown): string {
  const cause = field(err, 'cause');
  const code = stringField(err, 'code') ?? stringField(cause, 'code');
  if (code !== undefined && code !== 'ABORT_ERR') return code;
  const message = stringField(cause, 'message') ?? (err instanceof Error ? err.message : '');
  return message.replace(/\S+:\/\/\S*/g, '<url>').slice(0, 200) || 'network error';
}
