// API keys: `rdev_<43 url-safe characters>` (256 random bits), shown once at creation. Only their
// SHA-256 is kept, in a Secret labelled rdev.dev/api-key in the shim's namespace, together with
// what the key may do. The Secret name carries the key's id, the only thing logs ever show.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { V1Secret } from '@kubernetes/client-node';
import type { Json, ObjectMeta } from '../../../operator/src/runtime/client.ts';
import type { Secret } from '../../../operator/src/runtime/resources.ts';
import { isScope, type Scope } from '../auth/scopes.ts';

export const API_KEY_LABEL = 'rdev.dev/api-key';
export const LAST_USED_ANNOTATION = 'rdev.dev/last-used-at';
export const KEY_PREFIX = 'rdev_';
const SECRET_PREFIX = 'rdev-key-';

export type SecretObject = Secret;

/** What a key is read from: a Secret's name, creation time, annotations and data. */
export interface KeySecret {
  metadata: Pick<ObjectMeta, 'name' | 'uid' | 'creationTimestamp' | 'annotations'>;
  data?: Record<string, string>;
}

export interface ApiKey {
  /** Short, public: names the Secret and appears in logs and annotations. */
  id: string;
  name: string;
  /** Hex SHA-256 of the key. */
  hash: string;
  scopes: Scope[];
  /** Namespaces the key reaches (empty: all). */
  namespaces: string[];
  /** Projects the key reaches (empty: all). */
  projects: string[];
  /** Client addresses the key is accepted from (empty: any). */
  cidrs: string[];
  expiresAt?: string;
  createdAt?: string;
  lastUsedAt?: string;
  createdBy?: string;
  /** The uid of the key's Secret: what the key makes (webhook subscriptions) is owned by it. */
  secretUid?: string;
}

export const generateKey = (): string => KEY_PREFIX + randomBytes(32).toString('base64url');
export const generateKeyId = (): string => randomBytes(6).toString('hex');
// One-shot: making a Hash object costs twice the hashing itself, and this runs on every request.
export const hashKey = (key: string): string => hash('sha256', key, 'hex');
export const keySecretName = (id: string): string => SECRET_PREFIX + id;

/** Equal hashes, compared in constant time. */
export function sameHash(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a, 'hex'), Buffer.from(b, 'hex')];
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) =>
  s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');

/** A valid CIDR (or a bare address, meaning that one address). */
export function isCidr(cidr: string): boolean {
  const [address, bits, ...rest] = cidr.split('/');
  if (!address || rest.length) return false;
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1;
  if (max < 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= max;
}

/** Whether `address` (as the socket reports it, IPv4-mapped IPv6 included) is in one of `cidrs`. */
export function addressAllowed(cidrs: readonly string[], address: string): boolean {
  if (cidrs.length === 0) return true;
  const ip = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) return false;
  const blocks = new BlockList();
  for (const cidr of cidrs) {
    const [net = '', bits] = cidr.split('/');
    const netFamily = isIPv4(net) ? 'ipv4' : 'ipv6';
    if (bits === undefined) blocks.addAddress(net, netFamily);
    else blocks.addSubnet(net, Number(bits), netFamily);
  }
  return blocks.check(ip, family);
}

/** Whether every address of `cidr` lies in one of `within` (a CIDR inside a wider one of its family). */
export function cidrWithin(within: readonly string[], cidr: string): boolean {
  const [address = '', bits] = cidr.split('/');
  const max = isIPv4(address) ? 32 : 128;
  const size = bits === undefined ? max : Number(bits);
  return within.some((outer) => {
    const [net = '', outerBits] = outer.split('/');
    if (isIPv4(net) !== isIPv4(address)) return false;
    // Networks nest: one no larger than `outer` that shares an address with it lies inside it.
    const outerSize = outerBits === undefined ? max : Number(outerBits);
    return size >= outerSize && addressAllowed([outer], address);
  });
}

/** The key a Secret describes, or why it describes none. */
export function apiKeyFromSecret(secret: KeySecret): ApiKey | { invalid: string } {
  const name = secret.metadata.name;
  if (!name.startsWith(SECRET_PREFIX)) return { invalid: `the name does not start with ${SECRET_PREFIX}` };
  const data = secret.data ?? {};
  const hash = unb64(data.hash)?.trim().toLowerCase() ?? '';
  if (!/^[0-9a-f]{64}$/.test(hash)) return { invalid: 'data.hash is not a hex SHA-256' };
  const listed = list(unb64(data.scopes));
  const unknown = listed.filter((s) => !isScope(s));
  if (unknown.length) return { invalid: `unknown scopes: ${unknown.join(', ')}` };
  const cidrs = list(unb64(data.cidrs));
  const badCidr = cidrs.find((c) => !isCidr(c));
  if (badCidr) return { invalid: `"${badCidr}" is not a CIDR` };
  const expiresAt = unb64(data.expiresAt)?.trim() || undefined;
  if (expiresAt && Number.isNaN(Date.parse(expiresAt))) return { invalid: 'data.expiresAt is not a date' };
  return {
    id: name.slice(SECRET_PREFIX.length),
    name: unb64(data.name) ?? name,
    hash,
    scopes: listed.filter(isScope),
    namespaces: list(unb64(data.namespaces)),
    projects: list(unb64(data.projects)),
    cidrs,
    expiresAt,
    createdAt: secret.metadata.creationTimestamp,
    lastUsedAt: secret.metadata.annotations?.[LAST_USED_ANNOTATION],
    createdBy: secret.metadata.annotations?.['rdev.dev/created-by-key'],
    ...(secret.metadata.uid ? { secretUid: secret.metadata.uid } : {}),
  };
}

/** The Secret that stores `key` (its hash, never the key itself). */
export function apiKeySecret(
  namespace: string,
  key: Omit<ApiKey, 'createdAt' | 'lastUsedAt' | 'secretUid'>,
): Json<V1Secret> & KeySecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: keySecretName(key.id),
      namespace,
      labels: { [API_KEY_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'rdev-shim' },
      annotations: key.createdBy ? { 'rdev.dev/created-by-key': key.createdBy } : {},
    },
    data: {
      name: b64(key.name),
      hash: b64(key.hash),
      scopes: b64(key.scopes.join(',')),
      namespaces: b64(key.namespaces.join(',')),
      projects: b64(key.projects.join(',')),
      cidrs: b64(key.cidrs.join(',')),
      ...(key.expiresAt ? { expiresAt: b64(key.expiresAt) } : {}),
    },
  };
}

/** What the API shows of a key: everything but its hash. */
export function publicKey(key: ApiKey) {
  const { hash: _hash, ...rest } = key;
  return rest;
}
