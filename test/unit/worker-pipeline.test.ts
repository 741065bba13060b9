// Build, test and deploy items run as the Project's CI pipeline, against the Woodpecker fake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { woodpeckerClient } from '../../operator/src/providers/ci/woodpecker-client.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { commandFor, type ProjectView } from '../../operator/src/worker/commands.ts';
import { loadWorkerConfig } from '../../operator/src/worker/config.ts';
import { runPipeline } from '../../operator/src/worker/pipeline.ts';
import { FakeWoodpecker } from '../fakes/woodpecker.ts';

let fake: FakeWoodpecker;
let repoId = 0;
beforeEach(async () => {
  fake = await FakeWoodpecker.start({ knownForgeRepos: [{ id: 42, owner: 'org', name: 'shop' }] });
  repoId = (await woodpeckerClient({ url: fake.url, token: fake.token }).activateRepo(42)).id;
});
afterEach(() => fake.close());

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

function start(lines: string[]) {
  return runPipeline({
    client: woodpeckerClient({ url: fake.url, token: fake.token }),
    repoId,
    branch: 'main',
    variables: { RDEV_TASK: 'test' },
    onLine: (line) => lines.push(line),
    tailBytes: 1024,
    pollMs: 10,
  });
}

describe('an item run as the CI pipeline', () => {
  it('triggers a manual pipeline, streams each step log once, and exits 0 on success', async () => {
    const lines: string[] = [];
    const run = start(lines);
    await until(() => fake.pipelines(repoId).length === 1);
    fake.setPipelineStatus(repoId, 1, 'running');
    fake.appendLog(repoId, 1, 'clone', 'cloned');
    await until(() => lines.includes('clone: cloned'));
    fake.appendLog(repoId, 1, 'test', ['ok 1', 'ok 2']);
    fake.setPipelineStatus(repoId, 1, 'success');
    const result = await run.result;
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual([
      'pipeline #1 started on main',
      'clone: cloned',
      'test: ok 1',
      'test: ok 2',
      'pipeline #1 success',
    ]);
    expect(result.tail).toContain('test: ok 2');
    expect(fake.pipelines(repoId)[0]).toMatchObject({ branch: 'main', event: 'manual' });
  });

  it("exits with the failed step's code", async () => {
    const run = start([]);
    await until(() => fake.pipelines(repoId).length === 1);
    fake.setPipelineStatus(repoId, 1, 'failure', { exitCode: 3, failedStep: 'test' });
    expect((await run.result).exitCode).toBe(3);
  });

  it('stops following when stopped, and fails when Woodpecker refuses', async () => {
    const run = start([]);
    await until(() => fake.pipelines(repoId).length === 1);
    run.stop('timedOut');
    expect(await run.result).toMatchObject({ exitCode: 1, stoppedFor: 'timedOut' });

    fake.faults.next(1, { status: 500 });
    const lines: string[] = [];
    expect((await start(lines).result).exitCode).toBe(1);
    expect(lines.at(-1)).toMatch(/CI pipeline failed to run: Woodpecker POST .* 500/);
  });
});

describe('what a build item runs', () => {
  const item = (spec: Record<string, unknown>) =>
    ({
      metadata: { name: 'b1', namespace: 'team' },
      spec: { projectRef: { name: 'shop' }, type: 'build', ...spec },
      status: { attempts: 1 },
    }) as unknown as LiveWorkItem;
  const project = (repoId?: number) =>
    ({
      metadata: { name: 'shop', namespace: 'team' },
      spec: {},
      status: repoId ? { ci: { repoId } } : {},
    }) as unknown as ProjectView;
  const withCI = loadWorkerConfig(['--woodpecker-url=http://ci.test', '--build-command=make build'], {});

  it('is its own command first, then the Project pipeline, then the configured command', () => {
    expect(commandFor(item({ command: ['make'] }), project(7), withCI)).toMatchObject({ command: ['make'] });
    expect(commandFor(item({}), project(7), withCI)).toMatchObject({
      pipeline: { repoId: 7, branch: 'main', variables: { RDEV_TASK: 'build', RDEV_WORK_ITEM: 'b1' } },
    });
    expect(commandFor(item({}), project(), withCI)).toMatchObject({ command: ['sh', '-c', 'make build'] });
    const bare = loadWorkerConfig([], {});
    expect(commandFor(item({}), project(7), bare)).toMatchObject({ runnable: false });
  });
});
