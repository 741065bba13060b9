// Building blocks shared by the kinds. Every field carries a description (it becomes the
// CRD's description, shown by `kubectl explain`) and bounds, so that the API server rejects bad
// input at admission and the controller never has to.
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration.ts';
import { parseQuantity, QUANTITY_PATTERN } from './quantity.ts';

export const GROUP = 'rdev.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A CEL validation rule, as the CRD's `x-kubernetes-validations` entry declares it. */
export interface CelRule {
  rule: string;
  message: string;
  /** Path of the field at fault, relative to the node carrying the rule (e.g. `.dns.aliases`). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

declare module 'zod' {
  interface GlobalMeta {
    /** CEL rules of the node, for the CRD (withRules puts them there). */
    'x-kubernetes-validations'?: CelRule[];
  }
}

/**
 * A CEL rule for the API server together with its JavaScript twin for zod, so that the shim and
 * the controller reject exactly what admission rejects. Transition rules (those reading
 * `oldSelf`) compare against a stored object and have no twin: `check` is omitted.
 */
export interface Rule<T> extends CelRule {
  check?: (value: T) => boolean;
}

/** Attaches rules to a schema: CEL in its metadata (for the CRD), refinements for zod. */
export function withRules<T extends z.ZodType>(schema: T, ...rules: Rule<z.output<T>>[]): T {
  let refined = schema;
  for (const { check, message, fieldPath } of rules) {
    if (!check) continue;
    const path = fieldPath ? fieldPath.replace(/^\./, '').split('.') : [];
    refined = refined.refine(check, { message, path });
  }
  const meta = schema.meta() ?? {};
  const existing = meta['x-kubernetes-validations'] ?? [];
  const cel = rules.map(({ check: _check, ...rule }) => rule);
  return refined.meta({ ...meta, 'x-kubernetes-validations': [...existing, ...cel] });
}

/** The field may be set once and never changed afterwards (a transition rule: no zod twin). */
export function immutable<T extends z.ZodType>(schema: T, what: string): T {
  return withRules(schema, { rule: 'self == oldSelf', message: `${what} is immutable` });
}

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const HOSTNAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** A DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters. */
export const dnsLabel = (description: string) =>
  z.string().min(1).max(63).regex(new RegExp(DNS_LABEL)).meta({ description });

/** A fully qualified host name of DNS-1123 labels. */
export const hostname = (description: string) =>
  z.string().min(1).max(253).regex(new RegExp(HOSTNAME)).meta({ description });

/** The name of an object in the same namespace (a DNS-1123 subdomain). */
export const objectName = (description: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/)
    .meta({ description });

/** A reference to a Project in the same namespace; it cannot be changed after creation. */
export const projectRef = () =>
  immutable(
    z
      .object({ name: dnsLabel('Name of the Project, in the same namespace.') })
      .meta({ description: 'The Project this belongs to, in the same namespace. Immutable.' }),
    'projectRef',
  );

/** A duration string ("30m", "2h", "1h30m") between `min` and `max`, both durations too. */
export function duration(description: string, bounds: { min: string; max: string }) {
  const [min, max] = [parseDuration(bounds.min), parseDuration(bounds.max)];
  return withRules(
    z
      .string()
      .max(32)
      .regex(new RegExp(DURATION_PATTERN))
      .meta({ description: `${description} A duration such as 30m, 2h or 1h30m (units ms, s, m, h).` }),
    {
      rule: `duration(self) >= duration('${bounds.min}') && duration(self) <= duration('${bounds.max}')`,
      message: `must be between ${bounds.min} and ${bounds.max}`,
      check: (v) => {
        const ms = parseDuration(v);
        return ms === undefined || (min !== undefined && max !== undefined && ms >= min && ms <= max);
      },
    },
  );
}

/** A resource quantity ("10Gi", "500m"); with bounds when given (compared as CEL quantities). */
export function quantity(description: string, bounds?: { min: string; max: string }) {
  const base = z.string().max(64).regex(new RegExp(QUANTITY_PATTERN)).meta({ description });
  if (!bounds) return base;
  const [min, max] = [parseQuantity(bounds.min), parseQuantity(bounds.max)];
  return withRules(base, {
    rule: `isQuantity(self) && quantity(self).compareTo(quantity('${bounds.min}')) >= 0 && quantity(self).compareTo(quantity('${bounds.max}')) <= 0`,
    message: `must be a quantity between ${bounds.min} and ${bounds.max}`,
    check: (v) => {
      const q = parseQuantity(v);
      return q !== undefined && min !== undefined && max !== undefined && q >= min && q <= max;
    },
  });
}

export const secretKeySelector = () =>
  z
    .object({
      name: objectName('Name of the Secret.'),
      key: z
        .string()
        .min(1)
        .max(253)
        .regex(/^[-._a-zA-Z0-9]+$/)
        .meta({ description: 'Key within the Secret.' }),
      optional: z.boolean().optional().meta({ description: 'Whether a missing Secret or key is allowed.' }),
    })
    .meta({ description: 'Selects a key of a Secret in the same namespace.' });

