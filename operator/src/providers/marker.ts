// The mark rdev leaves on what it creates outside the cluster (a DNS record's comment, a
// repository's description), naming the Project that owns it: namespace, name and uid, so that a
// Project recreated under the same name is another owner. Finding its own things by this mark is
// what lets an interrupted create be adopted, and what keeps rdev off everything else.

import type { KubeObject } from '../runtime/client.ts';
import { shortHash } from '../shared/naming.ts';

/** Cloudflare's limit on a record's comment on the Free plan (paid plans allow more). */
export const COMMENT_LIMIT = 100;

/** The Project's mark; when too long for a comment, a hash of all three keeps it unique. */
export function ownerMarker(owner: Pick<KubeObject, 'metadata'>): string {
  const { namespace, name, uid } = owner.metadata;
  const full = `rdev:${namespace}/${name} uid=${uid}`;
  if (full.length <= COMMENT_LIMIT) return full;
  const hash = shortHash(`${namespace}/${name}/${uid}`, 16);
  const readable = `rdev:${namespace}/${name}`.slice(0, COMMENT_LIMIT - hash.length - 2);
  return `${readable} #${hash}`;
}
