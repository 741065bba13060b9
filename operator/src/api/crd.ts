// Generates CustomResourceDefinitions from the zod schemas of the API: zod's OpenAPI 3.0 output,
// reduced to the structural schema the API server accepts.
import { z } from 'zod';
import { GROUP, type KindDefinition, VERSION } from './v1alpha1/index.ts';

type Schema = { [key: string]: unknown };

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A nested schema (or map of them), which JSON Schema says is an object: anything else is a bug. */
function schemaOf(value: unknown): Schema {
  if (!isSchema(value)) throw new Error(`not a schema: ${JSON.stringify(value)?.slice(0, 200)}`);
  return value;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Keys a structural schema may carry (the API server rejects or ignores the rest). */
const KEEP = new Set([
  'type',
  'description',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'enum',
  'default',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'nullable',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
]);

/** Turns zod's JSON schema into a structural schema: known keys only, no unbounded noise. */
export function toStructural(node: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (!KEEP.has(key)) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(schemaOf(value)).map(([name, node]) => [name, toStructural(schemaOf(node))]),
      );
    } else if (key === 'items') {
      out.items = toStructural(schemaOf(value));
    } else if (key === 'additionalProperties') {
      // `false` (zod's strict objects) is the structural default; a schema is kept for maps.
      if (isSchema(value)) out.additionalProperties = toStructural(value);
    } else if ((key === 'minimum' && value === -MAX_SAFE) || (key === 'maximum' && value === MAX_SAFE)) {
      // zod bounds every int to the safe range; the API server's int64 needs no such bound.
    } else if (key === 'required' && Array.isArray(value) && value.length === 0) {
      // an empty list says nothing
    } else {
      out[key] = value;
    }
  }
  if (node.type === undefined && !out['x-kubernetes-int-or-string']) {
    throw new Error(`not structural, a schema without a type: ${JSON.stringify(node).slice(0, 200)}`);
  }
  return out;
}

function openAPISchema(schema: z.ZodType): Schema {
  return toStructural(
    z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'throw' }),
  );
}

/** The CustomResourceDefinition of one kind, as a plain object ready for YAML. */
export function crdFor(def: KindDefinition): Schema {
  const plural = def.plural;
  const spec = openAPISchema(def.spec);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'rdev' } },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['rdev'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          ...(def.selectableFields ? { selectableFields: def.selectableFields } : {}),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: def.description,
              // A spec with a default (every field optional) may be omitted altogether.
              ...(spec.default === undefined ? { required: ['spec'] } : {}),
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'APIVersion defines the versioned schema of this representation of an object.',
                },
                kind: {
                  type: 'string',
                  description: 'Kind is a string value representing the REST resource.',
                },
                metadata: { type: 'object' },
                spec,
                status: openAPISchema(def.status),
              },
              ...(def.rootRules ? { 'x-kubernetes-validations': def.rootRules } : {}),
            },
          },
        },
      ],
    },
  };
}
