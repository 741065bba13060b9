// A Project's repository, CI and DNS end to end: the real Gitea of the harness, and fakes of
// Woodpecker and Cloudflare (SaaS APIs that follow the documented API and inject faults).
// The clone holds the rendered template; deletion removes repository, activation and records;
// each service failing for 30 s is reported and recovered from; an operator SIGKILLed while it
// provisions leaves no duplicates.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { FakeCloudflare } from '../fakes/cloudflare.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { git, withClone } from './support/git.ts';
import { giteaAdmin, giteaAdminAuth, giteaServer, useGiteaOrg, woodpeckerOnGitea } from './support/gitea.ts';
import { servicesComponent } from './support/hack.ts';
import { createAgentSecret, createSecret, eventually, kubeConfig } from './support/kube.ts';
import { cloudflareArgs, useOperatorNamespace, useOperatorProcess } from './support/operator.ts';
import { seededRandom } from './support/random.ts';
import { type Condition, conditionOf, rdevKind } from './support/rdev-objects.ts';

type Obj = KubeObject & {
  status?: {
    phase?: string;
    conditions?: Condition[];
    repo?: { id?: number; fullName?: string; url?: string; cloneURL?: string };
    ci?: { repoId?: number };
    dns?: { hostnames?: string[]; records?: { id: string; name: string; type: string }[] };
  };
};

const gitea = giteaServer();
const api = giteaAdmin();
const client = new KubeClient(kubeConfig());

// The fakes start before the operator, whose flags name them.
const woodpecker = await woodpeckerOnGitea();
const cloudflare = await FakeCloudflare.start({ zones: ['example.dev'] });

const HOOK_URL = 'http://127.0.0.1:9/rdev-hook';
const hooks = async (name: string) =>
  (await api.repos.repoListHooks(org.name, name)).data.map((h) => h.config?.url);
const operatorArgs = (namespace: string) => [
  `--gitea-url=${gitea.url}`,
  `--gitea-secret=${namespace}/gitea`,
  `--gitea-organization=${org.name}`,
  `--woodpecker-url=${woodpecker.url}`,
  `--woodpecker-secret=${namespace}/woodpecker`,
  ...cloudflareArgs(namespace, cloudflare),
  `--repo-webhook=${HOOK_URL}`,
];
// The chaos test's operator outlives the namespace, so that it can finalize the Projects.
const operator = useOperatorProcess(() => ns.name, operatorArgs);
const ns = useOperatorNamespace('rdev-repo', operatorArgs);
// Removed before the namespace goes, with the fakes.
const org = useGiteaOrg('rdev-proj');
const projects = rdevKind<Obj>(client, PROJECTS, ns, {
  spec: { ...PROJECT_SPEC, template: { name: 'monorepo', components: ['service'] }, dns: { enabled: true } },
  timeoutMs: 90_000,
});

beforeAll(async () => {
  await createAgentSecret(ns.name);
  await createSecret(ns.name, 'gitea', { GITEA_TOKEN: gitea.adminToken });
  await createSecret(ns.name, 'woodpecker', { WOODPECKER_TOKEN: woodpecker.token });
  await createSecret(ns.name, 'cloudflare', { CLOUDFLARE_API_TOKEN: cloudflare.token });
});
afterAll(async () => {
  await woodpecker.close();
  await cloudflare.close();
});

const orgRepos = async () => (await api.orgs.orgListRepos(org.name, { limit: 50 })).data.map((r) => r.name);
const records = (name?: string) => cloudflare.records().filter((r) => name === undefined || r.name === name);

const admin = giteaAdminAuth();

