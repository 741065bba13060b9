import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { announcingPid, PidFilter, stopCommand } from '../../operator/src/shared/exec-pid.ts';

const collect = () => {
  const chunks: string[] = [];
  const filter = new PidFilter((c) => chunks.push(c.toString()));
  return { filter, text: () => chunks.join('') };
};

describe('the exec PID wrapper', () => {
  it('runs the command in its place, with the same output and exit code, announcing its PID', () => {
    const [file, ...args] = announcingPid(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    const run = spawnSync(file as string, args, { encoding: 'utf8' });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('out\n');
    const { filter, text } = collect();
    filter.write(Buffer.from(run.stderr));
    filter.end();
    expect(filter.pid).toBe(run.pid); // exec keeps the wrapper's PID
    expect(text()).toBe('err\n');
  });

  it('passes arguments through untouched, spaces and quotes included', () => {
    const [file, ...args] = announcingPid(['printf', '%s|', 'a b', "it's", '$HOME']);
    expect(
      execFileSync(file as string, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    ).toBe("a b|it's|$HOME|");
  });

  it('finds the PID line even when it arrives in pieces, and leaves other stderr alone', () => {
    const split = collect();
    for (const piece of ['rdev-exec', '-pid:4', '2\nrest', ' of it']) split.filter.write(Buffer.from(piece));
    expect(split.filter.pid).toBe(42);
    expect(split.text()).toBe('rest of it');

    const plain = collect();
    plain.filter.write(Buffer.from('sh: not found\n'));
    plain.filter.write(Buffer.from('more\n'));
    expect(plain.filter.pid).toBeUndefined();
    expect(plain.text()).toBe('sh: not found\nmore\n');

    const short = collect();
    short.filter.write(Buffer.from('rdev'));
    short.filter.end();
    expect(short.text()).toBe('rdev');
  });

  it('stops a process with TERM', async () => {
    const child = spawn('sleep', ['30']);
    const exited = once(child, 'exit');
    const [file, ...args] = stopCommand(child.pid as number, 1);
    expect(spawnSync(file as string, args).status).toBe(0);
    expect((await exited)[1]).toBe('SIGTERM');
  });
});
