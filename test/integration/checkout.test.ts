// Checkouts against the real Gitea: the branch is made, the leased token clones and pushes,
// checkin opens a pull request and the token stops working, merge ends the lease; deletion and
// the TTL revoke the token; the operator SIGKILLed at any point never leaves a token alive.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { giteaApi } from 'gitea-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHECKOUTS, PROJECTS } from '../../operator/src/api/resources.ts';
import { KubeClient, type KubeObject } from '../../operator/src/runtime/client.ts';
import { SECRETS } from '../../operator/src/runtime/resources.ts';
import { git } from './support/git.ts';
import { eventually, isNotFound, kubeConfig, uniqueName } from './support/kube.ts';
import { spawnOperator, useOperatorNamespace } from './support/operator.ts';
import { seededRandom } from './support/random.ts';

type Obj = KubeObject & {
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    repo?: { fullName?: string; cloneURL?: string };
    branch?: string;
    cloneURL?: string;
    credentialsSecret?: string;
    pullRequest?: { number: number; url: string };
    token?: { name: string; revoked?: boolean };
  };
  data?: Record<string, string>;
};

const gitea = inject('services').gitea;
const api = giteaApi(gitea.url, { token: gitea.adminToken, customFetch: fetch });
const org = uniqueName('rdev-co');
const bot = { username: uniqueName('rdev-bot'), password: `pw-${uniqueName('x')}-A1!` };
const kc = kubeConfig();
const client = new KubeClient(kc);

const operatorArgs = (namespace: string) => [
  `--gitea-url=${gitea.url}`,
  `--gitea-secret=${namespace}/gitea`,
  `--gitea-organization=${org}`,
  `--checkout-bot-secret=${namespace}/bot`,
  '--checkout-poll-seconds=1',
];
let operator = { kill: (_s: NodeJS.Signals) => true as boolean };
afterAll(() => {
  operator.kill('SIGKILL'); // the chaos test's operator outlives the namespace, to finalize
});
const ns = useOperatorNamespace('rdev-co', operatorArgs);

beforeAll(async () => {
  await api.orgs.orgCreate({ username: org });
  await api.admin.adminCreateUser({
    username: bot.username,
    password: bot.password,
    email: `${bot.username}@rdev.test`,
    must_change_password: false,
  });
  const core = kc.makeApiClient(CoreV1Api);
  const secret = (name: string, stringData: Record<string, string>) =>
    core.createNamespacedSecret({ namespace: ns.name, body: { metadata: { name }, stringData } });
  await secret('anthropic', { ANTHROPIC_API_KEY: 'sk-test-not-real' });
  await secret('gitea', { GITEA_TOKEN: gitea.adminToken });
  await secret('bot', bot);
  await client.create(PROJECTS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: 'shop', namespace: ns.name },
    spec: { agent: { credentialsSecretRef: { name: 'anthropic' } }, template: { name: 'go-api' } },
  });
  await eventually(async () => (await client.get<Obj>(PROJECTS, ns.name, 'shop')).status?.phase === 'Ready', {
    timeoutMs: 90_000,
  });
});
afterAll(async () => {
  const repos = await api.orgs.orgListRepos(org).then(
    (r) => r.data,
    () => [],
  );
  for (const r of repos) await api.repos.repoDelete(org, r.name ?? '').catch(() => undefined);
  await api.orgs.orgDelete(org).catch(() => undefined);
  await api.admin.adminDeleteUser(bot.username).catch(() => undefined);
});

const createCheckout = (name: string, spec: Record<string, unknown> = {}) =>
  client.create(CHECKOUTS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Checkout',
    metadata: { name, namespace: ns.name },
    spec: { projectRef: { name: 'shop' }, ...spec },
  });
const getCheckout = (name: string) => client.get<Obj>(CHECKOUTS, ns.name, name);
const phase = (name: string, wanted: string, timeoutMs = 60_000) =>
  eventually(
    async () => {
      const co = await getCheckout(name);
      if (co.status?.phase !== wanted) {
        const ready = co.status?.conditions?.find((c) => c.type === 'Ready');
        throw new Error(`${name} is ${co.status?.phase}: ${ready?.reason} ${ready?.message}`);
      }
      return co;
    },
    { timeoutMs },
  );
async function credentials(co: Obj): Promise<{ username: string; token: string }> {
  const s = await client.get<Obj>(SECRETS, ns.name, co.status?.credentialsSecret ?? '');
  const field = (k: string) => Buffer.from(s.data?.[k] ?? '', 'base64').toString();
  return { username: field('username'), token: field('token') };
}

const canRead = (cloneURL: string, auth: { username: string; token: string }) =>
  git(tmpdir(), auth, 'ls-remote', cloneURL).ok;

