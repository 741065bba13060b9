// Checks out a Project's repository into an attempt's scratch directory. Credentials travel in
// git's environment-based configuration (an HTTP header), never in the URL or the arguments,
// so they show in neither `ps` nor the remote git stores in .git/config.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { stringField } from '../shared/fields.ts';

const run = promisify(execFile);

export async function gitCheckout(
  cloneURL: string,
  dir: string,
  credentials?: { username: string; token: string },
): Promise<void> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GIT_TERMINAL_PROMPT: '0' };
  if (credentials) {
    const basic = Buffer.from(`${credentials.username}:${credentials.token}`).toString('base64');
    Object.assign(env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    });
  }
  try {
    await run('git', ['clone', '--quiet', '--depth', '1', '--', cloneURL, '.'], {
      cwd: dir,
      env,
      timeout: 300_000,
    });
  } catch (err) {
    const stderr = stringField(err, 'stderr')?.trim();
    throw new Error(
      `could not clone ${cloneURL}: ${stderr || (err instanceof Error ? err.message : String(err))}`,
    );
  }
}
