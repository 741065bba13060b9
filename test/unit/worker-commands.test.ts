// What runs in an item's Pod: the plan by item type, and the `sh -c` command built from it, run
// here with the local shell (as kwok runs an exec'd command on the host).
import { spawn, spawnSync } from 'node:child_process';
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
  runnerCommand,
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

/** Whether a process runs (a zombie nobody reaped yet does not). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

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
    const argv = runnerCommand(plan);
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
    const r = run(runnerCommand(agent(HOSTILE, HOSTILE), join(root, 'no-such-dir')));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.list('args')).toEqual(['--print', '--dangerously-skip-permissions', HOSTILE]);
    expect(r.list('env')).toEqual(['w1', 'team', 'shop', '2', HOSTILE]);
    expect(existsSync(join(r.out, 'pwned'))).toBe(false);
  });

  it('runs in the workspace directory when it is there, else in a fresh temporary one', () => {
    const workspace = mkdtempSync(join(root, 'workspace-'));
    expect(
      run(runnerCommand(agent('hi'), workspace))
        .read('pwd')
        .trim(),
    ).toBe(workspace);
    const elsewhere = run(runnerCommand(agent('hi'), join(root, 'no-such-dir')));
    const dir = elsewhere.read('pwd').trim();
    expect(dir.startsWith(`${elsewhere.out}/`)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('does not work in a workspace directory it cannot write', () => {
    const workspace = mkdtempSync(join(root, 'workspace-'));
    chmodSync(workspace, 0o555);
    expect(
      run(runnerCommand(agent('hi'), workspace))
        .read('pwd')
        .trim(),
    ).not.toBe(workspace);
  });

  it("execs the command in its own place: the PID announced for the exec is the command's", () => {
    const r = run(announcingPid(runnerCommand(agent('hi'), join(root, 'no-such-dir'))));
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
    expect(shell.cloneURL).toBeUndefined();
    expect(shell.env).not.toHaveProperty('ANTHROPIC_MODEL');
    const r = run(runnerCommand(shell, join(root, 'no-such-dir')));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`w1:${HOSTILE}\n`);
    const build = commandPlan(
      commandFor(item({ type: 'build', command: ['make'] }), project('m', 'file:///nowhere'), config),
    );
    expect(build.cloneURL).toBeUndefined();
    expect(runnerCommand(build)[2]).not.toContain('git');
  });

  it('passes its exit code on', () => {
    const plan = commandPlan(
      commandFor(item({ type: 'shell', command: ['sh', '-c', 'exit 7'] }), undefined, config),
    );
    expect(run(runnerCommand(plan, join(root, 'no-such-dir'))).status).toBe(7);
  });

  it('refuses a variable name the shell would not take as one', () => {
    const plan: CommandPlan = { runnable: true, command: ['true'], env: { 'A=B; rm': 'x' } };
    expect(() => runnerCommand(plan)).toThrow(/not a valid environment variable name/);
  });
});

describe("an agent item's clone", () => {
  let repo: string;
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
      cwd,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  beforeAll(() => {
    repo = join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'README.md'), 'hello\n');
    git(repo, 'add', 'README.md');
    git(repo, 'commit', '-q', '-m', 'first');
  });

  const agentWith = (cloneURL: string) =>
    commandPlan(commandFor(item({ type: 'agent', prompt: 'go' }), project('', cloneURL), config));

  it('clones the repository into the working directory before the agent starts', () => {
    const plan = agentWith(`file://${repo}`);
    expect(plan.env).not.toHaveProperty('ANTHROPIC_MODEL');
    const workspace = mkdtempSync(join(root, 'workspace-'));
    const r = run(runnerCommand(plan, workspace));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.read('pwd').trim()).toBe(workspace);
    expect(r.read('files').split('\n').filter(Boolean).sort()).toEqual(['.git', 'README.md']);
  });

  it('leaves a directory that already holds a checkout as it is (a workspace Pod after an earlier item)', () => {
    const workspace = mkdtempSync(join(root, 'workspace-'));
    git(workspace, 'init', '-q');
    writeFileSync(join(workspace, 'notes.txt'), 'a Session wrote this\n');
    const r = run(runnerCommand(agentWith(`file://${repo}`), workspace));
    expect(r.status).toBe(0);
    expect(r.read('files').split('\n').filter(Boolean).sort()).toEqual(['.git', 'notes.txt']);
  });

  it('ends the attempt with a clear message when the clone fails, without running the agent', () => {
    const url = `file://${root}/no-such-repo'$(touch "$OUT/pwned")`;
    const r = run(runnerCommand(agentWith(url), mkdtempSync(join(root, 'workspace-'))));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`rdev: could not clone ${url} into `);
    expect(existsSync(join(r.out, 'args'))).toBe(false);
    expect(existsSync(join(r.out, 'pwned'))).toBe(false);
  });

  it('stops the clone when the attempt is stopped (TERM to the announced PID)', async () => {
    // A `git` that hangs, and says which PID it has.
    const slow = join(root, 'slow-bin');
    mkdirSync(slow, { recursive: true });
    writeFileSync(join(slow, 'git'), '#!/bin/sh\necho $$ > "$OUT/git.pid"\nexec sleep 30\n');
    chmodSync(join(slow, 'git'), 0o755);
    const out = join(root, `run-${runs++}`);
    mkdirSync(out);
    const [program, ...args] = announcingPid(runnerCommand(agentWith('https://example.test/r.git'), out));
    const child = spawn(program ?? 'false', args, {
      env: { PATH: `${slow}:${bin}:${process.env.PATH}`, OUT: out },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const gitPid = join(out, 'git.pid');
    const announcement = () => /rdev-exec-pid:(\d+)\n/.exec(stderr)?.[1];
    const cloning = () => existsSync(gitPid) && readFileSync(gitPid, 'utf8').endsWith('\n');
    for (let i = 0; i < 500 && !(announcement() && cloning()); i++)
      await new Promise((r) => setTimeout(r, 10));
    const announced = Number(announcement());
    expect(announced).toBe(child.pid);
    process.kill(announced, 'SIGTERM');
    expect(await exited).toBe(143);
    const pid = Number(readFileSync(gitPid, 'utf8'));
    for (let i = 0; i < 100 && running(pid); i++) await new Promise((r) => setTimeout(r, 10));
    expect(running(pid)).toBe(false);
    expect(existsSync(join(out, 'args'))).toBe(false);
  });
});
