// A unit is one buildable part of a repository: a component of the monorepo (services/api,
// apps/web, …) or the whole repository of a standalone template (landing, go-api). Each has a
// unit.json describing it; the skeleton's README, CLAUDE.md, Makefile, CI pipeline and deploy
// manifests are composed from these descriptions.
import { z } from 'zod';
import type { TemplateTree, TreeFile } from './tree.ts';

/** The parts a unit may contribute to files the skeleton composes. */
export const UNIT_PARTS = {
  /** Woodpecker steps (list items), placed in .woodpecker.yml before the image steps. */
  woodpecker: 'woodpecker.yml.eta',
  /** Kubernetes manifests, written to deploy/<id>.yaml and listed in deploy/kustomization.yaml. */
  deploy: 'deploy.yaml.eta',
} as const;

const relativeDir = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(\.|[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*)$/, 'a lower-case relative directory, or "."')
  .refine((dir) => !dir.split('/').includes('..'), 'must stay inside the repository');

/** What an include may name in its folder: a file under files/, or one of the parts. */
const includedFile = z
  .string()
  .min(1)
  .max(300)
  .refine(
    (path) => /^files\/[^/]/.test(path) || Object.values(UNIT_PARTS).some((part) => path === `parts/${part}`),
    'a path under files/, or parts/ and the name of a part',
  )
  .refine(
    (path) => path.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'must stay inside the folder',
  );

const include = z.strictObject({
  from: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/, 'a folder of the template tree')
    .refine((from) => !from.split('/').includes('..'), 'must stay inside the template tree')
    .meta({ description: 'A folder of the template tree (components/service, shared/go-image).' }),
  files: z
    .array(includedFile)
    .min(1)
    .optional()
    .meta({ description: 'What to take from it (files/main.go, parts/deploy.yaml.eta); all by default.' }),
});

// Command lines are Eta templates too (rendered with the unit's context, e.g. its dev port).
const command = z.string().min(1).max(300);

export const unitManifest = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/)
    .meta({ description: 'Short name: CI step prefix, image suffix, Kubernetes object suffix.' }),
  title: z.string().min(1).max(60),
  summary: z.string().min(1).max(200),
  dir: relativeDir.meta({ description: 'Directory of the unit in the repository; "." for the root.' }),
  language: z.enum(['go', 'node']),
  kind: z
    .enum(['web', 'worker', 'tool'])
    .meta({ description: 'web: serves HTTP; worker: runs in the background; tool: not deployed.' }),
  port: z.number().int().min(1024).max(65535).optional().meta({ description: 'Container port (web).' }),
  routes: z
    .array(z.string().regex(/^\/([a-z0-9._-]+(\/[a-z0-9._-]+)*)?$/))
    .default([])
    .meta({ description: 'Path prefixes the site host routes to this unit.' }),
  image: z.boolean().meta({ description: 'Whether CI builds and pushes an image from <dir>/Dockerfile.' }),
  uses: z
    .array(z.enum(['database', 'cache']))
    .default([])
    .meta({ description: 'Project resources the deployed unit reads (it gets their Secret as env).' }),
  layout: z
    .array(z.strictObject({ path: z.string().min(1).max(200), what: z.string().min(1).max(200) }))
    .default([])
    .meta({ description: 'Notable files and folders (relative to dir; a folder ends in /) for the docs.' }),
  commands: z.strictObject({ setup: command, dev: command, lint: command, test: command, build: command }),
  include: z.array(include).default([]).meta({
    description:
      "Files and parts taken from other folders of the tree, as if they were the unit's own; the unit's own win.",
  }),
});

export type UnitManifest = z.output<typeof unitManifest>;

/** unitManifest, and every include names a folder of `tree` and files that folder holds. */
export function unitManifestIn(tree: TemplateTree) {
  return unitManifest.superRefine((manifest, ctx) => {
    manifest.include.forEach(({ from, files }, i) => {
      if (includable(tree, from).size === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['include', i, 'from'],
          message: `the template tree has no ${from}/files/ or ${from}/parts/ to include`,
        });
        return;
      }
      files?.forEach((file, j) => {
        if (!tree.has(`${from}/${file}`)) {
          ctx.addIssue({
            code: 'custom',
            path: ['include', i, 'files', j],
            message: `the template tree has no ${from}/${file}`,
          });
        }
      });
    });
  });
}

/** A file of a unit: where it is in the tree (the source named in errors) and what it holds. */
export interface UnitFile {
  path: string;
  file: TreeFile;
}

/**
 * What a folder of the tree offers a unit: its files/** and parts, keyed by their path in the
 * folder ("files/main.go", "parts/deploy.yaml.eta"). Its unit.json and its own includes are not
 * part of it.
 */
export function includable(tree: TemplateTree, folder: string): Map<string, UnitFile> {
  const offered = new Map<string, UnitFile>();
  for (const [path, file] of tree) {
    if (!path.startsWith(`${folder}/`)) continue;
    const relative = path.slice(folder.length + 1);
    const part = Object.values(UNIT_PARTS).some((p) => relative === `parts/${p}`);
    if (relative.startsWith('files/') || part) offered.set(relative, { path, file });
  }
  return offered;
}
