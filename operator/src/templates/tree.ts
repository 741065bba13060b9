// The template tree: every file under templates/ read into memory, keyed by its relative path.
// Rendering works on this snapshot only, so it is deterministic and testable without a disk.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../shared/fields.ts';

/** templates/ at the repository root; a container image may ship its own (RenderOptions). */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/', import.meta.url));

export interface TreeFile {
  content: string;
  executable?: boolean;
}

/** Relative path ("skeleton/README.md.eta") → file. */
export type TemplateTree = ReadonlyMap<string, TreeFile>;

/** A template that cannot be rendered: unknown names, a broken tree, a failing template. */
export class TemplateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateError';
  }
}

/**
 * Throws unless `path` is a plain relative path that stays inside the directory it is joined
 * to: no leading slash, no backslash, no empty, `.` or `..` segment, and nothing under `.git`.
 */
export function checkRelativePath(path: string, what: string): string {
  const segments = path.split('/');
  const bad =
    path.length === 0 ||
    path.length > 1024 ||
    /[\\\0]/.test(path) ||
    segments.some((s) => s === '' || s === '.' || s === '..') ||
    segments[0] === '.git';
  if (bad) throw new TemplateError(`${what}: "${path}" is not a relative path inside the repository`);
  return path;
}

/** Reads every file under `dir`. Symbolic links are refused: they could point anywhere. */
export function loadTemplateTree(dir: string): TemplateTree {
  const tree = new Map<string, TreeFile>();
  const walk = (relative: string) => {
    const absolute = relative ? join(dir, relative) : dir;
    const entries = readdirSync(absolute, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const mode = lstatSync(join(dir, path)).mode;
        const file: TreeFile = { content: readFileSync(join(dir, path), 'utf8') };
        if (mode & 0o111) file.executable = true;
        tree.set(checkRelativePath(path, `template file in ${dir}`), file);
      } else {
        throw new TemplateError(`${join(dir, path)}: only regular files and directories may be templates`);
      }
    }
  };
  try {
    walk('');
  } catch (error) {
    if (error instanceof TemplateError) throw error;
    throw new TemplateError(`cannot read the templates in ${dir}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return tree;
}
