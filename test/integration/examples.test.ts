// Every manifest in examples/, applied with kubectl as a user would, reaches Ready or the state its
// comment documents: on the real plane, with the operator (in process), a worker running the test
// agent (test/agent/rdev-test-agent), the harness's Gitea, PostgreSQL and Redis, and fakes of
// Woodpecker and Cloudflare. The examples share the Project name shop, so each test has a
// namespace, an operator and a Gitea organisation of its own; where an example needs a Project,
// the test applies project-minimal.yaml first, as the examples' comments assume.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CHECKOUTS, FEATURES, PROJECTS, SESSIONS, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import type { LiveFeature, LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { KubeClient, type Resource } from '../../operator/src/runtime/client.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { FakeCloudflare } from '../fakes/cloudflare.ts';
import { ROOT } from '../support/manifests.ts';
import { git, withClone } from './support/git.ts';
import { giteaAdmin, giteaServer, useGiteaOrg, woodpeckerOnGitea } from './support/gitea.ts';
import { createAgentSecret, createSecret, eventually, kubeConfig, readSecret } from './support/kube.ts';
import { kubectl } from './support/kubectl.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { conditionOf, type RdevLive, rdevKind } from './support/rdev-objects.ts';
import { spawnWorker } from './support/worker.ts';

const EXAMPLES = join(ROOT, 'examples');
const AGENT = join(ROOT, 'test', 'agent', 'rdev-test-agent');
const READY = 120_000;

const services = inject('services');
const gitea = giteaServer();
const api = giteaAdmin();
const client = new KubeClient(kubeConfig());

// The fakes start before the operators, whose flags name them.
const woodpecker = await woodpeckerOnGitea();
// project-complete.yaml's host names are in example.com; the GitOps Project's go to example.org.
const cloudflare = await FakeCloudflare.start({ zones: ['example.com', 'example.org'] });
afterAll(async () => {
  await woodpecker.close();
  await cloudflare.close();
});

interface Options {
  /** Woodpecker: the Projects get CI (as project-minimal.yaml's comment says). */
  ci?: boolean;
  /** Cloudflare DNS in this zone, PostgreSQL and Redis: all a Project can ask for. */
  everything?: string;
  /** A worker running the test agent. */
  worker?: boolean;
  extraArgs?: string[];
}

/**
 * A test's own namespace, operator and Gitea organisation, with the Secrets the operator's
 * flags name and the examples' agent credentials (Secret anthropic).
 */
function useExampleNamespace(prefix: string, options: Options = {}) {
  const zone = options.everything;
  const ns = useOperatorNamespace(prefix, (namespace) => [
    `--gitea-url=${gitea.url}`,
    `--gitea-secret=${namespace}/gitea`,
    `--gitea-organization=${org.name}`,
    `--worker-namespace=${namespace}`,
    '--checkout-poll-seconds=1',
    ...(options.ci
      ? [`--woodpecker-url=${woodpecker.url}`, `--woodpecker-secret=${namespace}/woodpecker`]
      : []),
    ...(zone
      ? [
          '--dns-mode=cloudflare',
          `--domain=${zone}`,
          `--cloudflare-secret=${namespace}/cloudflare`,
          `--cloudflare-zone-id=${cloudflare.zone(zone).id}`,
          `--cloudflare-api-url=${cloudflare.url}`,
          '--dns-target=CNAME:ingress.example.dev',
          `--postgres-admin-secret=${namespace}/pg-admin`,
          `--redis-admin-secret=${namespace}/redis-admin`,
        ]
      : []),
    ...(options.extraArgs ?? []),
  ]);
  // Removed before the namespace goes (hooks run last-registered first), with its repositories.
  const org = useGiteaOrg(prefix);
  beforeAll(async () => {
    await createAgentSecret(ns.name);
    await createSecret(ns.name, 'gitea', { GITEA_TOKEN: gitea.adminToken });
    if (options.ci) await createSecret(ns.name, 'woodpecker', { WOODPECKER_TOKEN: woodpecker.token });
    if (zone) {
      await createSecret(ns.name, 'cloudflare', { CLOUDFLARE_API_TOKEN: cloudflare.token });
      await createSecret(ns.name, 'pg-admin', { DATABASE_ADMIN_URL: services.databaseAdminUrl });
      await createSecret(ns.name, 'redis-admin', { REDIS_ADMIN_URL: services.redisAdminUrl });
    }
    if (options.worker) spawnWorker(ns.name, 'w1', ['--capacity=4', `--agent-command=${AGENT}`]);
  });
  return ns;
}

