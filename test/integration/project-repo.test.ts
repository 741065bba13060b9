// A Project's repository, CI and DNS end to end: the real Gitea of the harness, and fakes of
// Woodpecker and Cloudflare (SaaS APIs that follow the documented API and inject faults).
// The clone holds the rendered template; deletion removes repository, activation and records;
// each service failing for 30 s is reported and recovered from; an operator SIGKILLed while it
// provisions leaves no duplicates.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { giteaApi } from 'gitea-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { FakeCloudflare } from '../fakes/cloudflare.ts';
import { FakeWoodpecker } from '../fakes/woodpecker.ts';
import { ROOT } from '../support/manifests.ts';
import { git } from './support/git.ts';
import { eventually, isNotFound, kubeConfig, uniqueName } from './support/kube.ts';
import { spawnOperator, useOperatorNamespace } from './support/operator.ts';
import { seededRandom } from './support/random.ts';

type Obj = KubeObject & {
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    repo?: { id?: number; fullName?: string; url?: string; cloneURL?: string };
    ci?: { repoId?: number };
    dns?: { hostnames?: string[]; records?: { id: string; name: string; type: string }[] };
  };
};

const gitea = inject('services').gitea;
const api = giteaApi(gitea.url, { token: gitea.adminToken, customFetch: fetch });
const org = uniqueName('rdev-proj');
const kc = kubeConfig();
const client = new KubeClient(kc);

// The fakes start before the operator, whose flags name them.
const woodpecker = await FakeWoodpecker.start({
  forgeURL: gitea.url,
  // Woodpecker asks the forge about a repository it is asked to activate.
  forgeLookup: async (id) => {
    const res = await fetch(`${gitea.url}/api/v1/repositories/${id}`, {
      headers: { authorization: `token ${gitea.adminToken}` },
    });
    if (!res.ok) return undefined;
    const r = (await res.json()) as { id: number; name: string; owner: { login: string }; private: boolean };
    return { id: r.id, owner: r.owner.login, name: r.name, private: r.private };
  },
});
const cloudflare = await FakeCloudflare.start({ zones: ['example.dev'] });

const HOOK_URL = 'http://127.0.0.1:9/rdev-hook';
const hooks = async (name: string) =>
  (await api.repos.repoListHooks(org, name)).data.map((h) => h.config?.url);
const operatorArgs = (namespace: string) => [
  `--gitea-url=${gitea.url}`,
  `--gitea-secret=${namespace}/gitea`,
  `--gitea-organization=${org}`,
  `--woodpecker-url=${woodpecker.url}`,
  `--woodpecker-secret=${namespace}/woodpecker`,
  '--dns-mode=cloudflare',
  '--domain=example.dev',
  `--cloudflare-secret=${namespace}/cloudflare`,
  `--cloudflare-zone-id=${cloudflare.zone().id}`,
  `--cloudflare-api-url=${cloudflare.url}`,
  '--dns-target=CNAME:ingress.example.dev',
  `--repo-webhook=${HOOK_URL}`,
];
// The chaos test's operator outlives the namespace (registered first, this hook runs last), so
// that it can finalize the Projects.
let operator = { kill: (_s: NodeJS.Signals) => true as boolean };
afterAll(() => {
  operator.kill('SIGKILL');
});
const ns = useOperatorNamespace('rdev-repo', operatorArgs);

beforeAll(async () => {
  await api.orgs.orgCreate({ username: org });
  const core = kc.makeApiClient(CoreV1Api);
  const secret = (name: string, stringData: Record<string, string>) =>
    core.createNamespacedSecret({ namespace: ns.name, body: { metadata: { name }, stringData } });
  await secret('anthropic', { ANTHROPIC_API_KEY: 'sk-test-not-real' });
  await secret('gitea', { GITEA_TOKEN: gitea.adminToken });
  await secret('woodpecker', { WOODPECKER_TOKEN: woodpecker.token });
  await secret('cloudflare', { CLOUDFLARE_API_TOKEN: cloudflare.token });
});
afterAll(async () => {
  await woodpecker.close();
  await cloudflare.close();
  const repos = await api.orgs.orgListRepos(org).then(
    (r) => r.data,
    () => [],
  );
  for (const r of repos) await api.repos.repoDelete(org, r.name ?? '').catch(() => undefined);
  await api.orgs.orgDelete(org).catch(() => undefined);
});

