// Writes crds/<plural>.rdev.dev.yaml from the zod schemas (`make crds`).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdFiles } from '../operator/src/api/crd-files.ts';

const dir = join(import.meta.dirname, '..', 'crds');
mkdirSync(dir, { recursive: true });
const files = renderCrdFiles();
for (const stale of readdirSync(dir).filter((f) => f.endsWith('.yaml') && !files.has(f)))
  rmSync(join(dir, stale));
for (const [name, text] of files) writeFileSync(join(dir, name), text);
console.log(`wrote ${[...files.keys()].map((f) => `crds/${f}`).join(', ')}`);
