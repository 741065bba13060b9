// `make dev` as a newcomer runs it, on a plane and services of its own (another state directory):
// it ends with a pull request made by an agent WorkItem posted through the shim, never prints the
// shim's key, and `make dev-down` leaves none of its processes behind.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/manifests.ts';

const state = mkdtempSync(join(tmpdir(), 'rdev-dev-'));
const dir = join(state, 'plane');

/** A free TCP port with two free ones after it (the shim's, the operator's, the worker's). */
async function freePorts(): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const free = await Promise.all(
      [0, 1, 2].map(
        (i) =>
          new Promise<boolean>((resolve) => {
            const s = createServer()
              .once('error', () => resolve(false))
              .listen(base + i, '127.0.0.1', () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return base;
  }
}

const dev = (command: 'up' | 'down', env: NodeJS.ProcessEnv) =>
  spawnSync(join(ROOT, 'hack', 'dev.sh'), [command], {
    encoding: 'utf8',
    env: { ...process.env, ...env, RDEV_CLUSTER_DIR: dir, ANTHROPIC_API_KEY: '' },
    timeout: 900_000,
  });

/** The pids make dev recorded, alive or not. */
const pids = () =>
  readdirSync(join(dir, 'pids'))
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(join(dir, 'pids', f), 'utf8')));
const alive = (pid: number) => spawnSync('kill', ['-0', String(pid)]).status === 0;

afterAll(() => {
  // Whatever happened, nothing of this test keeps running.
  dev('down', {});
  rmSync(state, { recursive: true, force: true });
});

describe('make dev', () => {
  it('runs the whole product and ends with a pull request; make dev-down stops it all', {
    timeout: 1_200_000,
  }, async () => {
    const port = await freePorts();
    const up = dev('up', { RDEV_DEV_PORT: String(port) });
    expect(up.status, `${up.stdout}\n${up.stderr}`).toBe(0);
    const pr = /^pull request: (\S+)$/m.exec(up.stdout)?.[1] ?? '';
    expect(pr).toMatch(/\/rdev\/shop\/pulls\/\d+$/);

    // The key is in dev.env (mode 600), and nowhere in what make dev printed.
    const envFile = join(dir, 'dev.env');
    expect(statSync(envFile).mode & 0o077).toBe(0);
    const key = /RDEV_KEY=(\S+)/.exec(readFileSync(envFile, 'utf8'))?.[1] ?? '';
    expect(key).toMatch(/^rdev_[0-9a-f]{48}$/);
    expect(up.stdout + up.stderr).not.toContain(key);
    expect(up.stdout).toContain(`http://127.0.0.1:${port}`);

    // The pull request exists in the local Gitea, made by the Project's own user.
    const services = Object.fromEntries(
      readFileSync(join(dir, 'services', 'services.env'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const number = pr.split('/').at(-1);
    const res = await fetch(`${services.GITEA_URL}/api/v1/repos/rdev/shop/pulls/${number}`, {
      headers: { authorization: `token ${services.GITEA_ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const pull = (await res.json()) as { head: { ref: string }; user: { login: string }; state: string };
    expect(pull.state).toBe('open');
    expect(pull.head.ref).toMatch(/^rdev\/shop-/);
    expect(pull.user.login).toMatch(/^rdev-[0-9a-f]{16}$/);

    const started = pids();
    expect(started.length).toBeGreaterThanOrEqual(8); // plane, services, operator, worker, shim
    const down = dev('down', {});
    expect(down.status, down.stderr).toBe(0);
    expect(started.filter(alive)).toEqual([]);
    // No process of ours runs with this state directory any more (children included).
    const left = spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
  });
});
