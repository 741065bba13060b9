// bin/rdev.js on a Node too old for the sources hands over to the pinned Node in a child: that
// child must end with its parent, even when the parent is SIGKILLed (an operator left running
// alone would hold the leader Lease with nobody to stop it). Runs where an older Node is found.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/manifests.ts';

/** A Node on this machine older than 22.19, if any (the system's). */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    const [major = 0, minor = 0] = (version ?? '').replace(/^v/, '').split('.').map(Number);
    if (version && (major < 22 || (major === 22 && minor < 19))) return candidate;
  }
  return undefined;
}

const old = olderNode();
const alive = (pid: number) => spawnSync('kill', ['-0', String(pid)]).status === 0;
/** The children of `pid` that run bin/rdev.js (not the script that finds the pinned Node). */
const rdevChildrenOf = (pid: number) =>
  spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((c) => {
      try {
        return readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('rdev.js');
      } catch {
        return false;
      }
    });

let parent: ChildProcess | undefined;
afterAll(() => {
  parent?.kill('SIGKILL');
});

describe.skipIf(!old)('bin/rdev.js handing over to the pinned Node', () => {
  it('ends the child when the parent is SIGKILLed', { timeout: 60_000 }, async () => {
    // A worker that can never reach its cluster keeps retrying: it runs until stopped.
    const kubeconfig = join(tmpdir(), `rdev-unreachable-${process.pid}.yaml`);
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: x}}]',
        'contexts: [{name: c, context: {cluster: c, user: u}}]',
        'current-context: c',
      ].join('\n'),
    );
    parent = spawn(
      old ?? 'node',
      [join(ROOT, 'bin', 'rdev.js'), 'worker', '--name=handover', '--health-addr='],
      {
        env: { ...process.env, KUBECONFIG: kubeconfig, RDEV_LOG_LEVEL: 'fatal' },
        stdio: 'ignore',
      },
    );
    const pid = parent.pid ?? 0;
    let child: number | undefined;
    for (let i = 0; i < 200 && child === undefined; i++) {
      child = rdevChildrenOf(pid)[0];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(child).toBeDefined();
    // It runs on while its parent does.
    await new Promise((r) => setTimeout(r, 1000));
    expect(alive(child ?? 0)).toBe(true);
    parent.kill('SIGKILL');
    for (let i = 0; i < 100 && alive(child ?? 0); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(child ?? 0)).toBe(false);
  });
});
