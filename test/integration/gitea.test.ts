// The harness's Gitea (hack/services.sh) is a real server, usable the way the operator uses it: the
// release the npm client gitea-js was generated from, organisations and repositories through that
// client, several files in one commit through the contents API, and git over HTTP with a token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git, tree } from './support/git.ts';
import { giteaAdmin, giteaAdminAuth, giteaServer } from './support/gitea.ts';
import { uniqueName } from './support/kube.ts';

const gitea = giteaServer();
const api = giteaAdmin();

// gitea-js throws the failed Response itself: a 404 during cleanup means already gone.
const ignoreNotFound = (err: unknown) => {
  if ((err as Response | undefined)?.status !== 404) throw err;
};

describe('the test harness Gitea', () => {
  const org = uniqueName('rdev-it');
  const repo = 'app';
  const work = mkdtempSync(join(tmpdir(), 'rdev-gitea-'));

  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await api.repos.repoDelete(org, repo).catch(ignoreNotFound);
    await api.orgs.orgDelete(org).catch(ignoreNotFound);
    // The cleanup is checked too: deleting an organisation that still holds a repository fails.
    const left = await api.orgs.orgGet(org).then(
      (r) => r.status,
      (err: Response) => err.status,
    );
    expect(left).toBe(404);
  });

  it('is the release the npm client was generated from', async () => {
    expect(gitea.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const raw = await fetch(`${gitea.url}/api/v1/version`);
    expect(await raw.json()).toEqual({ version: '1.23.8' });
    expect((await api.version.getVersion()).data.version).toBe('1.23.8');
    expect((await api.user.userGetCurrent()).data).toMatchObject({ login: gitea.adminUser, is_admin: true });
  });

  it('commits several files at once and serves exactly them over git HTTP with a token', async () => {
    await api.orgs.orgCreate({ username: org, visibility: 'private' });
    const created = await api.orgs.createOrgRepo(org, { name: repo, private: true, default_branch: 'main' });
    expect(created.status).toBe(201);
    expect(created.data.empty).toBe(true);

    const files: Record<string, string> = {
      'README.md': `# ${org}\n`,
      'src/index.ts': "export const hello = () => 'world';\n",
      '.rdev/project.yaml': 'name: app\nservices: [postgres, redis]\n',
    };
    const commit = await api.repos.repoChangeFiles(org, repo, {
      branch: 'main',
      message: 'scaffold',
      files: Object.entries(files).map(([path, content]) => ({
        operation: 'create' as const,
        path,
        content: Buffer.from(content).toString('base64'),
      })),
    });
    expect(commit.status).toBe(201);
    const sha = commit.data.commit?.sha;
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    const commits = await api.repos.repoGetAllCommits(org, repo, { sha: 'main' });
    expect(commits.data.map((c) => c.sha)).toEqual([sha]);

    const url = new URL(`${gitea.url}/${org}/${repo}.git`);
    // Private: without credentials the clone is refused, so the token is what grants it below.
    const anonymous = git(work, undefined, 'clone', '--quiet', url.href, 'anonymous');
    expect(anonymous.ok).toBe(false);

    const clone = git(work, giteaAdminAuth(), 'clone', '--quiet', url.href, 'clone');
    expect(clone.stderr).toBe('');
    expect(clone.ok).toBe(true);
    const dir = join(work, 'clone');
    expect(tree(dir)).toEqual(files);
    expect(git(dir, undefined, 'rev-parse', 'HEAD').stdout).toBe(sha);
    expect(git(dir, undefined, 'rev-list', '--count', 'HEAD').stdout).toBe('1');
    expect(git(dir, undefined, 'symbolic-ref', '--short', 'HEAD').stdout).toBe('main');
  });
});
