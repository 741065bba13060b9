// Paged lists, Kubernetes style: ?limit= caps a page, and the answer's meta.continue (an opaque
// token: the last key served) asks for the next one. Without a limit a list comes whole.
import { z } from 'zod';
import { invalid } from './errors.ts';

/** What a list handler returns: the items of this page, and the token of the next, if any. */
export class Page<T> {
  readonly items: T[];
  readonly next: string | undefined;

  constructor(items: T[], next?: string) {
    this.items = items;
    this.next = next;
  }
}

export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('most items in one answer (default: all)'),
  continue: z.string().max(1024).optional().describe('meta.continue of the previous page'),
};

const encode = (key: string) => Buffer.from(key, 'utf8').toString('base64url');

function decode(token: string): string {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  if (!key || encode(key) !== token) {
    throw invalid('query.continue: not a token this API gave', [
      { path: 'query.continue', message: 'not a token this API gave' },
    ]);
  }
  return key;
}

/** One page of `items`, which are sorted by `keyOf` (pure). */
export function paginate<T>(
  items: T[],
  keyOf: (item: T) => string,
  query: { limit?: number; continue?: string },
): { items: T[]; next?: string } {
  const after = query.continue === undefined ? undefined : decode(query.continue);
  const rest = after === undefined ? items : items.filter((i) => keyOf(i) > after);
  if (query.limit === undefined || rest.length <= query.limit) return { items: rest };
  const page = rest.slice(0, query.limit);
  const last = page.at(-1);
  return last === undefined ? { items: page } : { items: page, next: encode(keyOf(last)) };
}
