// The Gitea git provider on its own, against the harness's real Gitea: what RepoReady and
// status.repo go through when a Project's repository is created, resumed after a crash, adopted,
// refused, repaired after drift and deleted. The end-to-end tests (project-repo) drive the same
// provider through the operator; this one reaches the states a crash or a person leaves behind
// directly, and checks each one on the server and in a clone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { project as projectSchema } from '../../operator/src/api/v1alpha1/index.ts';
import { loadConfig } from '../../operator/src/config.ts';
import {
  type ExternalResource,
  finalizeExternal,
  reconcileExternal,
} from '../../operator/src/providers/external.ts';
import {
  DEFAULT_BRANCH,
  describeRepo,
  ForeignRepositoryError,
  type GiteaSettings,
  giteaProvider,
  type RepoIds,
  recordedRepo,
} from '../../operator/src/providers/git/gitea.ts';
import { renderRepository } from '../../operator/src/providers/git/template.ts';
import { ownerMarker } from '../../operator/src/providers/marker.ts';
import { NotConfiguredError } from '../../operator/src/providers/ports.ts';
import { git, tree } from './support/git.ts';
import { giteaAdmin, giteaAdminAuth, giteaServer, useGiteaOrg } from './support/gitea.ts';
import { uniqueName } from './support/kube.ts';

const gitea = giteaServer();
const api = giteaAdmin();
const admin = giteaAdminAuth();
const { name: org } = useGiteaOrg('rdev-gp', { visibility: 'private' });
const signal = new AbortController().signal;
const config = loadConfig(['--domain=example.dev'], {});
// Nothing listens there: Gitea only stores the hook (deliveries fail quietly).
const HOOK_URL = 'http://127.0.0.1:9/rdev-hook';
const work = mkdtempSync(join(tmpdir(), 'rdev-git-provider-'));

const settings = (overrides: Partial<GiteaSettings> = {}): GiteaSettings => ({
  organization: org,
  webhooks: [HOOK_URL],
  access: { url: gitea.url, token: gitea.adminToken, webhookSecret: 'hook-secret', timeoutMs: 10_000 },
  render: renderRepository(config),
  ...overrides,
});
const provider = giteaProvider(settings());

let uids = 0;
function liveProject(
  name: string,
  spec: Record<string, unknown> = {},
  options: { uid?: string; status?: object } = {},
): LiveProject {
  uids += 1;
  return projectSchema.parse({
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: {
      name,
      namespace: 'team',
      uid: options.uid ?? `6f1c2d9e-0000-4000-8000-${String(uids).padStart(12, '0')}`,
      generation: 1,
    },
    spec: {
      agent: { credentialsSecretRef: { name: 'anthropic' } },
      template: { name: 'monorepo', components: ['service'] },
      ...spec,
    },
    ...(options.status ? { status: options.status } : {}),
  }) as LiveProject;
}

/** The repository resource as the project controller registers it. */
const repoResource = (client = provider): ExternalResource<RepoIds> => ({
  name: 'repository',
  condition: 'RepoReady',
  enabled: (p) => p.spec.repo.enabled !== false,
  deletionPolicy: (p) => p.spec.repo.deletionPolicy,
  recorded: recordedRepo,
  rotation: () => ({}),
  describe: describeRepo,
  client,
});

/** One reconcile, then the Project as it is after the controller's status write. */
async function reconcile(project: LiveProject, client = provider) {
  const outcome = await reconcileExternal(repoResource(client), project, signal);
  const next = { ...project, status: { ...project.status, repo: outcome.ids } } as LiveProject;
  return { outcome, project: next };
}

const ctx = (project: LiveProject) => ({
  project,
  recorded: recordedRepo(project),
  signal,
  rotatePassword: false,
});

const getRepo = (name: string) =>
  api.repos.repoGet(org, name).then(
    (r) => r.data,
    (err: Response) => {
      if (err.status === 404) return undefined;
      throw err;
    },
  );
const hookURLs = async (name: string) =>
  (await api.repos.repoListHooks(org, name)).data.map((h) => h.config?.url);
const commitCount = async (name: string) =>
  api.repos.repoGetAllCommits(org, name, { sha: DEFAULT_BRANCH, limit: 50 }).then(
    (r) => r.data.length,
    (err: Response) => {
      // An empty repository has no branch to list commits of.
      if (err.status === 409 || err.status === 404) return 0;
      throw err;
    },
  );

