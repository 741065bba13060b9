// The Woodpecker fake's own contract (plain fetch, the wire format being the point), and the
// client the worker will use against it: triggering pipelines, following them, reading logs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isFinished,
  WoodpeckerError,
  woodpeckerClient,
} from '../../../operator/src/providers/ci/woodpecker-client.ts';
import { FakeWoodpecker } from '../../fakes/woodpecker.ts';

let fake: FakeWoodpecker;

beforeEach(async () => {
  fake = await FakeWoodpecker.start({
    knownForgeRepos: [
      { id: 42, owner: 'org', name: 'shop', private: true },
      { id: 43, owner: 'org', name: 'blog', defaultBranch: 'trunk', branches: ['trunk', 'dev'] },
    ],
  });
});
afterEach(() => fake.close());

async function call(method: string, path: string, options: { token?: string | null; body?: unknown } = {}) {
  const { token = fake.token, body } = options;
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json: json as Record<string, unknown> };
}

describe('Woodpecker fake: repositories', () => {
  it('activates a known forge repository once (409 after), looks it up, deactivates, reactivates, removes', async () => {
    expect((await call('POST', '/api/repos?forge_remote_id=42', { token: null })).status).toBe(401);
    const activated = await call('POST', '/api/repos?forge_remote_id=42');
    expect(activated.status).toBe(200);
    expect(activated.json).toMatchObject({
      forge_remote_id: '42',
      owner: 'org',
      name: 'shop',
      full_name: 'org/shop',
      active: true,
      private: true,
      visibility: 'private',
      default_branch: 'main',
    });
    const id = activated.json.id as number;
    const again = await call('POST', '/api/repos?forge_remote_id=42');
    expect(again).toMatchObject({ status: 409, text: 'Repository is already active.' });
    expect((await call('GET', '/api/repos/lookup/org/shop')).json).toMatchObject({ id, active: true });
    expect((await call('GET', `/api/repos/${id}`)).json).toMatchObject({ full_name: 'org/shop' });

    expect((await call('DELETE', `/api/repos/${id}`)).json).toMatchObject({ id, active: false });
    expect((await call('GET', '/api/repos/lookup/org/shop')).json).toMatchObject({ id, active: false });
    expect((await call('POST', '/api/repos?forge_remote_id=42')).json).toMatchObject({ id, active: true });

    expect((await call('DELETE', `/api/repos/${id}?remove=true`)).status).toBe(200);
    expect((await call('GET', '/api/repos/lookup/org/shop')).status).toBe(404);
    expect((await call('GET', `/api/repos/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/api/repos/${id}`)).status).toBe(404);
  });

  it('refuses a missing or unknown forge id, and a user who is not admin of the repository', async () => {
    expect((await call('POST', '/api/repos')).status).toBe(400);
    expect(await call('POST', '/api/repos?forge_remote_id=999')).toMatchObject({
      status: 500,
      text: 'Could not fetch repository from forge.',
    });
    fake.addToken('dev-token', { login: 'dev', admin: false });
    const denied = await call('POST', '/api/repos?forge_remote_id=42', { token: 'dev-token' });
    expect(denied.status).toBe(403);
    expect((await call('GET', '/api/user', { token: 'dev-token' })).json).toMatchObject({
      login: 'dev',
      admin: false,
    });
  });
});

describe('Woodpecker fake: a forge elsewhere', () => {
  it('asks forgeLookup for forge ids it does not know', async () => {
    const asked: number[] = [];
    const other = await FakeWoodpecker.start({
      forgeLookup: async (id) => {
        asked.push(id);
        return id === 7 ? { id, owner: 'org', name: 'seven' } : undefined;
      },
    });
    try {
      const wp = woodpeckerClient({ url: other.url, token: other.token });
      expect(await wp.activateRepo(7)).toMatchObject({ full_name: 'org/seven', forge_remote_id: '7' });
      await expect(wp.activateRepo(8)).rejects.toMatchObject({ status: 500 });
      await expect(wp.activateRepo(7)).rejects.toMatchObject({ status: 409 });
      expect(asked).toEqual([7, 8]); // a known one is not asked again
    } finally {
      await other.close();
    }
  });
});

