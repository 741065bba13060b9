// Objects as read from the API server: the kinds' schemas applied to what informers and reads
// receive, so that every default is filled in once, here, and nothing downstream writes it again.
import { z } from 'zod';
import { objectMeta } from './common.ts';

const ownerReference = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    name: z.string(),
    uid: z.string(),
    controller: z.boolean().optional(),
    blockOwnerDeletion: z.boolean().optional(),
  })
  .loose();

/**
 * Metadata of a namespaced object read from the API server: it always has a name, a namespace
 * and a uid. The fields controllers read are typed; the rest (managedFields, …) is kept as is.
 */
export const liveMeta = objectMeta.extend({
  name: z.string(),
  namespace: z.string(),
  uid: z.string(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(ownerReference).optional(),
});

/** liveMeta of a kind whose readers rely on its creation time. */
export const createdMeta = liveMeta.extend({ creationTimestamp: z.string() });

/**
 * Parses what the API server sent with `schema`: validated, with the schema's defaults filled in,
 * and whatever the schema does not know kept as it came (fields of a newer CRD, metadata nobody
 * reads), so that a parsed object loses nothing a later write could then drop. Throws a ZodError
 * when the object does not fit (an informer skips it).
 */
export function liveParser<S extends z.ZodType>(schema: S): (obj: unknown) => z.output<S> {
  return (obj) => keepUnknown(schema.parse(obj), obj);
}

/** Copies into `parsed` (in place: zod's output is a fresh object) what it lacks of `raw`, at every depth. */
function keepUnknown<T>(parsed: T, raw: unknown): T {
  if (Array.isArray(parsed) && Array.isArray(raw)) {
    for (const [i, item] of parsed.entries()) keepUnknown(item, raw[i]);
  } else if (isRecord(parsed) && isRecord(raw)) {
    const target: Record<string, unknown> = parsed;
    for (const [key, value] of Object.entries(raw)) {
      if (key in target) keepUnknown(target[key], value);
      else target[key] = value;
    }
  }
  return parsed;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