const createProject = (name: string, spec: Record<string, unknown> = {}) =>
  client.create(PROJECTS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name, namespace: ns.name },
    spec: {
      agent: { credentialsSecretRef: { name: 'anthropic' } },
      template: { name: 'monorepo', components: ['service'] },
      dns: { enabled: true },
      ...spec,
    },
  });
const getProject = (name: string) => client.get<Obj>(PROJECTS, ns.name, name);
const condition = async (name: string, type: string) =>
  (await getProject(name)).status?.conditions?.find((c) => c.type === type);
const waitReady = (name: string, timeoutMs = 90_000) =>
  eventually(
    async () => {
      const p = await getProject(name);
      if (p.status?.phase !== 'Ready') {
        const failing = p.status?.conditions?.filter((c) => c.status !== 'True') ?? [];
        throw new Error(
          `${name} is ${p.status?.phase}: ${failing.map((c) => `${c.type} ${c.reason}: ${c.message}`).join('; ')}`,
        );
      }
      return p;
    },
    { timeoutMs },
  );
const gone = (name: string) =>
  eventually(async () => getProject(name).then(() => false, isNotFound), { timeoutMs: 60_000 });
const orgRepos = async () => (await api.orgs.orgListRepos(org, { limit: 50 })).data.map((r) => r.name);
const records = (name?: string) => cloudflare.records().filter((r) => name === undefined || r.name === name);

const admin = { username: gitea.adminUser, token: gitea.adminToken };

function services_(action: string, component: string): number | null {
  return spawnSync(join(ROOT, 'hack', 'services.sh'), [action, component], { stdio: 'ignore' }).status;
}

