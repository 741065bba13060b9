// Request validation with the API's zod schemas. zod drops keys it does not know; a request
// must not lose anything silently, so any key the parse dropped is reported as unknown.
import type { z } from 'zod';
import { type FieldIssue, invalid } from './errors.ts';

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
  return parsed.data;
}
