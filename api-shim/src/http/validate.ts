// Request validation with the API's zod schemas. zod drops keys it does not know; a request
// must not lose anything silently, so any key the parse dropped is reported as unknown. zod
// has no sets: an array its metadata marks as one (see schemas.ts) is checked for duplicates.
import type { z } from 'zod';
import { type FieldIssue, invalid } from './errors.ts';
import { marksSet } from './schemas.ts';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/** Field `key` of a request body as sent (before any parse), if the body is an object that has it. */
export const sent = (body: unknown, key: string): unknown => (isPlainObject(body) ? body[key] : undefined);

/** Paths present in `input` but absent from the parsed `output`. */
export function droppedFields(input: unknown, output: unknown, path = ''): string[] {
  if (Array.isArray(input) && Array.isArray(output)) {
    return input.flatMap((v, i) => droppedFields(v, output[i], join(path, i)));
  }
  if (!isPlainObject(input) || !isPlainObject(output)) return [];
  return Object.entries(input).flatMap(([k, v]) =>
    k in output ? droppedFields(v, output[k], join(path, k)) : [join(path, k)],
  );
}

type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
};

/**
 * Paths present in `input` that `schema` does not declare, found even when the parse failed (so
 * that one answer names every field at fault).
 */
export function undeclaredFields(schema: z.ZodType, input: unknown, path = ''): string[] {
  const def = schema._zod.def as unknown as Def;
  const inner = def.innerType ?? def.in ?? def.getter?.();
  if (inner) return undeclaredFields(inner, input, path);
  if (def.type === 'array' && def.element && Array.isArray(input)) {
    const element = def.element;
    return input.flatMap((v, i) => undeclaredFields(element, v, join(path, i)));
  }
  if (def.type === 'object' && def.shape && isPlainObject(input)) {
    const shape = def.shape;
    const open = def.catchall !== undefined && def.catchall._zod.def.type !== 'never';
    return Object.entries(input).flatMap(([k, v]) => {
      const field = shape[k];
      if (field) return undeclaredFields(field, v, join(path, k));
      return open ? [] : [join(path, k)];
    });
  }
  if (def.type === 'record' && def.valueType && isPlainObject(input)) {
    const value = def.valueType;
    return Object.entries(input).flatMap(([k, v]) => undeclaredFields(value, v, join(path, k)));
  }
  // Which member of a union was meant cannot be told when none matches.
  return [];
}

const setsWithin = new WeakMap<z.ZodType, boolean>();

/**
 * Whether any schema reachable from `schema` marks a set (else duplicates() has nothing to look
 * for); worked out once per schema, not per request.
 */
export function holdsSet(schema: z.ZodType): boolean {
  const known = setsWithin.get(schema);
  if (known !== undefined) return known;
  const seen = new Set<z.ZodType>();
  const pending = [schema];
  let found = false;
  for (let next = pending.pop(); next && !found; next = pending.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    found = marksSet(next.meta());
    const def = next._zod.def as unknown as Def & { out?: z.ZodType };
    for (const child of [
      def.innerType,
      def.in,
      def.out,
      def.getter?.(),
      def.element,
      def.catchall,
      def.valueType,
      def.left,
      def.right,
      ...(def.options ?? []),
      ...Object.values(def.shape ?? {}),
    ]) {
      if (child) pending.push(child);
    }
  }
  setsWithin.set(schema, found);
  return found;
}

/** The items of every set-like array in `input` (valid for `schema`) that repeat an earlier one. */
export function duplicates(schema: z.ZodType, input: unknown, path = '', set = false): FieldIssue[] {
  const def = schema._zod.def as unknown as Def;
  const inSet = set || marksSet(schema.meta());
  const inner = def.innerType ?? def.in ?? def.getter?.();
  if (inner) return duplicates(inner, input, path, inSet);
  if (def.type === 'array' && def.element && Array.isArray(input)) {
    const element = def.element;
    const issues = input.flatMap((v, i) => duplicates(element, v, join(path, i)));
    if (!inSet) return issues;
    const first = new Map<string, number>();
    input.forEach((item, i) => {
      const key = JSON.stringify(item);
      const at = first.get(key);
      if (at === undefined) first.set(key, i);
      else
        issues.push({ path: join(path, i), message: `repeats ${join(path, at)}: the items must be unique` });
    });
    return issues;
  }
  if (def.type === 'object' && def.shape && isPlainObject(input)) {
    return Object.entries(def.shape).flatMap(([k, field]) =>
      k in input ? duplicates(field, input[k], join(path, k)) : [],
    );
  }
  if (def.type === 'record' && def.valueType && isPlainObject(input)) {
    const value = def.valueType;
    return Object.entries(input).flatMap(([k, v]) => duplicates(value, v, join(path, k)));
  }
  if (def.type === 'union' && def.options) {
    const option = def.options.find((o) => o.safeParse(input).success);
    return option ? duplicates(option, input, path) : [];
  }
  if (def.type === 'intersection' && def.left && def.right) {
    return [...duplicates(def.left, input, path), ...duplicates(def.right, input, path)];
  }
  return [];
}

/** zod's issues as {path, message}, under `prefix` (e.g. "body"). */
export function fieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.reduce<string>((p, k) => join(p, typeof k === 'symbol' ? String(k) : k), prefix),
    message: issue.message,
  }));
}

/** The parsed value, or a 400 naming every field at fault. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = fieldIssues(parsed.error, where);
    for (const path of undeclaredFields(schema, input, where)) {
      if (!issues.some((i) => i.path === path)) issues.push({ path, message: 'unknown field' });
    }
    throw invalid(
      `invalid ${where}: ${issues.map((i) => `${i.path || where}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  const unknown = droppedFields(input, parsed.data, where);
  if (unknown.length) {
    throw invalid(
      `unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
      unknown.map((path) => ({ path, message: 'unknown field' })),
    );
  }
  const repeated = holdsSet(schema) ? duplicates(schema, input, where) : [];
  if (repeated.length) {
    throw invalid(`duplicate items: ${repeated.map((i) => `${i.path}: ${i.message}`).join('; ')}`, repeated);
  }
  return parsed.data;
}
