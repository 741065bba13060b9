// git for tests: no prompts, no user or system config, credentials (when given) in a header,
// never in the URL, and redacted from what it printed.
import { spawnSync } from 'node:child_process';

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
