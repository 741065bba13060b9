// What the CRD generator needs to know about a kind besides its schemas: its names, its printer
// columns and the rules on the whole object. Every kind's columns share one frame: what
// identifies an object, then its phase and readiness, then what is particular to the kind, and
// its age last.
import type { z } from 'zod';
import type { CelRule } from './common.ts';

/** What the printer columns, shortNames and categories of a kind's CRD are made of. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** A printer column, of a string unless `more` gives another type (and a priority, for -o wide). */
export const column = (
  name: string,
  jsonPath: string,
  description: string,
  more: { type?: PrinterColumn['type']; priority?: number } = {},
): PrinterColumn => ({
  name,
  type: more.type ?? 'string',
  jsonPath,
  description,
  ...(more.priority === undefined ? {} : { priority: more.priority }),
});

/** The Project an object belongs to: the first column of every kind that has a projectRef. */
export const projectColumn = column('Project', '.spec.projectRef.name', 'The Project it belongs to');

const phaseColumn = column('Phase', '.status.phase', 'Where the resource is in its lifecycle');
const readyColumn = column(
  'Ready',
  '.status.conditions[?(@.type=="Ready")].status',
  'Whether the resource is ready',
);
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** Everything the CRD generator needs to know about one kind. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  /** Rules on the whole object (they may read metadata.name). */
  rootRules?: CelRule[];
  printerColumns: PrinterColumn[];
  /** Fields usable in field selectors (`kubectl get --field-selector`, watches). */
  selectableFields?: { jsonPath: string }[];
}

/** What a kind says of itself; defineKind adds the rest. */
export interface KindDescription {
  description: string;
  /** The columns before Phase and Ready: what identifies an object (for a Project's child, projectColumn first). */
  lead?: PrinterColumn[];
  /** The columns between Ready and Age. */
  details: PrinterColumn[];
  rootRules?: CelRule[];
  selectableFields?: { jsonPath: string }[];
}

/**
 * The definition of the kind `kind`: its plural and singular are its name in lower case, and its
 * printer columns are `lead`, Phase, Ready, `details` and Age.
 */
export function defineKind(
  kind: string,
  shortNames: string[],
  spec: z.ZodType,
  status: z.ZodType,
  { description, lead = [], details, rootRules, selectableFields }: KindDescription,
): KindDefinition {
  return {
    kind,
    plural: `${kind.toLowerCase()}s`,
    singular: kind.toLowerCase(),
    shortNames,
    description,
    spec,
    status,
    ...(rootRules ? { rootRules } : {}),
    printerColumns: [...lead, phaseColumn, readyColumn, ...details, ageColumn],
    ...(selectableFields ? { selectableFields } : {}),
  };
}