const envVar = z
  .object({
    name: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/)
      .meta({ description: 'Name of the environment variable.' }),
    value: z.string().max(32768).optional().meta({ description: 'Literal value.' }),
    valueFrom: z
      .object({
        secretKeyRef: secretKeySelector().optional(),
        configMapKeyRef: secretKeySelector()
          .optional()
          .meta({ description: 'Selects a key of a ConfigMap in the same namespace.' }),
      })
      .optional()
      .meta({ description: 'Takes the value from a Secret or ConfigMap key instead of a literal.' }),
  })
  .meta({ description: 'An environment variable (the same shape as a container env entry).' });

const exclusiveEnvVar = withRules(envVar, {
  rule: '!(has(self.value) && has(self.valueFrom))',
  message: 'value and valueFrom are mutually exclusive',
  check: (e) => !(e.value !== undefined && e.valueFrom !== undefined),
});

// Note: .meta() replaces a schema's metadata, so withRules() always comes after it.
export const envList = (description: string) =>
  withRules(z.array(exclusiveEnvVar).max(64).meta({ description }), {
    rule: 'self.all(e, self.exists_one(f, f.name == e.name))',
    message: 'environment variable names must be unique',
    check: (list) => new Set(list.map((e) => e.name)).size === list.length,
  });

const resourceList = (description: string) =>
  z
    .object({
      cpu: quantity('CPU, in cores or millicores (e.g. 500m).', { min: '1m', max: '256' }).optional(),
      memory: quantity('Memory, in bytes (e.g. 2Gi).', { min: '16Mi', max: '1Ti' }).optional(),
      'ephemeral-storage': quantity('Scratch disk space (e.g. 1Gi).', { min: '1Mi', max: '10Ti' }).optional(),
    })
    .meta({ description });

export const resourceRequirements = () =>
  z
    .object({
      requests: resourceList('Resources the workspace is guaranteed.').optional(),
      limits: resourceList('Most resources the workspace may use.').optional(),
    })
    .meta({ description: 'Compute resources of the container, as in a Pod.' });

/** The metav1.Condition shape (Kubernetes API conventions). */
export const condition = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
      )
      .meta({ description: 'Type of condition in CamelCase, e.g. Ready.' }),
    status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'Status of the condition.' }),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'The .metadata.generation the condition was set from.' }),
    lastTransitionTime: z.iso
      .datetime({ offset: true })
      .meta({ description: 'When the condition last changed from one status to another.' }),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .meta({ description: "A programmatic identifier of the condition's last transition, in CamelCase." }),
    message: z.string().max(32768).meta({ description: 'A human-readable message with details.' }),
  })
  .meta({ description: 'A condition of the resource (metav1.Condition).' });

export const conditions = () =>
  z
    .array(condition)
    .max(32)
    .meta({
      description: 'The latest observations of the resource, one per type.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });

export const observedGeneration = () =>
  z.number().int().min(0).meta({ description: 'The .metadata.generation the status was computed from.' });

/**
 * The status of the kind `kind`: the fields every kind's status starts with (phase,
 * observedGeneration and conditions), then its own `fields`.
 */
export const kindStatus = <const P extends readonly [string, ...string[]], F extends z.ZodRawShape>(
  kind: string,
  phases: P,
  fields: F,
) =>
  z
    .object({
      phase: z
        .enum(phases)
        .optional()
        .meta({ description: `Lifecycle phase: ${phases.join(', ')}.` }),
      observedGeneration: observedGeneration().optional(),
      conditions: conditions().optional(),
      ...fields,
    })
    .meta({ description: `The observed state of the ${kind}.` });

export const timestamp = (description: string) => z.iso.datetime({ offset: true }).meta({ description });

/** A TCP port number; the caller describes it (after a default, so that the description comes first). */
export const port = () => z.number().int().min(1).max(65535);

/** Object metadata as the shim and tests handle it; the API server owns its validation. */
export const objectMeta = z
  .object({
    name: z.string().optional(),
    generateName: z.string().optional(),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

/**
 * A git branch name, as `git check-ref-format --branch` accepts it, restricted to characters
 * that need no quoting anywhere (letters, digits, '.', '_', '-', '/').
 */
export const branchName = (description: string) =>
  withRules(
    z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._/-]+$/)
      .meta({ description: `${description} Letters, digits, '.', '_', '-' and '/'.` }),
    {
      rule: "!self.contains('..') && !self.contains('//') && !self.contains('/.')",
      message: "must not contain '..', '//' or a component starting with '.'",
      check: (b) => !b.includes('..') && !b.includes('//') && !b.includes('/.'),
    },
    {
      rule: "!self.startsWith('-') && !self.startsWith('.') && !self.startsWith('/')",
      message: "must not start with '-', '.' or '/'",
      check: (b) => !/^[-./]/.test(b),
    },
    {
      rule: "!self.endsWith('/') && !self.endsWith('.') && !self.endsWith('.lock')",
      message: "must not end with '/', '.' or '.lock'",
      check: (b) => !/(\/|\.|\.lock)$/.test(b),
    },
  );
