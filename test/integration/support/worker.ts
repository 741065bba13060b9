// `rdev worker` as a child process for tests: its item output lines are collected (and can be
// awaited), it can be SIGKILLed, and every one still running is killed when the file ends.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, inject } from 'vitest';
import { ROOT } from '../../support/manifests.ts';

export interface WorkerProcess {
  name: string;
  process: ChildProcess;
  /** Output lines of the items it ran (`[ns/name#attempt] line`). */
  lines: string[];
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

const spawned = new Set<ChildProcess>();
afterAll(() => {
  for (const p of spawned) p.kill('SIGKILL');
});

export function spawnWorker(
  namespace: string,
  name: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'rdev.js'),
      'worker',
      `--name=${name}`,
      `--lease-namespace=${namespace}`,
      `--namespace=${namespace}`,
      '--health-addr=',
      '--log-level=warn',
      '--lease-duration-seconds=4',
      '--kill-grace-seconds=2',
      ...args,
    ],
    {
      env: { ...process.env, ...env, KUBECONFIG: inject('kubeconfig') },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  spawned.add(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (line.startsWith('[')) lines.push(line);
    else if (process.env.RDEV_TEST_LOG_LEVEL) process.stderr.write(`${name}: ${line}\n`);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      spawned.delete(child);
      resolve(code);
    }),
  );
  return { name, process: child, lines, exited, kill: (signal = 'SIGTERM') => child.kill(signal) };
}
