// Names derived for objects and external systems: deterministic, bounded in length, and
// collision-free (a hash of the full name replaces what truncation cuts off).
import { createHash } from 'node:crypto';

export const shortHash = (text: string, length = 8) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * `${base}-${suffix}` if it fits in `max` characters; otherwise base truncated, then a hash of
 * the full name, then the suffix. Two different inputs never share a truncated name (barring a
 * hash collision), and the same input always yields the same name.
 */
export function boundedName(base: string, suffix: string, max = 63): string {
  const full = `${base}-${suffix}`;
  if (full.length <= max) return full;
  const hash = shortHash(full);
  const keep = max - suffix.length - hash.length - 2;
  return `${base.slice(0, keep).replace(/-+$/, '')}-${hash}-${suffix}`;
}

/** A DNS-1035 label (what Service names must be): starts with a letter. */
export const dns1035 = (name: string) =>
  /^[a-z]/.test(name) ? name : `x-${name}`.slice(0, 63).replace(/-+$/, '');

/**
 * A name for an external system (database, role, Redis user) unique to namespace/project:
 * `<prefix>_<namespace>_<project>` reduced to [a-z0-9_], cut to fit `max`, always ending in a
 * hash of the exact namespace/project (so "a-b"/"c" and "a"/"b-c" never meet).
 */
export function externalName(prefix: string, namespace: string, project: string, max = 63): string {
  const hash = shortHash(`${namespace}/${project}`);
  const readable = `${prefix}_${namespace}_${project}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `${readable.slice(0, max - hash.length - 1).replace(/_+$/, '')}_${hash}`;
}