describe('a Project with repository, CI and DNS', () => {
  it('becomes Ready; the clone holds the rendered template; CI and DNS point at it', async () => {
    await projects.create('shop');
    const project = await projects.phase('shop', 'Ready');
    const repo = project.status?.repo;
    expect(repo).toMatchObject({ fullName: `${org.name}/shop`, id: expect.any(Number) });
    for (const type of ['RepoReady', 'CIReady', 'DNSReady']) {
      expect(conditionOf(project, type)?.status, type).toBe('True');
    }

    withClone(admin, repo?.cloneURL ?? '', (dir) => {
      expect(git(dir, admin, 'rev-list', '--count', 'HEAD').stdout).toBe('1'); // one initial commit
      for (const file of ['README.md', '.gitignore', '.woodpecker.yml', '.claude/CLAUDE.md']) {
        expect(existsSync(join(dir, file)), file).toBe(true);
      }
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('shop');
      const pipeline = parseYaml(readFileSync(join(dir, '.woodpecker.yml'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(pipeline).toBeTypeOf('object');
    });

    const active = woodpecker.repos().filter((r) => r.forge_remote_id === String(repo?.id) && r.active);
    expect(active).toHaveLength(1);
    expect(project.status?.ci?.repoId).toBe(active[0]?.id);

    expect(project.status?.dns?.hostnames).toEqual(['shop.example.dev']);
    const [record, ...more] = records('shop.example.dev');
    expect(more).toEqual([]);
    expect(record).toMatchObject({ type: 'CNAME', content: 'ingress.example.dev' });
    expect(record?.comment).toContain(`rdev:${ns.name}/shop`);
    expect(project.status?.dns?.records?.map((r) => r.id)).toEqual([record?.id]);
    expect(await hooks('shop')).toEqual([HOOK_URL]);

    // Records follow the spec: an alias added gets its record, removed it goes.
    await projects.patchSpec('shop', { dns: { aliases: ['www.example.dev'] } });
    await eventually(async () => records('www.example.dev').length === 1);
    expect((await projects.phase('shop', 'Ready')).status?.dns?.hostnames).toEqual([
      'shop.example.dev',
      'www.example.dev',
    ]);
    await projects.patchSpec('shop', { dns: { aliases: null } });
    await eventually(async () => records('www.example.dev').length === 0);
    expect(records('shop.example.dev')).toHaveLength(1);
  });

  it('removes repository, CI activation and records with the Project', async () => {
    await projects.create('gone');
    const project = await projects.phase('gone', 'Ready');
    await projects.delete('gone');
    await projects.gone('gone');
    expect(await orgRepos()).not.toContain('gone');
    const forgeId = String(project.status?.repo?.id);
    expect(woodpecker.repos().filter((r) => r.forge_remote_id === forgeId && r.active)).toEqual([]);
    expect(records('gone.example.dev')).toEqual([]);
  });

  it('keeps the repository with deletionPolicy Retain', async () => {
    await projects.create('kept', { repo: { deletionPolicy: 'Retain' }, dns: { enabled: false } });
    await projects.phase('kept', 'Ready');
    await projects.delete('kept');
    await projects.gone('kept');
    expect(await orgRepos()).toContain('kept');
  });

  it('refuses a repository that exists and is not its own, and says so', async () => {
    await api.orgs.createOrgRepo(org.name, { name: 'taken' });
    await projects.create('taken', { dns: { enabled: false } });
    await eventually(async () => {
      const c = await projects.condition('taken', 'RepoReady');
      return (
        c?.status === 'False' &&
        c.message.includes(`${org.name}/taken already exists and is not this Project's`)
      );
    });
    expect((await projects.get('taken')).status?.phase).not.toBe('Ready');
    const commits = await api.repos.repoGetAllCommits(org.name, 'taken').then(
      (r) => r.data.length,
      () => 0,
    );
    expect(commits).toBe(0); // untouched
  });

  it('says why while Gitea is down for 30 s, and becomes Ready once it is back', async () => {
    expect(servicesComponent('stop-component', 'gitea')).toBe(0);
    try {
      await projects.create('outage-git', { dns: { enabled: false } });
      await eventually(
        async () => (await projects.condition('outage-git', 'RepoReady'))?.reason === 'ProvisioningFailed',
      );
      await new Promise((r) => setTimeout(r, 30_000));
      expect((await projects.condition('outage-git', 'RepoReady'))?.status).toBe('False');
    } finally {
      expect(servicesComponent('start-component', 'gitea')).toBe(0);
    }
    await projects.phase('outage-git', 'Ready');
  });

  it('says why while Woodpecker and Cloudflare fail for 30 s, and becomes Ready after', async () => {
    woodpecker.faults.during(30_000, { status: 500 });
    cloudflare.faults.during(30_000, { status: 503 });
    await projects.create('outage-saas');
    await eventually(async () => {
      const [ci, dns] = [
        await projects.condition('outage-saas', 'CIReady'),
        await projects.condition('outage-saas', 'DNSReady'),
      ];
      return ci?.reason === 'ProvisioningFailed' && dns?.reason === 'ProvisioningFailed';
    });
    expect((await projects.condition('outage-saas', 'RepoReady'))?.status).toBe('True');
    await projects.phase('outage-saas', 'Ready', 120_000);
  });
});

describe('the operator SIGKILLed while it provisions', () => {
  it('leaves one repository, one activation and one record per Project', { timeout: 300_000 }, async () => {
    await ns.stopOperator();
    const random = seededRandom(11);
    operator.restart();
    const names = ['crash-0', 'crash-1', 'crash-2', 'crash-3'];
    for (const name of names) {
      await projects.create(name);
      await new Promise((r) => setTimeout(r, 300 + random() * 1200));
      operator.restart();
    }
    for (const name of names) await projects.phase(name, 'Ready', 120_000);

    const repos = await orgRepos();
    for (const name of names) {
      expect(
        repos.filter((r) => r === name),
        name,
      ).toHaveLength(1);
      const project = await projects.get(name);
      const forgeId = String(project.status?.repo?.id);
      expect(
        woodpecker.repos().filter((r) => r.forge_remote_id === forgeId),
        name,
      ).toHaveLength(1);
      expect(records(`${name}.example.dev`), name).toHaveLength(1);
      expect(await hooks(name), name).toEqual([HOOK_URL]);
      withClone(admin, project.status?.repo?.cloneURL ?? '', (dir) => {
        expect(git(dir, admin, 'rev-list', '--count', 'HEAD').stdout, name).toBe('1');
      });
    }
  });
});