describe('a Project with repository, CI and DNS', () => {
  it('becomes Ready; the clone holds the rendered template; CI and DNS point at it', async () => {
    await createProject('shop');
    const project = await waitReady('shop');
    const repo = project.status?.repo;
    expect(repo).toMatchObject({ fullName: `${org}/shop`, id: expect.any(Number) });
    for (const type of ['RepoReady', 'CIReady', 'DNSReady']) {
      expect(project.status?.conditions?.find((c) => c.type === type)?.status, type).toBe('True');
    }

    const work = mkdtempSync(join(tmpdir(), 'rdev-clone-'));
    try {
      const clone = git(work, admin, 'clone', repo?.cloneURL ?? '', 'shop');
      expect(clone.ok, clone.stderr).toBe(true);
      const dir = join(work, 'shop');
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
    } finally {
      rmSync(work, { recursive: true, force: true });
    }

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
    await client.patch(
      PROJECTS,
      ns.name,
      'shop',
      { spec: { dns: { aliases: ['www.example.dev'] } } },
      'merge',
    );
    await eventually(async () => records('www.example.dev').length === 1);
    expect((await waitReady('shop')).status?.dns?.hostnames).toEqual(['shop.example.dev', 'www.example.dev']);
    await client.patch(PROJECTS, ns.name, 'shop', { spec: { dns: { aliases: null } } }, 'merge');
    await eventually(async () => records('www.example.dev').length === 0);
    expect(records('shop.example.dev')).toHaveLength(1);
  });

  it('removes repository, CI activation and records with the Project', async () => {
    await createProject('gone');
    const project = await waitReady('gone');
    await client.delete(PROJECTS, ns.name, 'gone');
    await gone('gone');
    expect(await orgRepos()).not.toContain('gone');
    const forgeId = String(project.status?.repo?.id);
    expect(woodpecker.repos().filter((r) => r.forge_remote_id === forgeId && r.active)).toEqual([]);
    expect(records('gone.example.dev')).toEqual([]);
  });

  it('keeps the repository with deletionPolicy Retain', async () => {
    await createProject('kept', { repo: { deletionPolicy: 'Retain' }, dns: { enabled: false } });
    await waitReady('kept');
    await client.delete(PROJECTS, ns.name, 'kept');
    await gone('kept');
    expect(await orgRepos()).toContain('kept');
  });

  it('refuses a repository that exists and is not its own, and says so', async () => {
    await api.orgs.createOrgRepo(org, { name: 'taken' });
    await createProject('taken', { dns: { enabled: false } });
    await eventually(async () => {
      const c = await condition('taken', 'RepoReady');
      return (
        c?.status === 'False' && c.message.includes(`${org}/taken already exists and is not this Project's`)
      );
    });
    expect((await getProject('taken')).status?.phase).not.toBe('Ready');
    const commits = await api.repos.repoGetAllCommits(org, 'taken').then(
      (r) => r.data.length,
      () => 0,
    );
    expect(commits).toBe(0); // untouched
  });

  it('says why while Gitea is down for 30 s, and becomes Ready once it is back', async () => {
    expect(services_('stop-component', 'gitea')).toBe(0);
    try {
      await createProject('outage-git', { dns: { enabled: false } });
      await eventually(
        async () => (await condition('outage-git', 'RepoReady'))?.reason === 'ProvisioningFailed',
      );
      await new Promise((r) => setTimeout(r, 30_000));
      expect((await condition('outage-git', 'RepoReady'))?.status).toBe('False');
    } finally {
      expect(services_('start-component', 'gitea')).toBe(0);
    }
    await waitReady('outage-git');
  });

  it('says why while Woodpecker and Cloudflare fail for 30 s, and becomes Ready after', async () => {
    woodpecker.faults.during(30_000, { status: 500 });
    cloudflare.faults.during(30_000, { status: 503 });
    await createProject('outage-saas');
    await eventually(async () => {
      const [ci, dns] = [
        await condition('outage-saas', 'CIReady'),
        await condition('outage-saas', 'DNSReady'),
      ];
      return ci?.reason === 'ProvisioningFailed' && dns?.reason === 'ProvisioningFailed';
    });
    expect((await condition('outage-saas', 'RepoReady'))?.status).toBe('True');
    await waitReady('outage-saas', 120_000);
  });
});

describe('the operator SIGKILLed while it provisions', () => {
  it('leaves one repository, one activation and one record per Project', { timeout: 300_000 }, async () => {
    await ns.stopOperator();
    const random = seededRandom(11);
    const restart = () => {
      operator.kill('SIGKILL');
      operator = spawnOperator(ns.name, operatorArgs(ns.name));
    };
    restart();
    const names = ['crash-0', 'crash-1', 'crash-2', 'crash-3'];
    for (const name of names) {
      await createProject(name);
      await new Promise((r) => setTimeout(r, 300 + random() * 1200));
      restart();
    }
    for (const name of names) await waitReady(name, 120_000);

    const repos = await orgRepos();
    for (const name of names) {
      expect(
        repos.filter((r) => r === name),
        name,
      ).toHaveLength(1);
      const project = await getProject(name);
      const forgeId = String(project.status?.repo?.id);
      expect(
        woodpecker.repos().filter((r) => r.forge_remote_id === forgeId),
        name,
      ).toHaveLength(1);
      expect(records(`${name}.example.dev`), name).toHaveLength(1);
      expect(await hooks(name), name).toEqual([HOOK_URL]);
      const work = mkdtempSync(join(tmpdir(), 'rdev-clone-'));
      try {
        expect(git(work, admin, 'clone', project.status?.repo?.cloneURL ?? '', name).ok).toBe(true);
        expect(git(join(work, name), admin, 'rev-list', '--count', 'HEAD').stdout, name).toBe('1');
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  });
});