/** kubectl apply into the namespace; the arguments name what (-f file, -k directory). */
function apply(namespace: string, ...what: string[]) {
  const run = kubectl('apply', '-n', namespace, ...what);
  expect(run.status, run.stderr).toBe(0);
}
const applyExample = (namespace: string, file: string) => apply(namespace, '-f', join(EXAMPLES, file));

/** Objects of `resource` in the namespace, waited for with a liveness bound of READY. */
const kind = <T extends RdevLive = RdevLive>(resource: Resource, ns: { readonly name: string }) =>
  rdevKind<T>(client, resource, ns, { timeoutMs: READY });

/** Applies project-minimal.yaml (Project shop) and waits until it is Ready. */
async function shop(ns: { readonly name: string }): Promise<LiveProject> {
  applyExample(ns.name, 'project-minimal.yaml');
  return kind<LiveProject>(PROJECTS, ns).phase('shop', 'Ready');
}

const conditions = (obj: RdevLive) =>
  Object.fromEntries((obj.status?.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));

// What the tests below cover; a new example must join them.
const COVERED = [
  'checkout-complete.yaml',
  'checkout-minimal.yaml',
  'feature-complete.yaml',
  'feature-minimal.yaml',
  'project-complete.yaml',
  'project-minimal.yaml',
  'session-complete.yaml',
  'session-minimal.yaml',
  'workitem-complete.yaml',
  'workitem-minimal.yaml',
];

it('covers every manifest in examples/', () => {
  expect(
    readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.yaml'))
      .sort(),
  ).toEqual(COVERED);
});

// Deleting a Project whose database is retained leaves it: dropped here after each such test.
const pgAdmin = new pg.Pool({ connectionString: services.databaseAdminUrl, max: 1 });
afterAll(() => pgAdmin.end());

