// git for tests: no prompts, no user or system config, credentials (when given) in a header,
// never in the URL, and redacted from what it printed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'vitest';

export interface GitAuth {
  username: string;
  token: string;
}

export function git(cwd: string, auth: GitAuth | undefined, ...args: string[]) {
  const header = auth ? Buffer.from(`${auth.username}:${auth.token}`).toString('base64') : undefined;
  const r = spawnSync(
    'git',
    [
      '-c',
      'credential.helper=',
      ...(header ? ['-c', `http.extraHeader=Authorization: Basic ${header}`] : []),
      '-c',
      'user.name=Agent',
      '-c',
      'user.email=agent@rdev.test',
      ...args,
    ],
    {
      cwd,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_TERMINAL_PROMPT: '0',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
      },
    },
  );
  const redact = (s: string) =>
    header && auth ? s.replaceAll(header, '<auth>').replaceAll(auth.token, '<token>') : s;
  return { ok: r.status === 0, stdout: redact(r.stdout.trim()), stderr: redact(r.stderr) };
}

/** Every file under dir except .git, as path → content. */
export function tree(dir: string): Record<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((p) => !p.startsWith('.git/'));
  return Object.fromEntries(files.map((p) => [p, readFileSync(join(dir, p), 'utf8')]));
}

/**
 * Clones `url` (after `cloneArgs`, such as --branch) into a fresh directory that is removed
 * afterwards, and hands the clone's directory to `fn`. The clone must succeed.
 */
export function withClone<T>(auth: GitAuth, url: string, fn: (dir: string) => T, ...cloneArgs: string[]): T {
  const work = mkdtempSync(join(tmpdir(), 'rdev-clone-'));
  try {
    const clone = git(work, auth, 'clone', ...cloneArgs, url, 'repo');
    expect(clone.ok, clone.stderr).toBe(true);
    return fn(join(work, 'repo'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
