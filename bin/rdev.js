#!/usr/bin/env node
// Entry point of the `rdev` CLI. Plain JavaScript that any Node can parse, so that an older
// system Node can hand over to the pinned one (hack/ensure-node.sh) instead of failing on
// TypeScript sources, which Node >= 22.19 runs directly by stripping their types.
import { spawn, spawnSync } from 'node:child_process';
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
  // The child is the real process: signals are passed on, and an IPC channel lets it notice when
  // this parent dies (even by SIGKILL) so that it never runs on alone, holding a Lease say.
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  // Started by a parent as above: end with it.
  if (process.channel) {
    process.channel.unref(); // the channel alone must not keep this process alive
    process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  let cli;
  try {
    cli = await import('../operator/src/cli/main.ts');
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    console.error(
      `rdev: a dependency is missing (${err.message.split('\n')[0]}): run \`make deps\` (or \`npm ci\`) first`,
    );
    process.exit(1);
  }
  process.exitCode = await cli.main(process.argv.slice(2));
}
