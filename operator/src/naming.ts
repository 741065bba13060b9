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
