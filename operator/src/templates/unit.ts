// A unit is one buildable part of a repository: a component of the monorepo (services/api,
// apps/web, …) or the whole repository of a standalone template (landing, go-api). Each has a
// unit.json describing it; the skeleton's README, CLAUDE.md, Makefile, CI pipeline and deploy
// manifests are composed from these descriptions.
import { z } from 'zod';

const relativeDir = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(\.|[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*)$/, 'a lower-case relative directory, or "."')
  .refine((dir) => !dir.split('/').includes('..'), 'must stay inside the repository');

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
});

export type UnitManifest = z.output<typeof unitManifest>;

/** The parts a unit may contribute to files the skeleton composes. */
export const UNIT_PARTS = {
  /** Woodpecker steps (list items), placed in .woodpecker.yml before the image steps. */
  woodpecker: 'woodpecker.yml.eta',
  /** Kubernetes manifests, written to deploy/<id>.yaml and listed in deploy/kustomization.yaml. */
  deploy: 'deploy.yaml.eta',
} as const;
