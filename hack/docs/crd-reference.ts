// docs/crds.md: every field of the four kinds with its type, default, bounds and description,
// walked from the generated CRDs (the descriptions `kubectl explain` shows).
import { crdFor } from '../../operator/src/api/crd.ts';
import { KINDS } from '../../operator/src/api/v1alpha1/index.ts';

type Schema = {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  'x-kubernetes-validations'?: { message: string }[];
};

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s: Schema): string {
  if (s.type === 'array') return `[]${s.items ? typeOf(s.items) : ''}`;
  if (s.type === 'object' && s.additionalProperties) return `map[string]${typeOf(s.additionalProperties)}`;
  return s.type ?? 'int-or-string';
}

function notes(s: Schema): string {
  const parts: string[] = [];
  if (s.enum) parts.push(`one of ${s.enum.map((e) => `\`${String(e)}\``).join(', ')}`);
  if (s.default !== undefined) parts.push(`default \`${JSON.stringify(s.default)}\``);
  if (s.minimum !== undefined || s.maximum !== undefined)
    parts.push(`${s.minimum ?? ''}..${s.maximum ?? ''}`);
  if (s.maxLength !== undefined) parts.push(`at most ${s.maxLength} characters`);
  if (s.maxItems !== undefined) parts.push(`at most ${s.maxItems} items`);
  for (const rule of s['x-kubernetes-validations'] ?? []) parts.push(rule.message);
  return parts.join('; ');
}

function rows(s: Schema, path: string, required: boolean): string[] {
  const own = `| \`${path}\` | ${typeOf(s)}${required ? ' (required)' : ''} | ${cell(s.description ?? '')} | ${cell(notes(s))} |`;
  const children = Object.entries(s.properties ?? {}).flatMap(([name, child]) =>
    rows(child, `${path}.${name}`, (s.required ?? []).includes(name)),
  );
  const items =
    s.type === 'array' && s.items?.properties
      ? Object.entries(s.items.properties).flatMap(([name, child]) =>
          rows(child, `${path}[].${name}`, (s.items?.required ?? []).includes(name)),
        )
      : [];
  return [own, ...children, ...items];
}

export function crdReference(): string {
  const sections = KINDS.map((def) => {
    const crd = crdFor(def) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
    const root = crd.spec.versions[0]?.schema.openAPIV3Schema as Schema;
    const body = ['spec', 'status'].flatMap((part) => {
      const s = root.properties?.[part];
      return s ? rows(s, part, false) : [];
    });
    return `## ${def.kind}

${def.description}

\`kubectl get ${def.plural}\` (short: ${def.shortNames.map((n) => `\`${n}\``).join(', ')}).

| field | type | description | default, bounds, rules |
|---|---|---|---|
${body.join('\n')}`;
  });
  return `# CRD reference (rdev.dev/v1alpha1)

Generated from the zod schemas in operator/src/api/v1alpha1 by \`make docs\`; do not edit.
\`kubectl explain <kind>.spec\` shows the same descriptions.

${sections.join('\n\n')}
`;
}
