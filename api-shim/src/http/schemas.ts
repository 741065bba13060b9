// JSON Schemas of the API's zod schemas, as strict as the shim's validation: objects refuse the
// keys they do not declare (validate() reports every key a parse dropped), set-like arrays have
// unique items (validate() refuses duplicates), and refinements JSON Schema cannot say are listed
// as `x-rdev-rules`. Schemas registered with named() become shared components
// (#/components/schemas/<name>) that every use refers to instead of repeating them.
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

const names = z.registry<{ name: string }>();

/** Registers `schema` as the component `name`: documents refer to it rather than repeat it. */
export function named<T extends z.ZodType>(name: string, schema: T): T {
  names.add(schema, { name });
  return schema;
}

/** An array whose items are a set: duplicates are refused (JSON Schema's uniqueItems). */
export const setOf = <T extends z.ZodType>(item: T) => z.array(item).meta({ uniqueItems: true });

/**
 * Whether metadata marks an array as a set: uniqueItems, or the CRD's list type `set` (the API
 * server refuses duplicates in those).
 */
export const marksSet = (meta: Record<string, unknown> | undefined): boolean =>
  meta?.uniqueItems === true || meta?.['x-kubernetes-list-type'] === 'set';

/** The messages of a schema's refinements (zod checks JSON Schema cannot express). */
function refinements(schema: z.ZodType): string[] {
  const messages: string[] = [];
  for (const check of schema._zod.def.checks ?? []) {
    const def = check._zod.def as { check: string; error?: (issue?: unknown) => unknown };
    if (def.check !== 'custom') continue;
    const message = def.error?.();
    if (typeof message === 'string') messages.push(message);
  }
  return messages;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const INPUT_SUFFIX = 'Input';

/**
 * Turns zod schemas into JSON Schemas that share components: one per named() schema and
 * direction (what is accepted, `input`, can differ from what is answered, `output`: defaults).
 */
export class SchemaSet {
  private readonly byIo: Record<Io, Map<string, JsonSchema>> = { input: new Map(), output: new Map() };

  /** The JSON Schema of `schema` as accepted (`input`) or as answered (`output`). */
  json(schema: z.ZodType, io: Io): JsonSchema {
    const components = this.byIo[io];
    const {
      $schema: _drop,
      $defs,
      ...rest
    } = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      target: 'draft-2020-12',
      override: ({ zodSchema, jsonSchema: json }) => {
        const type = zodSchema._zod.def.type;
        // Unknown keys are refused, not dropped: a loose object (a catchall) keeps them.
        if (type === 'object' && !('catchall' in zodSchema._zod.def && zodSchema._zod.def.catchall)) {
          json.additionalProperties ??= false;
        }
        if (json.type === 'array' && marksSet(json)) json.uniqueItems = true;
        const cel = new Set(
          ((json['x-kubernetes-validations'] as { message: string }[] | undefined) ?? []).map(
            (r) => r.message,
          ),
        );
        const rules = refinements(zodSchema as unknown as z.ZodType).filter((m) => !cel.has(m));
        if (rules.length) json['x-rdev-rules'] = rules;
        const name = names.get(zodSchema as unknown as z.ZodType)?.name;
        if (!name) return;
        const copy = structuredClone(json) as JsonSchema;
        const known = components.get(name);
        if (known && JSON.stringify(known) !== JSON.stringify(copy)) {
          throw new Error(`two different schemas are named ${name}`);
        }
        components.set(name, copy);
        for (const key of Object.keys(json)) delete (json as JsonSchema)[key];
        Object.assign(json, ref(io === 'input' ? `${name}${INPUT_SUFFIX}` : name));
      },
    });
    // A recursive schema would need its $defs hoisted too; the API has none.
    if ($defs) throw new Error('a schema with $defs: name its recursive part with named()');
    return rest;
  }

  /**
   * The shared components, and the renaming to apply to the document's references: an input
   * component equal to its output twin is that twin (`XInput` refers to `X`).
   */
  components(): { schemas: Record<string, JsonSchema>; rename: Map<string, string> } {
    const schemas: Record<string, JsonSchema> = {};
    const rename = new Map<string, string>();
    for (const [name, schema] of this.byIo.output) schemas[name] = schema;
    for (const [name, schema] of this.byIo.input) {
      const twin = this.byIo.output.get(name);
      if (twin && JSON.stringify(twin) === JSON.stringify(schema)) {
        rename.set(ref(`${name}${INPUT_SUFFIX}`).$ref, ref(name).$ref);
      } else {
        schemas[`${name}${INPUT_SUFFIX}`] = schema;
      }
    }
    return { schemas, rename };
  }
}

/** Rewrites every $ref of `node` that `rename` maps, in place. */
export function renameRefs(node: unknown, rename: Map<string, string>): void {
  if (Array.isArray(node)) {
    for (const item of node) renameRefs(item, rename);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (key === '$ref' && typeof value === 'string') record[key] = rename.get(value) ?? value;
    else renameRefs(value, rename);
  }
}