let clones = 0;
/** Clones the repository over HTTP with the admin's token; the clone's directory. */
function clone(cloneURL: string): string {
  clones += 1;
  const dir = `clone-${clones}`;
  const r = git(work, admin, 'clone', '--quiet', cloneURL, dir);
  expect(r.ok, r.stderr).toBe(true);
  return join(work, dir);
}

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the Gitea git provider', () => {
  it('is NotConfigured without a server, and without its organisation', async () => {
    const unconfigured = giteaProvider(settings({ access: undefined }));
    const project = liveProject('nowhere');
    await expect(unconfigured.observe(ctx(project))).rejects.toThrow(NotConfiguredError);
    const { outcome } = await reconcile(project, unconfigured);
    expect(outcome.condition).toMatchObject({
      type: 'RepoReady',
      status: 'False',
      reason: 'NotConfigured',
      message: expect.stringContaining('--gitea-url'),
    });
    expect(outcome.error).toBeUndefined();

    const missing = uniqueName('rdev-gp-missing');
    const orphan = giteaProvider(settings({ organization: missing }));
    const err = await orphan.create(ctx(project)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotConfiguredError);
    expect((err as Error).message).toContain(`the Gitea organisation ${missing}`);
    // The organisation is not made on the operator's behalf: it is the operator's configuration.
    expect(
      await api.orgs.orgGet(missing).then(
        () => 200,
        (e: Response) => e.status,
      ),
    ).toBe(404);
  });

  it('creates the repository with the rendered template as one commit, and its webhook', async () => {
    const project = liveProject('shop');
    const { outcome, project: recorded } = await reconcile(project);
    expect(outcome.condition).toMatchObject({ status: 'True', reason: 'Provisioned' });
    expect(outcome.condition?.message).toContain(`repository ${org}/shop is ready`);

    const repo = await getRepo('shop');
    expect(outcome.ids).toEqual({
      id: repo?.id,
      fullName: `${org}/shop`,
      url: repo?.html_url,
      cloneURL: repo?.clone_url,
    });
    expect(repo?.id).toEqual(expect.any(Number));
    expect(repo?.clone_url).toBe(`${gitea.url}/${org}/shop.git`);
    expect(repo?.private).toBe(true);
    expect(repo?.default_branch).toBe(DEFAULT_BRANCH);
    expect(repo?.description).toContain(ownerMarker(project));

    const hooks = (await api.repos.repoListHooks(org, 'shop')).data;
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ type: 'gitea', active: true, config: { url: HOOK_URL } });
    expect(hooks[0]?.events).toEqual(expect.arrayContaining(['push', 'pull_request']));

    // The clone holds exactly the rendered template, in a single commit on main.
    const rendered = renderRepository(config)(project, { fullName: `${org}/shop`, gitURL: gitea.url });
    const dir = clone(repo?.clone_url ?? '');
    expect(tree(dir)).toEqual(Object.fromEntries(rendered.map((f) => [f.path, f.content])));
    for (const file of ['README.md', '.gitignore', '.woodpecker.yml', '.claude/CLAUDE.md']) {
      expect(tree(dir), file).toHaveProperty([file]);
    }
    expect(git(dir, undefined, 'rev-list', '--count', 'HEAD').stdout).toBe('1');
    expect(git(dir, undefined, 'symbolic-ref', '--short', 'HEAD').stdout).toBe(DEFAULT_BRANCH);
    expect(git(dir, undefined, 'log', '-1', '--format=%s').stdout).toBe(
      'Start shop from the monorepo template',
    );

    // Recorded and unchanged: the next reconcile only looks.
    expect(await provider.observe(ctx(recorded))).toEqual({ exists: true, upToDate: true });
    const again = await reconcile(recorded);
    expect(again.outcome.ids).toEqual(outcome.ids);
  });

  it('retried after a crash (nothing recorded), commits nothing twice and adds no second webhook', async () => {
    const project = liveProject('retry');
    const first = await provider.create(ctx(project));
    const head = (await api.repos.repoGetBranch(org, 'retry', DEFAULT_BRANCH)).data.commit?.id;

    // status.repo was never written: the next reconcile sees an existing, unrecorded repository.
    const observed = await provider.observe(ctx(project));
    expect(observed).toMatchObject({ exists: true, upToDate: false, diff: 'not recorded in status yet' });
    const { outcome } = await reconcile(project);
    expect(outcome.ids).toEqual(first);
    expect(await provider.create(ctx(project))).toEqual(first);

    expect((await api.repos.repoGetBranch(org, 'retry', DEFAULT_BRANCH)).data.commit?.id).toBe(head);
    expect(await commitCount('retry')).toBe(1);
    expect(await hookURLs('retry')).toEqual([HOOK_URL]);
    const repos = (await api.orgs.orgListRepos(org, { limit: 50 })).data.map((r) => r.name);
    expect(repos.filter((n) => n === 'retry')).toHaveLength(1);
  });

  it('resumes a create cut off after the repository was made: adopts it by its marker, commits once', async () => {
    const project = liveProject('resumed');
    // What a create leaves when the operator dies right after Gitea made the repository.
    await api.orgs.createOrgRepo(org, {
      name: 'resumed',
      private: true,
      default_branch: DEFAULT_BRANCH,
      description: `resumed, managed by rdev (${ownerMarker(project)})`,
    });
    const observed = await provider.observe(ctx(project));
    expect(observed.exists).toBe(true);
    expect(observed.upToDate).toBe(false);
    expect(observed.diff).toContain('the template is not committed yet');
    expect(observed.diff).toContain(`webhooks missing: ${HOOK_URL}`);

    const { outcome, project: recorded } = await reconcile(project);
    expect(outcome.condition?.status).toBe('True');
    expect(outcome.ids?.id).toBe((await getRepo('resumed'))?.id);
    expect(await commitCount('resumed')).toBe(1);
    expect(await hookURLs('resumed')).toEqual([HOOK_URL]);
    expect(tree(clone(outcome.ids?.cloneURL ?? ''))).toHaveProperty(['README.md']);
    expect(await provider.observe(ctx(recorded))).toEqual({ exists: true, upToDate: true });
  });

  it('adopts a repository that carries its marker without committing over what it holds', async () => {
    const project = liveProject('adopted', { repo: { name: 'adopted-repo' } });
    await api.orgs.createOrgRepo(org, {
      name: 'adopted-repo',
      private: true,
      default_branch: DEFAULT_BRANCH,
      description: `kept by hand; ${ownerMarker(project)}`,
    });
    await api.repos.repoChangeFiles(org, 'adopted-repo', {
      branch: DEFAULT_BRANCH,
      message: 'by hand',
      files: [{ operation: 'create', path: 'MINE.md', content: Buffer.from('mine\n').toString('base64') }],
    });

    const ids = await provider.create(ctx(project));
    expect(ids).toMatchObject({ fullName: `${org}/adopted-repo`, id: (await getRepo('adopted-repo'))?.id });
    expect(await commitCount('adopted-repo')).toBe(1);
    expect(tree(clone(ids.cloneURL ?? ''))).toEqual({ 'MINE.md': 'mine\n' });
    expect(await hookURLs('adopted-repo')).toEqual([HOOK_URL]);
    expect((await getRepo('adopted-repo'))?.description).toBe(`kept by hand; ${ownerMarker(project)}`);
  });

  it('refuses a repository of that name that is not its own, says so, and never touches it', async () => {
    await api.orgs.createOrgRepo(org, { name: 'taken', private: false, description: 'a person made this' });
    // Another Project of the same namespace and name (deleted and made again) is another owner too.
    const previous = liveProject('owned', {}, { uid: '6f1c2d9e-0000-4000-8000-aaaaaaaaaaaa' });
    await provider.create(ctx(previous));
    const before = {
      taken: await getRepo('taken'),
      owned: await getRepo('owned'),
      ownedCommits: await commitCount('owned'),
    };

    for (const name of ['taken', 'owned']) {
      const project = liveProject(name);
      await expect(provider.observe(ctx(project))).rejects.toThrow(ForeignRepositoryError);
      const err = await provider.create(ctx(project)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ForeignRepositoryError);
      expect((err as Error).message).toContain(
        `repository ${org}/${name} already exists and is not this Project's`,
      );
      expect((err as Error).message).toContain(ownerMarker(project));

      const { outcome } = await reconcile(project);
      expect(outcome.condition).toMatchObject({
        status: 'False',
        reason: 'ProvisioningFailed',
        message: expect.stringContaining("is not this Project's"),
      });
      expect(outcome.error).toBeInstanceOf(ForeignRepositoryError);
      // Deleting the Project deletes nothing of someone else's, and does not fail.
      await provider.delete({ fullName: `${org}/${name}` }, { project, signal, rotatePassword: false });
      await finalizeExternal(repoResource(), project, signal);
    }

    expect(await getRepo('taken')).toMatchObject({
      id: before.taken?.id,
      description: 'a person made this',
      private: false,
      empty: true,
      updated_at: before.taken?.updated_at,
    });
    expect(await hookURLs('taken')).toEqual([]);
    expect(await getRepo('owned')).toMatchObject({
      id: before.owned?.id,
      description: before.owned?.description,
      updated_at: before.owned?.updated_at,
    });
    expect(await commitCount('owned')).toBe(before.ownedCommits);
  });

  it('repairs drift: visibility changed by hand, a webhook deleted, and a spec that changes', async () => {
    const { project } = await reconcile(liveProject('drift'));
    await api.repos.repoEdit(org, 'drift', { private: false });
    for (const hook of (await api.repos.repoListHooks(org, 'drift')).data) {
      await api.repos.repoDeleteHook(org, 'drift', hook.id ?? 0);
    }
    // Someone else's hook stays as it is.
    await api.repos.repoCreateHook(org, 'drift', {
      type: 'gitea',
      active: true,
      events: ['push'],
      config: { url: 'http://127.0.0.1:9/someone-elses', content_type: 'json' },
    });

    const observed = await provider.observe(ctx(project));
    expect(observed).toMatchObject({ exists: true, upToDate: false });
    expect(observed.diff).toContain('private should be true');
    expect(observed.diff).toContain(`webhooks missing: ${HOOK_URL}`);

    const repaired = await reconcile(project);
    expect(repaired.outcome.condition?.status).toBe('True');
    expect((await getRepo('drift'))?.private).toBe(true);
    expect((await hookURLs('drift')).sort()).toEqual([HOOK_URL, 'http://127.0.0.1:9/someone-elses'].sort());
    expect(await commitCount('drift')).toBe(1);
    expect(await provider.observe(ctx(repaired.project))).toEqual({ exists: true, upToDate: true });

    // The Project asks for a public repository now.
    const publicProject = {
      ...repaired.project,
      spec: { ...repaired.project.spec, repo: { ...repaired.project.spec.repo, private: false } },
    } as LiveProject;
    expect((await provider.observe(ctx(publicProject))).diff).toBe('private should be false');
    await reconcile(publicProject);
    expect((await getRepo('drift'))?.private).toBe(false);
    expect(await provider.observe(ctx(publicProject))).toEqual({ exists: true, upToDate: true });
  });

  it('deletes its repository (gone already is fine), and keeps it with deletionPolicy Retain', async () => {
    const { project } = await reconcile(liveProject('doomed'));
    const ids = recordedRepo(project);
    expect(ids?.fullName).toBe(`${org}/doomed`);
    await finalizeExternal(repoResource(), project, signal);
    expect(await getRepo('doomed')).toBeUndefined();
    await provider.delete(ids as RepoIds, { project, signal, rotatePassword: false });
    expect(await provider.observe(ctx(project))).toEqual({ exists: false, upToDate: false });

    // Never created (nothing recorded): deletion looks for the deterministic name and finds nothing.
    await finalizeExternal(repoResource(), liveProject('never-made'), signal);

    const kept = await reconcile(liveProject('kept', { repo: { deletionPolicy: 'Retain' } }));
    await finalizeExternal(repoResource(), kept.project, signal);
    expect((await getRepo('kept'))?.id).toBe(kept.outcome.ids?.id);

    // Disabled with Delete: what status recorded goes, and status forgets it.
    const disabled = await reconcile(liveProject('switched-off'));
    const off = {
      ...disabled.project,
      spec: { ...disabled.project.spec, repo: { ...disabled.project.spec.repo, enabled: false } },
    } as LiveProject;
    const outcome = await reconcileExternal(repoResource(), off, signal);
    expect(outcome).toEqual({ ids: undefined });
    expect(await getRepo('switched-off')).toBeUndefined();
  });
});
