// What runs in an item's Pod: the plan by item type, and the `sh -c` command built from it, run
// here with the local shell (as kwok runs an exec'd command on the host).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcingPid } from '../../operator/src/shared/exec-pid.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import {
  type CommandPlan,
  commandFor,
  type ProjectView,
  runnerSteps,
  shellQuote,
} from '../../operator/src/worker/commands.ts';
import { loadWorkerConfig } from '../../operator/src/worker/config.ts';

const config = loadWorkerConfig([], {});

const item = (spec: Record<string, unknown>) =>
  ({
    metadata: { name: 'w1', namespace: 'team' },
    spec: { projectRef: { name: 'shop' }, ...spec },
    status: { attempts: 2 },
  }) as unknown as LiveWorkItem;

const project = (model: string, cloneURL?: string) =>
  ({
    metadata: { name: 'shop', namespace: 'team' },
    spec: { agent: { provider: 'claude-code', model } },
    status: cloneURL ? { repo: { cloneURL } } : {},
  }) as unknown as ProjectView;

/** The command step of a plan, in a Pod named `pod` (the fallback directory is named after it). */
const command = (plan: CommandPlan, workspace?: string) => runnerSteps(plan, 'pod', workspace).command;

const commandPlan = (plan: ReturnType<typeof commandFor>): CommandPlan => {
  if (!plan.runnable || 'pipeline' in plan) throw new Error(`not a command: ${JSON.stringify(plan)}`);
  return plan;
};

/** Everything the shell would act on if it interpreted a value: none of it may run. */
const HOSTILE = `it's "quoted" $(touch "$OUT/pwned") \`touch "$OUT/pwned"\` $HOME \\n ;'; touch "$OUT/pwned"; '\nline two\n\n-- --help`;

let root: string;
/** A directory on PATH whose `claude` and `git` record what they were given. */
let bin: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rdev-commands-'));
  bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'claude'),
    [
      '#!/bin/sh',
      `printf '%s\\0' "$@" > "$OUT/args"`,
      `printf '%s\\0' "$RDEV_WORK_ITEM" "$RDEV_NAMESPACE" "$RDEV_PROJECT" "$RDEV_ATTEMPT" "$ANTHROPIC_MODEL" > "$OUT/env"`,
      'pwd > "$OUT/pwd"',
      'ls -A > "$OUT/files"',
      'echo "pid:$$"',
    ].join('\n'),
  );
  chmodSync(join(bin, 'claude'), 0o755);
});
afterAll(() => spawnSync('rm', ['-rf', root]));

let runs = 0;
/** Runs `argv` with the local shell in a fresh OUT directory; PATH has the fake `claude` first. */
function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out = join(root, `run-${runs++}`);
  mkdirSync(out);
  const [program, ...args] = argv;
  const result = spawnSync(program ?? 'false', args, {
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: root, TMPDIR: out, OUT: out, ...env },
    encoding: 'utf8',
  });
  const read = (file: string) => readFileSync(join(out, file), 'utf8');
  return { ...result, out, read, list: (file: string) => read(file).split('\0').slice(0, -1) };
}

describe('shellQuote', () => {
  it('quotes every value as one word that the shell takes literally', () => {
    for (const value of ['', 'plain', HOSTILE, "'", "''", 'a\'b"c$d`e\\f']) {
      const echoed = spawnSync('sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' });
      expect(echoed.stdout).toBe(value);
    }
  });
});

describe('what an item runs in its Pod', () => {
  const agent = (prompt: string, model = 'opus', cloneURL?: string) =>
    commandPlan(commandFor(item({ type: 'agent', prompt }), project(model, cloneURL), config));

  it('is sh -c with the script, then the command as positional parameters', () => {
    const plan = agent(HOSTILE);
    const argv = command(plan);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv.slice(3)).toEqual([
      'rdev-item',
      'claude',
      '--print',
      '--dangerously-skip-permissions',
      HOSTILE,
    ]);
    // The prompt reaches the shell only as "$@": never in the script.
    expect(argv[2]).not.toContain('quoted');
    expect(argv[2]).toMatch(/exec "\$@"$/);
  });

  it('gives the agent its prompt and the item its variables exactly, whatever they hold', () => {
    const r = run(command(agent(HOSTILE, HOSTILE), join(root, 'no-such-dir')));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.list('args')).toEqual(['--print', '--dangerously-skip-permissions', HOSTILE]);
    expect(r.list('env')).toEqual(['w1', 'team', 'shop', '2', HOSTILE]);
    expect(existsSync(join(r.out, 'pwned'))).toBe(false);
  });

  it("runs in the workspace directory when it is there, else in the Pod's own under the temporary one", () => {
    const workspace = mkdtempSync(join(root, 'workspace-'));
    expect(
      run(command(agent('hi'), workspace))
        .read('pwd')
        .trim(),
    ).toBe(workspace);
    const elsewhere = run(command(agent('hi'), join(root, 'no-such-dir')));
    const dir = elsewhere.read('pwd').trim();
    expect(dir.startsWith(`${elsewhere.out}/`)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('does not work in a workspace directory it cannot write', () => {
    const workspace = mkdtempSync(join(root, 'workspace-'));
    chmodSync(workspace, 0o555);
    expect(
      run(command(agent('hi'), workspace))
        .read('pwd')
        .trim(),
    ).not.toBe(workspace);
  });

  it("execs the command in its own place: the PID announced for the exec is the command's", () => {
    const r = run(announcingPid(command(agent('hi'), join(root, 'no-such-dir'))));
    const announced = /^rdev-exec-pid:(\d+)$/m.exec(r.stderr)?.[1];
    expect(announced).toBeDefined();
    expect(r.stdout.trim()).toBe(`pid:${announced}`);
  });

  it('runs shell and build commands without variables of the agent, and without a clone', () => {
    const shell = commandPlan(
      commandFor(
        item({
          type: 'shell',
          command: ['sh', '-c', `printf '%s:%s\\n' "$RDEV_WORK_ITEM" "$1"`, 'x', HOSTILE],
        }),
        project('m', 'file:///nowhere'),
        config,
      ),
    );
    expect(shell.git).toBeUndefined();
    expect(shell.env).not.toHaveProperty('ANTHROPIC_MODEL');
    const r = run(command(shell, join(root, 'no-such-dir')));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`w1:${HOSTILE}\n`);
    const build = commandPlan(
      commandFor(item({ type: 'build', command: ['make'] }), project('m', 'file:///nowhere'), config),
    );
    expect(build.git).toBeUndefined();
    expect(runnerSteps(build, 'pod').prepare).toBeUndefined();
    expect(command(build)[2]).not.toContain('git');
  });

  it('passes its exit code on', () => {
    const plan = commandPlan(
      commandFor(item({ type: 'shell', command: ['sh', '-c', 'exit 7'] }), undefined, config),
    );
    expect(run(command(plan, join(root, 'no-such-dir'))).status).toBe(7);
  });

  it('refuses a variable name the shell would not take as one', () => {
    const plan: CommandPlan = { runnable: true, command: ['true'], env: { 'A=B; rm': 'x' } };
    expect(() => command(plan)).toThrow(/not a valid environment variable name/);
  });
});
