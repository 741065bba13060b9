// The git steps around an item's command, run here with the local shell and real git against a
// bare repository standing in for the Project's (as kwok runs an exec'd command on the host): the
// plan's defaults, the branch checked out or started, one commit by the identity with the item's
// trailer, the push guarded by a lease, and what each step prints for the worker to read back.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcingPid } from '../../operator/src/shared/exec-pid.ts';
import { workGit } from '../../operator/src/shared/work-git.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import {
  type CommandPlan,
  commandFor,
  type ProjectView,
  runnerSteps,
} from '../../operator/src/worker/commands.ts';
import { loadWorkerConfig } from '../../operator/src/worker/config.ts';
import { BRANCH_MOVED_EXIT, parseResult, parseStart } from '../../operator/src/worker/git.ts';

const config = loadWorkerConfig([], {});

const item = (name: string, spec: Record<string, unknown>) =>
  ({
    metadata: { name, namespace: 'team' },
    spec: { projectRef: { name: 'shop' }, type: 'agent', runIn: 'runner', ...spec },
    status: { attempts: 1 },
  }) as unknown as LiveWorkItem;

const project = (cloneURL: string) =>
  ({
    metadata: { name: 'shop', namespace: 'team' },
    spec: { agent: { provider: 'claude-code' } },
    status: { repo: { cloneURL } },
  }) as unknown as ProjectView;

let root: string;
let remote: string;
const IDENTITY = { RDEV_GIT_NAME: 'rdev team/shop', RDEV_GIT_EMAIL: 'rdev-abc@users.rdev.invalid' };

const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
    cwd,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rdev-git-'));
  remote = join(root, 'shop.git');
  git(root, 'init', '-q', '--bare', '-b', 'main', remote);
  const seed = join(root, 'seed');
  git(root, 'clone', '-q', remote, seed);
  writeFileSync(join(seed, 'README.md'), 'hello\n');
  git(seed, 'add', 'README.md');
  git(seed, 'commit', '-q', '-m', 'first');
  git(seed, 'push', '-q', 'origin', 'main');
});
afterAll(() => spawnSync('rm', ['-rf', root]));

let runs = 0;
/** Runs one step in a fresh directory standing in for the runner's /workspace. */
function step(argv: string[], workspace: string) {
  const [program, ...args] = argv;
  return spawnSync(program ?? 'false', args, {
    env: { PATH: process.env.PATH, HOME: root, TMPDIR: root, ...IDENTITY },
    cwd: workspace,
    encoding: 'utf8',
  });
}

/** Runs an item's steps the way the worker does; `edit` is its command's shell script. */
function attempt(name: string, spec: Record<string, unknown>, edit: string) {
  const plan = commandFor(
    item(name, { type: 'shell', command: ['sh', '-c', edit], ...spec }),
    project(`file://${remote}`),
    config,
  );
  if (!plan.runnable || 'pipeline' in plan) throw new Error('not a command');
  const workspace = mkdtempSync(join(root, `workspace-${runs++}-`));
  const steps = runnerSteps(plan as CommandPlan, 'pod', workspace);
  if (!steps.prepare || !steps.finish) throw new Error('no git steps');
  const prepared = step(steps.prepare, workspace);
  const start = parseStart(prepared.stdout);
  if (!start) throw new Error(`prepare failed: ${prepared.stderr}`);
  const ran = step(steps.command, workspace);
  const finished = step(steps.finish(start), workspace);
  return { start, ran, finished, result: parseResult(finished.stdout), workspace };
}

const commitsOn = (branch: string) => git(remote, 'log', '--format=%H %an <%ae>%n%B%n--', branch);

describe("an item's git plan", () => {
  it('commits and opens a pull request for agent items unless told otherwise, on rdev/<name>', () => {
    expect(workGit(item('fix-1', { prompt: 'Fix the login\nmore words' }))).toEqual({
      branch: 'rdev/fix-1',
      commit: true,
      pullRequest: true,
      title: 'Fix the login',
    });
    expect(workGit(item('fix-2', { prompt: 'x', git: { commit: false } }))?.pullRequest).toBe(false);
    expect(workGit(item('s', { type: 'shell', command: ['true'] }))).toBeUndefined();
    expect(
      workGit(
        item('s', { type: 'shell', command: ['make', 'fmt'], git: { branch: 'fmt', baseBranch: 'dev' } }),
      ),
    ).toEqual({
      branch: 'fmt',
      baseBranch: 'dev',
      commit: false,
      pullRequest: false,
      title: 'shell s: make fmt',
    });
  });

  it('gives workspace items no git steps, and Projects without a repository none', () => {
    const inWorkspace = commandFor(
      item('w', { prompt: 'x', runIn: 'workspace' }),
      project('file:///r/shop.git'),
      config,
    );
    expect(inWorkspace.runnable && !('pipeline' in inWorkspace) && inWorkspace.git).toBeFalsy();
    expect(inWorkspace.runnable && !('pipeline' in inWorkspace) && inWorkspace.repoDir).toBe('shop');
    const noRepo = commandFor(item('n', { prompt: 'x' }), { ...project(''), status: {} }, config);
    expect(noRepo.runnable && !('pipeline' in noRepo) && noRepo.git).toBeFalsy();
  });
});

