// Writes the generated references under docs/ (`make docs`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDocs } from './docs/render.ts';

const dir = join(import.meta.dirname, '..', 'docs');
mkdirSync(dir, { recursive: true });
const files = renderDocs();
for (const [name, text] of files) writeFileSync(join(dir, name), text);
console.log(`wrote ${[...files.keys()].map((f) => `docs/${f}`).join(', ')}`);
