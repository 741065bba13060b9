// --allowed-images: which container images a Project's workspace (and so its runners and
// dedicated Session Pods) may run. The operator refuses to run others; the shim refuses Projects
// that name them. A pure matcher, shared by both.

/** The parts of an image reference: `registry/path[:tag][@digest]`, Docker Hub names spelled out. */
export interface ImageRef {
  /** Registry and path, e.g. `ghcr.io/rdev-dev/workspace`, `docker.io/library/nginx`. */
  repository: string;
  tag?: string;
  digest?: string;
}

// The reference grammar of the distribution spec, loosely: a registry host (with a port), path
// components of lower-case letters, digits and separators, an optional tag and digest.
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/** Whether the first path component names a registry rather than a Docker Hub namespace. */
const isRegistry = (first: string) => first.includes('.') || first.includes(':') || first === 'localhost';

/** Docker Hub's short names spelled out: `nginx` is `docker.io/library/nginx`. */
function fullName(name: string): string {
  const parts = name.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && isRegistry(first)) {
    return first === 'index.docker.io' ? `docker.io/${parts.slice(1).join('/')}` : name;
  }
  return parts.length === 1 ? `docker.io/library/${name}` : `docker.io/${name}`;
}

/** An image reference's parts; undefined when it is not a valid reference. */
export function parseImage(image: string): ImageRef | undefined {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const named = at >= 0 ? image.slice(0, at) : image;
  if (digest !== undefined && !DIGEST.test(digest)) return undefined;
  // A tag follows the last colon after the last slash (a colon before it is the registry's port).
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const tag = hasTag ? named.slice(colon + 1) : undefined;
  const name = hasTag ? named.slice(0, colon) : named;
  if (tag !== undefined && !TAG.test(tag)) return undefined;
  const repository = fullName(name);
  const [host = '', ...path] = repository.split('/');
  if (!HOST.test(host) || path.length === 0 || !path.every((c) => COMPONENT.test(c))) return undefined;
  return { repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The reference as written out in full: `repository[:tag][@digest]`. */
const spelled = (ref: ImageRef) =>
  `${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;

/** A pattern as a regular expression over full references; `*` matches any run of characters. */
function patternRegExp(pattern: string): RegExp {
  const first = pattern.split('/')[0] ?? '';
  // Docker Hub short names in patterns are spelled out like images, unless the pattern starts
  // with a wildcard or its registry has one.
  const wildHost = pattern.startsWith('*') || (pattern.includes('/') && first.includes('*'));
  const full = wildHost ? pattern : fullName(pattern);
  const source = full
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

/** Whether `pattern` is usable in --allowed-images: non-empty, without spaces. */
export const isImagePattern = (pattern: string): boolean => /^\S+$/.test(pattern);

/**
 * Whether `image` may run under `patterns` (empty: any image). A pattern matches the full
 * reference (`ghcr.io/rdev-dev/*`, `registry.local:5000/team/app:1.2`, `…@sha256:…`); a pattern
 * without a tag or digest also matches its repository at any tag or digest. A pattern with a tag
 * does not match the same tag pinned to a digest: the digest is what would run. Docker Hub short
 * names are spelled out on both sides (`nginx` is `docker.io/library/nginx`). An image that is not
 * a valid reference matches nothing.
 */
export function imageAllowed(image: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  const ref = parseImage(image);
  if (!ref) return false;
  const full = spelled(ref);
  return patterns.some((pattern) => {
    const re = patternRegExp(pattern);
    if (re.test(full)) return true;
    const parsed = parseImage(pattern);
    const untagged = parsed
      ? parsed.tag === undefined && parsed.digest === undefined
      : !/[:@][^/]*$/.test(pattern);
    return untagged && re.test(ref.repository);
  });
}