describe("an item's git steps", () => {
  it('start a new branch from the default one, commit the change as the identity, and push it', () => {
    const a = attempt('first', { git: { commit: true, branch: 'rdev/first' } }, 'echo one > one.txt');
    expect(a.start).toEqual({ baseBranch: 'main', head: git(remote, 'rev-parse', 'main') });
    expect(a.finished.stderr).toBe('');
    expect(a.result).toEqual({ changed: true, commit: git(remote, 'rev-parse', 'rdev/first') });
    const log = commitsOn('rdev/first').split('--\n');
    expect(log[0]).toContain(`${IDENTITY.RDEV_GIT_NAME} <${IDENTITY.RDEV_GIT_EMAIL}>`);
    expect(log[0]).toContain('Rdev-Work-Item: team/first');
    expect(git(remote, 'rev-list', '--count', 'main..rdev/first')).toBe('1');
    expect(git(remote, 'show', 'rdev/first:one.txt')).toBe('one');
  });

  it('continue an existing branch: a later item builds on the earlier commit', () => {
    attempt('second', { git: { commit: true, branch: 'rdev/shared' } }, 'echo a > a.txt');
    const before = git(remote, 'rev-parse', 'rdev/shared');
    const b = attempt(
      'third',
      { git: { commit: true, branch: 'rdev/shared' } },
      'test -f a.txt && echo b > b.txt',
    );
    expect(b.ran.status).toBe(0);
    expect(b.start.branchAt).toBe(before);
    expect(b.result?.changed).toBe(true);
    expect(git(remote, 'rev-list', '--count', 'main..rdev/shared')).toBe('2');
  });

  it('report an unchanged tree and push nothing', () => {
    const a = attempt('nothing', { git: { commit: true, branch: 'rdev/nothing' } }, 'true');
    expect(a.result).toEqual({ changed: false });
    expect(
      spawnSync('git', ['rev-parse', '--verify', '-q', 'rdev/nothing'], { cwd: remote }).status,
    ).not.toBe(0);
  });

  it('refuse to push over a branch that moved since the item began', () => {
    attempt('base', { git: { commit: true, branch: 'rdev/raced' } }, 'echo 1 > r.txt');
    const plan = commandFor(
      item('raced', {
        type: 'shell',
        command: ['sh', '-c', 'echo 2 > r.txt'],
        git: { commit: true, branch: 'rdev/raced' },
      }),
      project(`file://${remote}`),
      config,
    ) as CommandPlan;
    const workspace = mkdtempSync(join(root, 'workspace-race-'));
    const steps = runnerSteps(plan, 'pod', workspace);
    const start = parseStart(step(steps.prepare ?? [], workspace).stdout);
    if (!start || !steps.finish) throw new Error('no start');
    // Someone else pushes to the branch meanwhile.
    attempt('other', { git: { commit: true, branch: 'rdev/raced' } }, 'echo 3 > other.txt');
    const moved = git(remote, 'rev-parse', 'rdev/raced');
    step(steps.command, workspace);
    const finished = step(steps.finish(start), workspace);
    expect(finished.status).toBe(BRANCH_MOVED_EXIT);
    expect(parseResult(finished.stdout)).toBeUndefined();
    expect(git(remote, 'rev-parse', 'rdev/raced')).toBe(moved);
  });

  it('fail the preparation clearly when the base branch does not exist', () => {
    const plan = commandFor(
      item('nobase', { type: 'shell', command: ['true'], git: { commit: true, baseBranch: 'no-such' } }),
      project(`file://${remote}`),
      config,
    ) as CommandPlan;
    const workspace = mkdtempSync(join(root, 'workspace-nobase-'));
    const r = step(runnerSteps(plan, 'pod', workspace).prepare ?? [], workspace);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('base branch no-such does not exist');
    expect(parseStart(r.stdout)).toBeUndefined();
  });

  it("never read the command's output as theirs: a forged result line is not a result", () => {
    expect(parseResult('changed not-a-sha\n')).toBeUndefined();
    expect(parseResult('changed 0123456789abcdef0123456789abcdef01234567\n')).toEqual({
      changed: true,
      commit: '0123456789abcdef0123456789abcdef01234567',
    });
    expect(parseStart('garbage')).toBeUndefined();
  });

  it('stop git when the attempt is stopped (TERM to the announced PID)', async () => {
    const slow = join(root, 'slow-bin');
    mkdirSync(slow, { recursive: true });
    writeFileSync(join(slow, 'git'), `#!/bin/sh\necho $$ > "${root}/git.pid"\nexec sleep 30\n`);
    chmodSync(join(slow, 'git'), 0o755);
    const plan = commandFor(
      item('slow', { prompt: 'x' }),
      project('https://example.test/r.git'),
      config,
    ) as CommandPlan;
    const workspace = mkdtempSync(join(root, 'workspace-slow-'));
    const [program, ...args] = announcingPid(runnerSteps(plan, 'pod', workspace).prepare ?? []);
    const child = spawn(program ?? 'false', args, {
      cwd: workspace,
      env: { PATH: `${slow}:${process.env.PATH}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const gitPid = join(root, 'git.pid');
    const announced = () => /rdev-exec-pid:(\d+)\n/.exec(stderr)?.[1];
    const started = () => existsSync(gitPid) && readFileSync(gitPid, 'utf8').endsWith('\n');
    for (let i = 0; i < 500 && !(announced() && started()); i++) await new Promise((r) => setTimeout(r, 10));
    process.kill(Number(announced()), 'SIGTERM');
    expect(await exited).toBe(143);
    const pid = Number(readFileSync(gitPid, 'utf8'));
    const alive = () => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(alive()).toBe(false);
  });
});
