// The CI provider driven through the generic sub-reconciler against the Woodpecker fake: what a
// Project's CIReady condition and status.ci go through, including lost answers and outages.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { woodpeckerProvider } from '../../../operator/src/providers/ci/woodpecker.ts';
import { finalizeExternal } from '../../../operator/src/providers/external.ts';
import { NotConfiguredError } from '../../../operator/src/providers/ports.ts';
import { FakeWoodpecker } from '../../fakes/woodpecker.ts';
import { ciResource, liveProject, reconcile, signal } from './support.ts';

let fake: FakeWoodpecker;

beforeEach(async () => {
  fake = await FakeWoodpecker.start({ knownForgeRepos: [{ id: 42, owner: 'org', name: 'shop' }] });
});
afterEach(() => fake.close());

const provider = (timeoutMs = 2_000) => woodpeckerProvider({ url: fake.url, token: fake.token, timeoutMs });
/** A Project whose git repository exists (status.repo recorded by the git provider). */
const withRepo = (spec: Record<string, unknown> = {}) =>
  liveProject(spec, { status: { repo: { id: 42, fullName: 'org/shop' } } });
const writes = () => fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

describe('Woodpecker CI provider', () => {
  it('registers the repository, records its id, then only observes', async () => {
    const resource = ciResource(provider());
    const first = await reconcile(resource, withRepo(), 'ci');
    expect(first.outcome.condition).toMatchObject({
      type: 'CIReady',
      status: 'True',
      message: expect.stringContaining('org/shop'),
    });
    const repoId = fake.repos()[0]?.id;
    expect(first.outcome.ids).toEqual({ forgeRemoteId: 42, fullName: 'org/shop', repoId });
    expect(first.project.status?.ci).toEqual({ repoId });
    expect(fake.repos()).toMatchObject([{ active: true, forge_remote_id: '42' }]);

    fake.requests.length = 0;
    const second = await reconcile(resource, first.project, 'ci');
    expect(second.outcome.condition?.status).toBe('True');
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/repos/lookup/org/shop']);
  });

  it('waits for the git repository, saying so', async () => {
    const out = await reconcile(ciResource(provider()), liveProject({}), 'ci');
    expect(out.outcome.condition).toMatchObject({
      status: 'False',
      reason: 'Waiting',
      message: expect.stringContaining('git repository is not ready yet'),
    });
    expect(out.outcome.requeueAfter).toBeGreaterThan(0);
    expect(out.outcome.error).toBeUndefined(); // not a failure: no backoff
    expect(fake.requests).toEqual([]);
  });

  it('reports NotConfigured without settings', async () => {
    const out = await reconcile(ciResource(woodpeckerProvider(undefined)), withRepo(), 'ci');
    expect(out.outcome.condition).toMatchObject({ status: 'False', reason: 'NotConfigured' });
    await expect(
      woodpeckerProvider(undefined).delete({}, { project: withRepo(), signal, rotatePassword: false }),
    ).rejects.toBeInstanceOf(NotConfiguredError);
  });

  it('reads settings through a function (a Secret read when needed)', async () => {
    const resource = ciResource(woodpeckerProvider(async () => ({ url: fake.url, token: fake.token })));
    expect((await reconcile(resource, withRepo(), 'ci')).outcome.condition?.status).toBe('True');
  });

  it('adopts a registration whose answer was lost, without registering again', async () => {
    const resource = ciResource(provider());
    fake.faults.next(1, { status: 502 }, { method: 'POST', path: '/api/repos', afterEffect: true });
    const failed = await reconcile(resource, withRepo(), 'ci');
    expect(failed.outcome.condition).toMatchObject({
      status: 'False',
      message: expect.stringContaining('502'),
    });
    expect(failed.project.status?.ci).toBeUndefined();
    expect(fake.repos()).toMatchObject([{ active: true }]);

    const retried = await reconcile(resource, failed.project, 'ci');
    expect(retried.outcome.condition?.status).toBe('True');
    expect(retried.project.status?.ci).toEqual({ repoId: fake.repos()[0]?.id });
    expect(writes()).toEqual(['POST /api/repos']);
  });

  it('adopts on 409 when a lookup missed a registration made meanwhile', async () => {
    await fetch(`${fake.url}/api/repos?forge_remote_id=42`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}` },
    });
    fake.faults.next(2, { status: 404 }, { path: '/api/repos/lookup/org/shop' }); // stale reads
    const out = await reconcile(ciResource(provider()), withRepo(), 'ci');
    expect(out.outcome.condition?.status).toBe('True');
    expect(out.project.status?.ci).toEqual({ repoId: fake.repos()[0]?.id });
    expect(fake.requests.map((r) => `${r.method} ${r.status}`)).toEqual([
      'POST 200',
      'GET 404',
      'GET 404',
      'POST 409',
      'GET 200',
    ]);
  });

  it('reactivates a repository deactivated behind its back', async () => {
    const resource = ciResource(provider());
    const first = await reconcile(resource, withRepo(), 'ci');
    const repoId = first.project.status?.ci?.repoId;
    await fetch(`${fake.url}/api/repos/${repoId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${fake.token}` },
    });
    const again = await reconcile(resource, first.project, 'ci');
    expect(again.outcome.condition?.status).toBe('True');
    expect(fake.repos()).toMatchObject([{ id: repoId, active: true }]);
  });

  it('refuses a registration of the same name for another forge repository', async () => {
    const out = await reconcile(
      ciResource(provider()),
      liveProject({}, { status: { repo: { id: 42, fullName: 'org/shop' } } }),
      'ci',
    );
    expect(out.outcome.condition?.status).toBe('True');
    const other = liveProject({}, { name: 'other', status: { repo: { id: 77, fullName: 'org/shop' } } });
    const refused = await reconcile(ciResource(provider()), other, 'ci');
    expect(refused.outcome.condition).toMatchObject({
      status: 'False',
      message: expect.stringMatching(/another Gitea repository \(forge id 42, this Project's is 77\)/),
    });
  });

  it('recovers after a 500, a 429 and a timeout, each reported in the condition', async () => {
    const resource = ciResource(provider(200));
    let project = withRepo();
    fake.faults.next(1, { status: 500, message: 'database is locked' });
    fake.faults.next(1, { status: 429, retryAfterSeconds: 1 });
    fake.faults.next(1, { hang: true });
    const messages: string[] = [];
    for (let i = 0; i < 4; i++) {
      const out = await reconcile(resource, project, 'ci');
      project = out.project;
      messages.push(`${out.outcome.condition?.status} ${out.outcome.condition?.message}`);
      if (out.outcome.condition?.status === 'False') expect(out.outcome.error).toBeDefined();
    }
    expect(messages).toEqual([
      'False Woodpecker GET /api/repos/lookup/org/shop: 500 database is locked',
      'False Woodpecker GET /api/repos/lookup/org/shop: 429 Too Many Requests',
      'False Woodpecker GET /api/repos/lookup/org/shop: no answer within 200 ms',
      expect.stringMatching(/^True Woodpecker repository org\/shop/),
    ]);
    expect(fake.repos()).toHaveLength(1);
  });

  it('on deletion removes the registration, found by name when its id was never recorded', async () => {
    const resource = ciResource(provider());
    fake.faults.next(1, { status: 500 }, { method: 'POST', afterEffect: true });
    const failed = await reconcile(resource, withRepo(), 'ci');
    expect(failed.project.status?.ci).toBeUndefined();
    await finalizeExternal(resource, failed.project, signal);
    expect(fake.repos()).toEqual([]);
    // gone already: nothing to do, no error
    await finalizeExternal(resource, failed.project, signal);
    await provider().delete(
      { forgeRemoteId: 42, fullName: 'org/shop', repoId: 12345 },
      { project: withRepo(), signal, rotatePassword: false },
    );
  });

  it('deactivates only when the git repository is retained, and leaves another forge repository alone', async () => {
    const resource = ciResource(provider());
    const retained = withRepo({ repo: { deletionPolicy: 'Retain' } });
    const done = await reconcile(resource, retained, 'ci');
    await finalizeExternal(resource, done.project, signal);
    expect(fake.repos()).toMatchObject([{ active: false }]);
    expect(writes()).toEqual(['POST /api/repos', `DELETE /api/repos/${done.project.status?.ci?.repoId}`]);

    const stale = { forgeRemoteId: 7, fullName: 'org/shop', repoId: done.project.status?.ci?.repoId };
    await provider().delete(stale, { project: withRepo(), signal, rotatePassword: false });
    expect(fake.repos()).toHaveLength(1);
  });
});
