// One delivery attempt: a signed POST with a timeout, judged by policy.ts. Credentials in the
// subscriber's URL travel as Basic authentication (fetch refuses them in the URL) and never
// appear in the result, which is logged and recorded on the Secret.
import { field, stringField } from '../shared/fields.ts';
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
}

/** POSTs `outgoing` to `url`, signed with `secret`; never throws. */
export async function sendOnce(
  url: string,
  secret: string,
  outgoing: Outgoing,
  options: SendOptions = {},
): Promise<Attempt> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { verdict: 'failed', error: 'invalid URL' };
  }
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
    target.username = '';
    target.password = '';
  }
  const timestamp = String(options.now?.() ?? Math.floor(Date.now() / 1000));
  headers['x-rdev-timestamp'] = timestamp;
  headers['x-rdev-signature'] = sign(secret, timestamp, outgoing.body);

  const timeoutMs = options.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await fetch(target, {
      method: 'POST',
      headers,
      body: outgoing.body,
      redirect: 'manual',
      signal,
    });
    // The answer's body is not read; cancelling it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    const verdict = verdictOf(response.status);
    return verdict === 'delivered'
      ? { verdict, status: response.status }
      : { verdict, status: response.status, error: `HTTP ${response.status}` };
  } catch (err) {
    const error = timeout.aborted ? `timed out after ${timeoutMs / 1000}s` : describe(err);
    return { verdict: 'retry', error };
  }
}

/** A network error's short cause (ECONNREFUSED, ENOTFOUND…), with any URL in it blanked out. */
function describe(err: unknown): string {
  const cause = field(err, 'cause');
  const code = stringField(cause, 'code');
  if (code !== undefined) return code;
  const message = stringField(cause, 'message') ?? (err instanceof Error ? err.message : '');
  return message.replace(/\S+:\/\/\S*/g, '<url>').slice(0, 200) || 'network error';
}