/** The bot's tokens that exist in Gitea, by name. */
async function botTokens(): Promise<string[]> {
  const res = await fetch(`${gitea.url}/api/v1/users/${bot.username}/tokens?limit=50`, {
    headers: { authorization: `Basic ${Buffer.from(`${bot.username}:${bot.password}`).toString('base64')}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { name: string }[]).map((t) => t.name);
}

/** Clones the Checkout's branch with its token, commits a file and pushes it. */
function pushCommit(co: Obj, auth: { username: string; token: string }, file: string) {
  const work = mkdtempSync(join(tmpdir(), 'rdev-co-'));
  try {
    const clone = git(
      work,
      auth,
      'clone',
      '--branch',
      co.status?.branch ?? '',
      co.status?.cloneURL ?? '',
      'repo',
    );
    expect(clone.ok, clone.stderr).toBe(true);
    const dir = join(work, 'repo');
    writeFileSync(join(dir, file), `# ${file}\n`);
    expect(git(dir, auth, 'add', file).ok).toBe(true);
    expect(git(dir, auth, 'commit', '-m', `Add ${file}`).ok).toBe(true);
    const push = git(dir, auth, 'push', 'origin', co.status?.branch ?? '');
    expect(push.ok, push.stderr).toBe(true);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const repoOf = (co: Obj) =>
  (co.status?.cloneURL ?? '')
    .replace(/\.git$/, '')
    .split('/')
    .slice(-2) as [string, string];

/** Checks the Checkout in, waits for Review, merges its pull request, waits for Merged. */
async function checkInAndMerge(name: string, title: string): Promise<Obj> {
  await client.patch(CHECKOUTS, ns.name, name, { spec: { checkin: { title } } }, 'merge');
  const review = await phase(name, 'Review');
  const [owner, repo] = repoOf(review);
  // Gitea checks mergeability in the background: until then a merge answers 405, try again.
  await eventually(async () => {
    await api.repos.repoMergePullRequest(owner, repo, review.status?.pullRequest?.number ?? 0, {
      Do: 'merge',
    });
    return true;
  });
  return phase(name, 'Merged');
}

const branchExists = (co: Obj, branch: string) =>
  api.repos.repoGetBranch(...repoOf(co), branch).then(
    () => true,
    (err: Response) => (err.status === 404 ? false : Promise.reject(err)),
  );

describe('a Checkout', () => {
  it('leases a branch: the token clones and pushes; checkin opens a pull request and revokes it; merge ends it', async () => {
    await createCheckout('login-page');
    const co = await phase('login-page', 'Active');
    expect(co.status).toMatchObject({ branch: 'checkout/login-page', credentialsSecret: expect.any(String) });
    expect(co.metadata.finalizers).toContain('rdev.dev/checkout-token');
    const auth = await credentials(co);
    expect(auth.username).toBe(bot.username);
    pushCommit(co, auth, 'login.md');

    await client.patch(
      CHECKOUTS,
      ns.name,
      'login-page',
      { spec: { checkin: { title: 'Add a login page' } } },
      'merge',
    );
    const review = await phase('login-page', 'Review');
    const [owner, repo] = repoOf(co);
    const pr = (await api.repos.repoGetPullRequest(owner, repo, review.status?.pullRequest?.number ?? 0))
      .data;
    expect(pr).toMatchObject({
      title: 'Add a login page',
      head: { ref: 'checkout/login-page' },
      base: { ref: 'main' },
    });
    expect(review.status?.token?.revoked).toBe(true);
    expect(canRead(co.status?.cloneURL ?? '', auth)).toBe(false);

    await checkInAndMerge('login-page', 'Add a login page');
    await eventually(async () => !(await branchExists(co, 'checkout/login-page')));
  });

  it('keeps the branch after the merge when asked to', async () => {
    await createCheckout('kept', { keepBranch: true });
    const co = await phase('kept', 'Active');
    pushCommit(co, await credentials(co), 'kept.md');
    const merged = await checkInAndMerge('kept', 'Keep the branch');
    expect(merged.status?.conditions?.find((c) => c.type === 'Ready')?.message).toContain('kept');
    expect(await branchExists(co, 'checkout/kept')).toBe(true);
  });

  it('revokes the token when deleted', async () => {
    await createCheckout('abandoned', { branch: 'spike/abandoned' });
    const co = await phase('abandoned', 'Active');
    const auth = await credentials(co);
    expect(canRead(co.status?.cloneURL ?? '', auth)).toBe(true);
    await client.delete(CHECKOUTS, ns.name, 'abandoned');
    await eventually(async () => getCheckout('abandoned').then(() => false, isNotFound));
    expect(canRead(co.status?.cloneURL ?? '', auth)).toBe(false);
    expect(await botTokens()).not.toContain(co.status?.token?.name);
  });

  it('says so when the base branch does not exist', async () => {
    await createCheckout('nowhere', { baseBranch: 'develop' });
    await eventually(async () => {
      const ready = (await getCheckout('nowhere')).status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.reason === 'BaseBranchNotFound' && ready.message.includes('develop');
    });
  });
});

describe('the operator SIGKILLed while it leases', () => {
  it('leaves no token alive once the TTLs have passed', { timeout: 240_000 }, async () => {
    await ns.stopOperator();
    const random = seededRandom(5);
    const restart = () => {
      operator.kill('SIGKILL');
      operator = spawnOperator(ns.name, operatorArgs(ns.name));
    };
    restart();
    const names = Array.from({ length: 6 }, (_, i) => `crash-${i}`);
    for (const name of names) {
      await createCheckout(name, { ttl: '1m' });
      await new Promise((r) => setTimeout(r, 200 + random() * 800));
      restart();
    }
    // While leased, each has exactly one token, under the name on record.
    for (const name of names) await phase(name, 'Active', 60_000);
    const leased = await botTokens();
    for (const name of names) {
      const token = (await getCheckout(name)).status?.token?.name ?? '';
      expect(
        leased.filter((t) => t === token),
        name,
      ).toHaveLength(1);
    }
    restart();
    for (const name of names) await phase(name, 'Expired', 120_000);
    const left = await botTokens();
    expect(left.filter((t) => t.includes(`-${ns.name}-crash-`))).toEqual([]);
  });
});
