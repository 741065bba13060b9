#!/usr/bin/env node
// Entry point of the `rdev` CLI. Plain JavaScript that any Node can parse, so that an older
// system Node can hand over to the pinned one (hack/ensure-node.sh) instead of failing on
// TypeScript sources, which Node >= 22.19 runs directly by stripping their types.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);

if (major < 22 || (major === 22 && minor < 19)) {
  const found = spawnSync(join(root, 'hack', 'ensure-node.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (found.status !== 0) {
    console.error(`rdev needs Node >= 22.19 (this is ${process.versions.node}) and could not install one`);
    process.exit(1);
  }
  const node = join(found.stdout.trim(), 'node');
  const child = spawnSync(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}

const { main } = await import('../operator/src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
