// Checkouts against the real Gitea: the branch is made, the leased token clones and pushes,
// checkin opens a pull request and the token stops working, merge ends the lease; deletion and
// the TTL revoke the token; the operator SIGKILLed at any point never leaves a token alive.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKOUTS, PROJECTS } from '../../operator/src/api/resources.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { git, withClone } from './support/git.ts';
import { giteaAdmin, giteaServer, identityTokens, projectIdentity, useGiteaOrg } from './support/gitea.ts';
import { createAgentSecret, createSecret, eventually, kubeConfig, readSecret } from './support/kube.ts';
import { useOperatorNamespace, useOperatorProcess } from './support/operator.ts';
import { seededRandom } from './support/random.ts';
import { conditionOf, type RdevLive, rdevKind } from './support/rdev-objects.ts';

type Obj = RdevLive & {
  status?: {
    repo?: { fullName?: string; cloneURL?: string };
    branch?: string;
    cloneURL?: string;
    credentialsSecret?: string;
    pullRequest?: { number: number; url: string };
    token?: { name: string; revoked?: boolean };
  };
};

const gitea = giteaServer();
const api = giteaAdmin();
const client = new KubeClient(kubeConfig());

const operatorArgs = (namespace: string) => [
  `--gitea-url=${gitea.url}`,
  `--gitea-secret=${namespace}/gitea`,
  `--gitea-organization=${org.name}`,
  '--checkout-poll-seconds=1',
];
// The chaos test's operator outlives the namespace, to finalize.
const operator = useOperatorProcess(() => ns.name, operatorArgs);
const ns = useOperatorNamespace('rdev-co', operatorArgs);
const org = useGiteaOrg('rdev-co');
const checkouts = rdevKind<Obj>(client, CHECKOUTS, ns, { spec: { projectRef: { name: 'shop' } } });

beforeAll(async () => {
  await createAgentSecret(ns.name);
  await createSecret(ns.name, 'gitea', { GITEA_TOKEN: gitea.adminToken });
  const projects = rdevKind(client, PROJECTS, ns, { spec: PROJECT_SPEC });
  await projects.create('shop', { template: { name: 'go-api' } });
  await projects.phase('shop', 'Ready', 90_000);
});

async function credentials(co: Obj): Promise<{ username: string; token: string }> {
  const data = await readSecret(ns.name, co.status?.credentialsSecret ?? '');
  return { username: data.username ?? '', token: data.token ?? '' };
}

const canRead = (cloneURL: string, auth: { username: string; token: string }) =>
  git(tmpdir(), auth, 'ls-remote', cloneURL).ok;

/** The tokens of the Project's identity that exist in Gitea, by name. */
const botTokens = async () => identityTokens(await projectIdentity(client, ns.name, 'shop'));

/** Clones the Checkout's branch with its token, commits a file and pushes it. */
function pushCommit(co: Obj, auth: { username: string; token: string }, file: string) {
  const branch = co.status?.branch ?? '';
  withClone(
    auth,
    co.status?.cloneURL ?? '',
    (dir) => {
      writeFileSync(join(dir, file), `# ${file}\n`);
      expect(git(dir, auth, 'add', file).ok).toBe(true);
      expect(git(dir, auth, 'commit', '-m', `Add ${file}`).ok).toBe(true);
      const push = git(dir, auth, 'push', 'origin', branch);
      expect(push.ok, push.stderr).toBe(true);
    },
    '--branch',
    branch,
  );
}

const repoOf = (co: Obj) =>
  (co.status?.cloneURL ?? '')
    .replace(/\.git$/, '')
    .split('/')
    .slice(-2) as [string, string];

/** Checks the Checkout in, waits for Review, merges its pull request, waits for Merged. */
async function checkInAndMerge(name: string, title: string): Promise<Obj> {
  await checkouts.patchSpec(name, { checkin: { title } });
  const review = await checkouts.phase(name, 'Review');
  const [owner, repo] = repoOf(review);
  // Gitea checks mergeability in the background: until then a merge answers 405, try again.
  await eventually(async () => {
    await api.repos.repoMergePullRequest(owner, repo, review.status?.pullRequest?.number ?? 0, {
      Do: 'merge',
    });
    return true;
  });
  return checkouts.phase(name, 'Merged');
}

const branchExists = (co: Obj, branch: string) =>
  api.repos.repoGetBranch(...repoOf(co), branch).then(
    () => true,
    (err: Response) => (err.status === 404 ? false : Promise.reject(err)),
  );

describe('a Checkout', () => {
  it('leases a branch: the token clones and pushes; checkin opens a pull request and revokes it; merge ends it', async () => {
    await checkouts.create('login-page');
    const co = await checkouts.phase('login-page', 'Active');
    expect(co.status).toMatchObject({ branch: 'checkout/login-page', credentialsSecret: expect.any(String) });
    expect(co.metadata.finalizers).toContain('rdev.dev/checkout-token');
    const auth = await credentials(co);
    expect(auth.username).toBe((await projectIdentity(client, ns.name, 'shop')).username);
    pushCommit(co, auth, 'login.md');

    await checkouts.patchSpec('login-page', { checkin: { title: 'Add a login page' } });
    const review = await checkouts.phase('login-page', 'Review');
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
    await checkouts.create('kept', { keepBranch: true });
    const co = await checkouts.phase('kept', 'Active');
    pushCommit(co, await credentials(co), 'kept.md');
    const merged = await checkInAndMerge('kept', 'Keep the branch');
    expect(conditionOf(merged, 'Ready')?.message).toContain('kept');
    expect(await branchExists(co, 'checkout/kept')).toBe(true);
  });

  it('revokes the token when deleted', async () => {
    await checkouts.create('abandoned', { branch: 'spike/abandoned' });
    const co = await checkouts.phase('abandoned', 'Active');
    const auth = await credentials(co);
    expect(canRead(co.status?.cloneURL ?? '', auth)).toBe(true);
    await checkouts.delete('abandoned');
    await checkouts.gone('abandoned');
    expect(canRead(co.status?.cloneURL ?? '', auth)).toBe(false);
    expect(await botTokens()).not.toContain(co.status?.token?.name);
  });

  it('says so when the base branch does not exist', async () => {
    await checkouts.create('nowhere', { baseBranch: 'develop' });
    await eventually(async () => {
      const ready = conditionOf(await checkouts.get('nowhere'), 'Ready');
      return ready?.reason === 'BaseBranchNotFound' && ready.message.includes('develop');
    });
  });
});

describe('the operator SIGKILLed while it leases', () => {
  it('leaves no token alive once the TTLs have passed', { timeout: 240_000 }, async () => {
    await ns.stopOperator();
    const random = seededRandom(5);
    operator.restart();
    const names = Array.from({ length: 6 }, (_, i) => `crash-${i}`);
    for (const name of names) {
      await checkouts.create(name, { ttl: '1m' });
      await new Promise((r) => setTimeout(r, 200 + random() * 800));
      operator.restart();
    }
    // While leased, each has exactly one token, under the name on record.
    for (const name of names) await checkouts.phase(name, 'Active', 60_000);
    const leased = await botTokens();
    for (const name of names) {
      const token = (await checkouts.get(name)).status?.token?.name ?? '';
      expect(
        leased.filter((t) => t === token),
        name,
      ).toHaveLength(1);
    }
    operator.restart();
    for (const name of names) await checkouts.phase(name, 'Expired', 120_000);
    const left = await botTokens();
    expect(left.filter((t) => t.includes(`-${ns.name}-crash-`))).toEqual([]);
  });
});