describe('Woodpecker fake: pipelines', () => {
  it('runs manual pipelines that the test moves along, with base64 logs per step', async () => {
    const repo = (await call('POST', '/api/repos?forge_remote_id=42')).json;
    const id = repo.id as number;
    const created = await call('POST', `/api/repos/${id}/pipelines`, {
      body: { branch: 'main', variables: { TASK: 'build' } },
    });
    expect(created.json).toMatchObject({
      number: 1,
      status: 'pending',
      event: 'manual',
      branch: 'main',
      variables: { TASK: 'build' },
    });
    const steps =
      (created.json.workflows as { children: { id: number; name: string }[] }[])[0]?.children ?? [];
    expect(steps.map((s) => s.name)).toEqual(['clone', 'test']);

    fake.setPipelineStatus(id, 1, 'running');
    const running = await call('GET', `/api/repos/${id}/pipelines/1`);
    expect(running.json).toMatchObject({ status: 'running', workflows: [{ state: 'running' }] });

    fake.appendLog(id, 1, 'test', ['ok 1', 'ok 2']);
    fake.setPipelineStatus(id, 1, 'failure', { exitCode: 2 });
    const failed = await call('GET', `/api/repos/${id}/pipelines/latest`);
    expect(failed.json).toMatchObject({
      number: 1,
      status: 'failure',
      workflows: [
        {
          children: [
            { state: 'success', exit_code: 0 },
            { state: 'failure', exit_code: 2 },
          ],
        },
      ],
    });
    const logs = await call('GET', `/api/repos/${id}/logs/1/${steps[1]?.id}`);
    expect(logs.json).toMatchObject([{ line: 0, data: Buffer.from('ok 1').toString('base64') }, { line: 1 }]);

    expect((await call('GET', `/api/repos/${id}/pipelines/7`)).status).toBe(404);
    expect((await call('GET', `/api/repos/${id}/logs/1/99999`)).status).toBe(404);
    await call('POST', `/api/repos/${id}/pipelines`, { body: { branch: 'main' } });
    expect((await call('GET', `/api/repos/${id}/logs/2/${steps[1]?.id}`)).status).toBe(400);
  });

  it('answers latest per branch (the default branch unless asked) and knows the forge branches', async () => {
    const id = (await call('POST', '/api/repos?forge_remote_id=43')).json.id as number;
    expect((await call('POST', `/api/repos/${id}/pipelines`, { body: { branch: 'nope' } })).status).toBe(500);
    await call('POST', `/api/repos/${id}/pipelines`, { body: { branch: 'trunk' } });
    await call('POST', `/api/repos/${id}/pipelines`, { body: { branch: 'dev' } });
    expect((await call('GET', `/api/repos/${id}/pipelines/latest`)).json).toMatchObject({ number: 1 });
    expect((await call('GET', `/api/repos/${id}/pipelines/latest?branch=dev`)).json).toMatchObject({
      number: 2,
    });
    expect(((await call('GET', `/api/repos/${id}/pipelines`)).json as unknown as unknown[]).length).toBe(2);
  });
});

describe('Woodpecker client against the fake', () => {
  it('triggers a pipeline, follows it to the end and reads a step log', async () => {
    const wp = woodpeckerClient({ url: `${fake.url}/`, token: fake.token });
    const repo = await wp.activateRepo(42);
    const pipeline = await wp.triggerPipeline(repo.id, 'main', { WORK_ITEM: 'wi-1' });
    expect(pipeline).toMatchObject({ number: 1, status: 'pending', branch: 'main' });
    expect(isFinished(pipeline.status)).toBe(false);

    const step = pipeline.workflows[0]?.children.find((s) => s.name === 'test');
    fake.appendLog(repo.id, 1, 'test', 'line one\nline two');
    fake.setPipelineStatus(repo.id, 1, 'success');
    const done = await wp.getPipeline(repo.id, 'latest', { branch: 'main' });
    expect(done.status).toBe('success');
    expect(isFinished(done.status)).toBe(true);
    expect(await wp.getLogs(repo.id, 1, step?.id ?? 0)).toEqual([
      { line: 0, time: 0, text: 'line one' },
      { line: 1, time: 1, text: 'line two' },
    ]);
    await expect(wp.getPipeline(repo.id, 5)).rejects.toMatchObject({ status: 404 });
  });

  it('turns failures into WoodpeckerError with the status, a timeout into one without, and never says the token', async () => {
    const wp = woodpeckerClient({ url: fake.url, token: fake.token, timeoutMs: 200 });
    fake.faults.next(1, { status: 502, message: 'bad gateway' });
    const failed = await wp.lookupRepo('org/shop').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WoodpeckerError);
    expect(failed).toMatchObject({
      status: 502,
      message: 'Woodpecker GET /api/repos/lookup/org/shop: 502 bad gateway',
    });

    fake.faults.next(1, { hang: true });
    const hung = await wp.lookupRepo('org/shop').catch((e: unknown) => e);
    expect(hung).toMatchObject({
      status: undefined,
      message: expect.stringContaining('no answer within 200 ms'),
    });

    fake.faults.next(1, { reset: true });
    const reset = (await wp.lookupRepo('org/shop').catch((e: unknown) => e)) as WoodpeckerError;
    expect(reset.status).toBeUndefined();

    const cancelled = new AbortController();
    fake.faults.next(1, { hang: true });
    const pending = wp.lookupRepo('org/shop', { signal: cancelled.signal }).catch((e: unknown) => e);
    await expect.poll(() => fake.faults.pending).toBe(0); // the request reached the fake and hangs
    cancelled.abort(new Error('shutting down'));
    expect(await pending).toMatchObject({ message: 'shutting down' });

    for (const err of [failed, hung, reset]) expect(String(err)).not.toContain(fake.token);
    expect(await wp.lookupRepo('org/shop')).toBeUndefined();
  });
});