/** Deletes the Project, waits until it is gone, and drops the database it retained. */
async function deleteRetaining(ns: { readonly name: string }, name: string) {
  const projects = kind<LiveProject>(PROJECTS, ns);
  const database = (await projects.get(name)).status?.database;
  await projects.delete(name);
  await projects.gone(name, READY);
  if (database?.name) {
    const db = pg.escapeIdentifier(database.name);
    expect(
      (await pgAdmin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database.name])).rowCount,
    ).toBe(1);
    await pgAdmin.query(`DROP DATABASE ${db} WITH (FORCE)`);
  }
  if (database?.user) await pgAdmin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(database.user)}`);
}

describe('project-minimal.yaml', () => {
  const ns = useExampleNamespace('ex-project-min', { ci: true });
  it('becomes Ready: a workspace with the default agent, a repository and CI', async () => {
    const project = await shop(ns);
    expect(conditions(project)).toMatchObject({
      Ready: expect.stringMatching(/^True /),
      WorkspaceReady: expect.stringMatching(/^True /),
      RepoReady: expect.stringMatching(/^True /),
      CIReady: expect.stringMatching(/^True /),
    });
    expect(project.spec.agent.provider).toBe('claude-code');
    const active = woodpecker.repos().filter((r) => r.forge_remote_id === String(project.status?.repo?.id));
    expect(active.map((r) => r.active)).toEqual([true]);
  });
});

describe('project-complete.yaml', () => {
  const ns = useExampleNamespace('ex-project-full', { ci: true, everything: 'example.com' });
  beforeAll(() => createSecret(ns.name, 'stripe', { 'api-key': 'sk_test_not_real' }));
  it('becomes Ready with every field in use: repository, CI, database, cache and DNS', async () => {
    applyExample(ns.name, 'project-complete.yaml');
    const project = await kind<LiveProject>(PROJECTS, ns).phase('shop', 'Ready');
    // Every condition True, among them one for each part the example asks for.
    expect(conditions(project)).toMatchObject({
      WorkspaceReady: 'True PodReady',
      RepoReady: 'True Provisioned',
      CIReady: 'True Provisioned',
      DatabaseReady: 'True Provisioned',
      CacheReady: 'True Provisioned',
      DNSReady: 'True Provisioned',
    });
    for (const [type, state] of Object.entries(conditions(project))) expect(state, type).toMatch(/^True /);
    expect(project.status?.dns?.hostnames).toEqual(['shop.example.com', 'www.shop.example.com']);
    expect(
      cloudflare
        .records('example.com')
        .map((r) => r.name)
        .sort(),
    ).toEqual(['shop.example.com', 'www.shop.example.com']);
    // The database retained (deletionPolicy Retain) is dropped by the cleanup.
    await deleteRetaining(ns, 'shop');
    expect(cloudflare.records('example.com')).toEqual([]);
  });
});

describe('gitops/projects (kubectl apply -k)', () => {
  const ns = useExampleNamespace('ex-gitops', { ci: true, everything: 'example.org' });
  it('becomes Ready, as Argo CD or Flux would apply it', async () => {
    apply(ns.name, '-k', join(EXAMPLES, 'gitops', 'projects'));
    const project = await kind<LiveProject>(PROJECTS, ns).phase('shop', 'Ready');
    for (const type of ['RepoReady', 'CIReady', 'DatabaseReady', 'CacheReady', 'DNSReady'])
      expect(conditionOf(project, type)?.status, type).toBe('True');
    expect(project.status?.dns?.hostnames).toEqual(['shop.example.org']);
    await deleteRetaining(ns, 'shop');
  });
});

describe('session-minimal.yaml and session-complete.yaml', () => {
  const ns = useExampleNamespace('ex-session', {
    extraArgs: ['--preview-domain=preview.example.dev', '--preview-ingress-class=nginx'],
  });
  it("become Active: one in the Project's workspace, one in its own Pod with a preview URL", async () => {
    const project = await shop(ns);
    const sessions = kind(SESSIONS, ns);
    applyExample(ns.name, 'session-minimal.yaml');
    applyExample(ns.name, 'session-complete.yaml');
    const shared = await sessions.phase('shop-debug', 'Active');
    expect(shared.status?.podName).toBe(project.status?.workspace?.podName);
    const own = await sessions.phase('shop-preview', 'Active');
    expect(own.status?.podName).not.toBe(project.status?.workspace?.podName);
    expect(own.status?.previewURL).toMatch(/^http:\/\/.+\.preview\.example\.dev$/);
    expect(conditionOf(own, 'PreviewReady')).toMatchObject({ status: 'True', reason: 'Exposed' });
  });
});

describe('checkout-minimal.yaml and checkout-complete.yaml', () => {
  const ns = useExampleNamespace('ex-checkout');
  type Checkout = RdevLive & {
    status?: {
      branch?: string;
      cloneURL?: string;
      credentialsSecret?: string;
      pullRequest?: { number: number };
    };
  };
  it('become Active with credentials; checked in, the complete one opens its pull request', async () => {
    await shop(ns);
    const checkouts = kind<Checkout>(CHECKOUTS, ns);
    applyExample(ns.name, 'checkout-minimal.yaml');
    const minimal = await checkouts.phase('login-page', 'Active');
    expect(minimal.status).toMatchObject({
      branch: 'checkout/login-page',
      credentialsSecret: expect.any(String),
    });

    // checkout-complete.yaml is a Checkout being checked in: first it was a Checkout of
    // feature/login without checkin, on whose branch work was pushed; then checkin was added.
    const complete = parse(readFileSync(join(EXAMPLES, 'checkout-complete.yaml'), 'utf8')) as {
      spec: Record<string, unknown>;
    };
    delete complete.spec.checkin;
    const before = join(await mkdtemp(join(tmpdir(), 'rdev-examples-')), 'checkout.yaml');
    writeFileSync(before, stringify(complete));
    apply(ns.name, '-f', before);
    const leased = await checkouts.phase('login', 'Active');
    expect(leased.status?.branch).toBe('feature/login');
    const secret = await readSecret(ns.name, leased.status?.credentialsSecret ?? '');
    const auth = { username: secret.username ?? '', token: secret.token ?? '' };
    withClone(
      auth,
      leased.status?.cloneURL ?? '',
      (dir) => {
        writeFileSync(join(dir, 'login.md'), '# Login\n');
        expect(git(dir, auth, 'add', 'login.md').ok).toBe(true);
        expect(git(dir, auth, 'commit', '-m', 'Add a login page').ok).toBe(true);
        const push = git(dir, auth, 'push', 'origin', 'feature/login');
        expect(push.ok, push.stderr).toBe(true);
      },
      '--branch',
      'feature/login',
    );

    applyExample(ns.name, 'checkout-complete.yaml');
    const review = await checkouts.phase('login', 'Review');
    const [owner = '', repo = ''] = (leased.status?.cloneURL ?? '')
      .replace(/\.git$/, '')
      .split('/')
      .slice(-2);
    const pr = (await api.repos.repoGetPullRequest(owner, repo, review.status?.pullRequest?.number ?? 0))
      .data;
    expect(pr).toMatchObject({
      title: 'Add a login page',
      head: { ref: 'feature/login' },
      base: { ref: 'main' },
      state: 'open',
    });
  });
});

describe('workitem-minimal.yaml and workitem-complete.yaml', () => {
  const ns = useExampleNamespace('ex-work', { worker: true });
  it("run to Succeeded on the worker: the agent's prompt, and the tests on main", async () => {
    await shop(ns);
    const items = kind<LiveWorkItem>(WORK_ITEMS, ns);
    applyExample(ns.name, 'workitem-minimal.yaml');
    applyExample(ns.name, 'workitem-complete.yaml');
    for (const name of ['login-page', 'shop-tests']) {
      const item = await items.phase(name, ['Succeeded', 'Failed', 'Cancelled']);
      expect(item.status, name).toMatchObject({ phase: 'Succeeded', exitCode: 0, attempts: 1 });
    }
    // The prompt asks for nothing the test agent does: nothing to commit, no pull request.
    expect((await items.get('login-page')).status?.git).toMatchObject({ changed: false });
    // make test in the clone of main: the Project's Makefile (a monorepo without parts yet).
    expect((await items.get('shop-tests')).status?.outputTail).toContain('Nothing to do yet');
  });
});

describe('feature-minimal.yaml and feature-complete.yaml', () => {
  const ns = useExampleNamespace('ex-feature', { worker: true });
  it('passkeys opens its pull request; device-memory waits for it, then for a human to approve its spec', {
    timeout: 600_000,
  }, async () => {
    const project = await shop(ns);
    const features = kind<LiveFeature>(FEATURES, ns);
    applyExample(ns.name, 'feature-minimal.yaml');
    applyExample(ns.name, 'feature-complete.yaml');
    // Held while passkeys is not released.
    const blocked = await eventually(async () => {
      const f = await features.get('device-memory');
      return conditionOf(f, 'Blocked')?.status === 'True' ? f : undefined;
    });
    expect(blocked.status?.nextAction).toMatchObject({ action: 'wait_for_dependencies', gate: 'blocked' });

    // Agents take passkeys from its spec to its pull request (the merge phase).
    const withPr = await eventually(async () => (await features.get('passkeys')).status?.pullRequest, {
      timeoutMs: 420_000,
    });
    expect((await features.get('passkeys')).status?.phase).toBe('merge');
    expect(conditionOf(await features.get('device-memory'), 'Blocked')?.status).toBe('True');

    // Merged, passkeys is released; device-memory's spec is written, and stops for a human
    // (approvalPolicy.spec: human; the approval in the example is of another version of it).
    const [owner = '', repo = ''] = (project.status?.repo?.fullName ?? '').split('/');
    await eventually(async () => {
      await api.repos.repoMergePullRequest(owner, repo, withPr.number, { Do: 'merge' });
      return true;
    });
    await features.phase('passkeys', 'released', READY);
    const waiting = await eventually(
      async () => {
        const f = await features.get('device-memory');
        return conditionOf(f, 'AwaitingApproval')?.status === 'True' ? f : undefined;
      },
      { timeoutMs: READY },
    );
    expect(conditionOf(waiting, 'Blocked')?.status).toBe('False');
    expect(waiting.status?.phase).toBe('draft');
    expect(waiting.status?.artifacts?.find((a) => a.type === 'spec')?.status).toBe('draft');
    await features.patchSpec('device-memory', { paused: true });
  });
});
