// Webhook signatures: x-rdev-signature is "sha256=" + hex HMAC-SHA256(secret, "<timestamp>.<raw
// body>"). Signing the timestamp with the body lets a receiver reject replays of an old delivery;
// comparing in constant time keeps the signature from leaking byte by byte. Receivers import
// verifySignature; nothing here does I/O.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_PREFIX = 'sha256=';
/** How old a timestamp verifySignature accepts by default (and how far in the future). */
export const DEFAULT_MAX_AGE_SECONDS = 300;

/** The x-rdev-signature value for `body` sent at `timestamp` (unix seconds). */
export function sign(secret: string, timestamp: number | string, body: string): string {
  return SIGNATURE_PREFIX + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export interface VerifyOptions {
  maxAgeSeconds?: number;
  /** Unix seconds; defaults to the current time. */
  now?: number;
}

/**
 * True when `header` signs `body` at `timestamp` (the x-rdev-timestamp header) with `secret` and
 * the timestamp is within maxAgeSeconds of now.
 */
export function verifySignature(
  secret: string,
  timestamp: string | number | undefined,
  body: string,
  header: string | undefined,
  options: VerifyOptions = {},
): boolean {
  if (timestamp === undefined || header === undefined) return false;
  const ts = String(timestamp);
  if (!/^\d{1,12}$/.test(ts)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(ts)) > (options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS)) return false;
  const expected = Buffer.from(sign(secret, ts, body));
  const given = Buffer.from(header);
  // timingSafeEqual needs equal lengths; a length mismatch reveals nothing about the secret.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
