// Who is calling: the API key from `Authorization: Bearer` or `X-API-Key`, checked against the
// key store, its expiry and its client CIDRs. Anything wrong is a 401 that does not say which
// part failed for unknown keys, but does for known ones (expired, wrong address).

import { HttpError } from '../http/errors.ts';
import type { ApiKey } from '../keys/api-key.ts';
import { addressAllowed } from '../keys/api-key.ts';
import type { KeyStore } from '../keys/key-store.ts';

export interface Principal {
  key: ApiKey;
  address: string;
}

/** The key a request presents, if any. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (match) return match[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : undefined;
}

const unauthenticated = (message: string) =>
  new HttpError(401, message, undefined, { 'www-authenticate': 'Bearer realm="rdev"' });

export function authenticate(
  store: KeyStore,
  headers: Record<string, string | string[] | undefined>,
  address: string,
  now = new Date(),
): Principal {
  const presented = presentedKey(headers);
  if (!presented) throw unauthenticated('an API key is required: Authorization: Bearer <key> or X-API-Key');
  const key = store.find(presented);
  if (!key) throw unauthenticated('the API key is not valid');
  // A key whose creator (or its creator's creator…) was revoked is revoked with it, even while its
  // own Secret still exists (a cascade interrupted half-way leaves no live key behind).
  if (!store.standing(key))
    throw unauthenticated(`the API key ${key.id} was revoked with the key that made it`);
  if (key.expiresAt && Date.parse(key.expiresAt) <= now.getTime()) {
    throw unauthenticated(`the API key ${key.id} expired at ${key.expiresAt}`);
  }
  if (!addressAllowed(key.cidrs, address)) {
    throw unauthenticated(`the API key ${key.id} is not accepted from ${address}`);
  }
  return { key, address };
}
