// An agent's work lands in git, against the real Gitea: each Project has a Gitea user of its own
// (a writer on its repository only); an agent item runs in a runner that checks out its branch,
// and the test agent's edit ends as one commit by that user, pushed, in a pull request the
// operator opens as that user (one per branch, reused). Tokens are lent per runner, per Checkout
// and to the workspace, and revoked when what they serve ends — also when the operator is killed.
// kwok runs exec'd commands on this machine with the Pod's env (hack/kwok-env.ts): the runner's
// git uses the token its Secret lends it, as in a real Pod.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKOUTS, PROJECTS, WORK_ITEMS } from '../../operator/src/api/resources.ts';
import type { LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { runnerTokenName, workspaceCloneScript } from '../../operator/src/controllers/project/git.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { PODS, type Pod } from '../../operator/src/runtime/resources.ts';
import { execInPod } from '../../operator/src/shared/pod-exec.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { PROJECT_SPEC, ROOT } from '../support/manifests.ts';
import { git, withClone } from './support/git.ts';
import { giteaAdmin, giteaServer, identityTokens, projectIdentity, useGiteaOrg } from './support/gitea.ts';
import {
  createAgentSecret,
  createSecret,
  eventually,
  kubeConfig,
  readSecret,
  untilGone,
} from './support/kube.ts';
import { useOperatorNamespace, useOperatorProcess } from './support/operator.ts';
import { rdevKind } from './support/rdev-objects.ts';
import { spawnWorker, type WorkerProcess } from './support/worker.ts';

const gitea = giteaServer();
const api = giteaAdmin();
const kc = kubeConfig();
const client = new KubeClient(kc);
const AGENT = join(ROOT, 'test', 'agent', 'rdev-test-agent');

const operatorArgs = (namespace: string) => [
  `--gitea-url=${gitea.url}`,
  `--gitea-secret=${namespace}/gitea`,
  `--gitea-organization=${org.name}`,
  `--worker-namespace=${namespace}`,
  '--checkout-poll-seconds=1',
];
// The crash test's operator outlives the namespace, to finalize.
const operator = useOperatorProcess(() => ns.name, operatorArgs);
const ns = useOperatorNamespace('rdev-git', operatorArgs);
const org = useGiteaOrg('rdev-git');
const projects = rdevKind<LiveProject>(client, PROJECTS, ns, { spec: PROJECT_SPEC });
const items = rdevKind<LiveWorkItem>(client, WORK_ITEMS, ns, { spec: { projectRef: { name: 'shop' } } });
const checkouts = rdevKind(client, CHECKOUTS, ns, { spec: { projectRef: { name: 'shop' } } });
let worker: WorkerProcess;

beforeAll(async () => {
  await createAgentSecret(ns.name);
  await createSecret(ns.name, 'gitea', { GITEA_TOKEN: gitea.adminToken });
  await Promise.all([projects.create('shop'), projects.create('other'), projects.create('kept')]);
  await Promise.all(['shop', 'other', 'kept'].map((p) => projects.phase(p, 'Ready', 120_000)));
  worker = spawnWorker(ns.name, 'w1', ['--capacity=3', `--agent-command=${AGENT}`]);
});

const repoOf = async (project: string) => {
  const fullName = (await projects.get(project)).status?.repo?.fullName ?? '';
  const [owner = '', repo = ''] = fullName.split('/');
  return { owner, repo, cloneURL: (await projects.get(project)).status?.repo?.cloneURL ?? '' };
};

/** The commits on `branch` that are not on main, newest first. */
async function commitsAhead(project: string, branch: string) {
  const { owner, repo } = await repoOf(project);
  const compared = await api.repos.repoCompareDiff(owner, repo, `main...${branch}`);
  return (compared.data.commits ?? []).reverse();
}

const branchExists = async (project: string, branch: string) => {
  const { owner, repo } = await repoOf(project);
  return api.repos.repoGetBranch(owner, repo, branch).then(
    () => true,
    (err: Response) => (err.status === 404 ? false : Promise.reject(err)),
  );
};

const openPulls = async (project: string) => {
  const { owner, repo } = await repoOf(project);
  return (await api.repos.repoListPullRequests(owner, repo, { state: 'open', limit: 50 })).data;
};

/** The file `path` on `branch`, as Gitea serves it. */
async function fileOn(project: string, branch: string, path: string): Promise<string> {
  const { owner, repo } = await repoOf(project);
  const file = await api.repos.repoGetContents(owner, repo, path, { ref: branch });
  const content = Array.isArray(file.data) ? '' : (file.data.content ?? '');
  return Buffer.from(content, 'base64').toString();
}

const succeeded = (name: string) => items.phase(name, 'Succeeded', 120_000);
const withPullRequest = (name: string) =>
  eventually(async () => {
    const item = await items.get(name);
    return item.status?.git?.pullRequest ? item : undefined;
  });

describe('an agent WorkItem', () => {
  it("ends as one commit by the Project's identity on its branch, in a pull request it opens", async () => {
    await items.create('greet', {
      type: 'agent',
      prompt: 'Add a greeting\nwrite docs/hello.md: Hello from rdev',
    });
    const done = await withPullRequest('greet');
    await succeeded('greet');
    const identity = await projectIdentity(client, ns.name, 'shop');
    const commits = await commitsAhead('shop', 'rdev/greet');
    expect(commits).toHaveLength(1);
    const [commit] = commits;
    expect(commit?.sha).toBe(done.status?.git?.commit);
    expect(commit?.commit?.author?.email).toBe(`${identity.username}@users.rdev.invalid`);
    expect(commit?.commit?.message).toContain('Add a greeting');
    expect(commit?.commit?.message).toContain(`Rdev-Work-Item: ${ns.name}/greet`);
    expect(await fileOn('shop', 'rdev/greet', 'docs/hello.md')).toBe('Hello from rdev\n');
    expect(done.status?.git).toMatchObject({ baseBranch: 'main', branch: 'rdev/greet', changed: true });
    const pulls = (await openPulls('shop')).filter((p) => p.head?.ref === 'rdev/greet');
    expect(pulls).toHaveLength(1);
    expect(pulls[0]?.number).toBe(done.status?.git?.pullRequest?.number);
    expect(pulls[0]?.user?.login).toBe(identity.username);
    expect(pulls[0]?.base?.ref).toBe('main');
  });

  it('builds on the branch: a later item adds a commit to the same pull request', async () => {
    await items.create('greet-more', {
      type: 'agent',
      prompt: 'append docs/hello.md: and again',
      git: { branch: 'rdev/greet' },
    });
    const more = await withPullRequest('greet-more');
    const first = await items.get('greet');
    expect(more.status?.git?.pullRequest?.number).toBe(first.status?.git?.pullRequest?.number);
    expect(await commitsAhead('shop', 'rdev/greet')).toHaveLength(2);
    expect(await fileOn('shop', 'rdev/greet', 'docs/hello.md')).toBe('Hello from rdev\nand again\n');
    expect((await openPulls('shop')).filter((p) => p.head?.ref === 'rdev/greet')).toHaveLength(1);
  });

  it('reuses the open pull request when opening it is retried (a crash before status recorded it)', async () => {
    const before = await items.get('greet');
    const number = before.status?.git?.pullRequest?.number;
    // As after a crash between opening the pull request and recording it.
    await client.patch(
      WORK_ITEMS,
      ns.name,
      'greet',
      { status: { git: { pullRequest: null } } },
      'merge',
      {},
      'status',
    );
    const again = await withPullRequest('greet');
    expect(again.status?.git?.pullRequest?.number).toBe(number);
    expect((await openPulls('shop')).filter((p) => p.head?.ref === 'rdev/greet')).toHaveLength(1);
  });

  it('leaves no branch and no pull request when it changed nothing', async () => {
    await items.create('idle', { type: 'agent', prompt: 'say there is nothing to do' });
    const done = await succeeded('idle');
    expect(done.status?.git).toEqual({ baseBranch: 'main', branch: 'rdev/idle', changed: false });
    expect(await branchExists('shop', 'rdev/idle')).toBe(false);
    // Give the operator the chance to open one, had it wanted to.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await items.get('idle')).status?.git?.pullRequest).toBeUndefined();
    expect((await openPulls('shop')).filter((p) => p.head?.ref === 'rdev/idle')).toEqual([]);
  });

  it('fails with a clear reason, without retrying, when its branch moved meanwhile', async () => {
    // The agent starts on the branch, then waits for its cue; meanwhile someone pushes to it.
    const cue = join(mkdtempSync(join(tmpdir(), 'rdev-cue-')), 'go');
    await items.create('raced', {
      type: 'agent',
      prompt: `say on the branch\nwait ${cue}\nwrite raced.md: mine`,
      git: { branch: 'rdev/greet' },
      maxAttempts: 3,
    });
    await items.phase('raced', 'Running');
    const identity = await projectIdentity(client, ns.name, 'shop');
    const auth = { username: identity.username, token: (await readSecret(ns.name, 'shop-git')).token ?? '' };
    const { cloneURL } = await repoOf('shop');
    const before = (await commitsAhead('shop', 'rdev/greet')).length;
    // The agent runs (so the branch is checked out) once it says so.
    await eventually(
      async () => worker.lines.some((l) => l.includes('/raced#1] on the branch')) || undefined,
    );
    withClone(
      auth,
      cloneURL,
      (dir) => {
        spawnSync('sh', ['-c', 'echo theirs > theirs.md'], { cwd: dir });
        expect(git(dir, auth, 'add', 'theirs.md').ok).toBe(true);
        expect(git(dir, auth, 'commit', '-m', 'Theirs').ok).toBe(true);
        const push = git(dir, auth, 'push', 'origin', 'rdev/greet');
        expect(push.ok, push.stderr).toBe(true);
      },
      '--branch',
      'rdev/greet',
    );
    writeFileSync(cue, 'go\n');
    const failed = await items.phase('raced', 'Failed', 120_000);
    expect(failed.status?.attempts).toBe(1);
    expect(failed.status?.message).toMatch(/moved since the item began.*not pushed/);
    // Their commit is on the branch, the item's is not.
    const commits = await commitsAhead('shop', 'rdev/greet');
    expect(commits).toHaveLength(before + 1);
    expect(commits.filter((c) => c.commit?.message?.startsWith('Theirs'))).toHaveLength(1);
    expect(await fileOn('shop', 'rdev/greet', 'theirs.md')).toBe('theirs\n');
    await expect(fileOn('shop', 'rdev/greet', 'raced.md')).rejects.toBeDefined();
  });
});

describe('git identities and tokens', () => {
  it("cannot push to another Project's repository: neither the workspace's nor a Checkout's token", async () => {
    const shop = await projectIdentity(client, ns.name, 'shop');
    const other = await repoOf('other');
    const own = await repoOf('shop');
    const workspace = await readSecret(ns.name, 'shop-git');
    await checkouts.create('lease');
    const leased = await checkouts.phase('lease', 'Active');
    const lent = await readSecret(
      ns.name,
      (leased.status as { credentialsSecret?: string }).credentialsSecret ?? '',
    );
    expect(lent.username).toBe(shop.username);
    for (const token of [workspace.token ?? '', lent.token ?? '']) {
      const auth = { username: shop.username, token };
      // Its own repository: yes. The other Project's: 403 from Gitea.
      expect(git(tmpdir(), auth, 'ls-remote', own.cloneURL).ok).toBe(true);
      const res = await fetch(`${gitea.url}/api/v1/repos/${other.owner}/${other.repo}/contents/x.md`, {
        method: 'POST',
        headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: Buffer.from('x').toString('base64'), message: 'x' }),
      });
      // Gitea hides a private repository from who may not read it: 404, else 403.
      expect([403, 404]).toContain(res.status);
      const pushed = withClone(auth, own.cloneURL, (dir) => {
        git(dir, auth, 'remote', 'set-url', 'origin', other.cloneURL);
        return git(dir, auth, 'push', 'origin', 'HEAD:refs/heads/stolen');
      });
      expect(pushed.ok).toBe(false);
      expect(pushed.stderr).toMatch(/403|denied|not found|Authentication failed/i);
    }
    // The Project's user can create no repository of its own to push to either.
    const created = await fetch(`${gitea.url}/api/v1/user/repos`, {
      method: 'POST',
      headers: { authorization: `token ${workspace.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'exfiltrate' }),
    });
    expect(created.status).toBeGreaterThanOrEqual(400);
  });

  it('lends each runner a token that is revoked when the runner goes', async () => {
    await items.create('lent', { type: 'agent', prompt: 'write lent.md: yes' });
    const running = await items.phase('lent', 'Running');
    const podName = running.status?.runner?.podName ?? '';
    const runner = await client.get<Pod>(PODS, ns.name, podName);
    expect(runner.metadata.finalizers).toContain('rdev.dev/git-token');
    expect(await identityTokens(await projectIdentity(client, ns.name, 'shop'))).toContain(
      runnerTokenName(runner),
    );
    const env = runner.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'RDEV_GIT_TOKEN')?.valueFrom?.secretKeyRef?.name).toBe(
      `${podName}-git`,
    );
    await succeeded('lent');
    await untilGone(() => client.get(PODS, ns.name, podName));
    const identity = await projectIdentity(client, ns.name, 'shop');
    const tokens = await identityTokens(identity);
    expect(tokens).not.toContain(runnerTokenName(runner));
    // The runner tokens left are the warm runners' (one each).
    const warm = (
      await client.list<Pod>(PODS, ns.name, { labelSelector: 'rdev.dev/role=runner,rdev.dev/project=shop' })
    ).items.map((p) => runnerTokenName(p));
    expect(tokens.filter((t) => t.startsWith('rdev-runner-') && !warm.includes(t))).toEqual([]);
  });

  it('gives the workspace a clone of the repository, made by its init container', async () => {
    const project = await projects.get('shop');
    const pod = await client.get<Pod>(PODS, ns.name, project.status?.workspace?.podName ?? '');
    const init = pod.spec?.initContainers?.find((c) => c.name === 'clone');
    expect(init?.command?.[2]).toBe(workspaceCloneScript('shop'));
    expect(init?.env?.find((e) => e.name === 'RDEV_GIT_TOKEN')?.valueFrom?.secretKeyRef?.name).toBe(
      'shop-git',
    );
    // kwok runs no init containers: run the clone step through exec in the workspace Pod, which
    // gets the Pod's env (the lent token), in a directory of the test's own.
    const dir = mkdtempSync(join(tmpdir(), 'rdev-ws-'));
    const target = { namespace: ns.name, pod: pod.metadata.name, container: 'workspace' };
    let out = '';
    const collect = { onStdout: (c: Buffer) => (out += c), onStderr: (c: Buffer) => (out += c) };
    const script = `cd '${dir}' && ${init?.command?.[2]}`;
    expect((await execInPod(kc, target, ['sh', '-c', script], collect)).code, out).toBe(0);
    expect(readFileSync(join(dir, 'shop', 'README.md'), 'utf8')).toContain('shop');
    const config = spawnSync('git', ['-C', join(dir, 'shop'), 'config', 'user.email'], { encoding: 'utf8' });
    expect(config.stdout.trim()).toBe(
      `${(await projectIdentity(client, ns.name, 'shop')).username}@users.rdev.invalid`,
    );
    // Run again, it leaves the clone (and work in it) alone.
    spawnSync('sh', ['-c', 'echo wip > wip.txt'], { cwd: join(dir, 'shop') });
    out = '';
    expect((await execInPod(kc, target, ['sh', '-c', script], collect)).code, out).toBe(0);
    expect(out).toContain('cloned already');
    expect(readFileSync(join(dir, 'shop', 'wip.txt'), 'utf8')).toBe('wip\n');
  });

  it('deletes the identity with the Project, and keeps it (tokens revoked) under Retain', async () => {
    const gone = await projectIdentity(client, ns.name, 'other');
    await projects.delete('other');
    await untilGone(() => projects.get('other'));
    expect(
      await api.users.userGet(gone.username).then(
        () => 200,
        (e: Response) => e.status,
      ),
    ).toBe(404);

    await projects.patchSpec('kept', { repo: { deletionPolicy: 'Retain' } });
    const kept = await projectIdentity(client, ns.name, 'kept');
    expect(await identityTokens(kept)).toContain('rdev-workspace');
    await projects.delete('kept');
    await untilGone(() => projects.get('kept'));
    expect((await api.users.userGet(kept.username)).data.login).toBe(kept.username);
    expect(await identityTokens(kept)).toEqual([]);
    await api.admin.adminDeleteUser(kept.username, { purge: true });
  });
});

describe('the operator SIGKILLed while items run', () => {
  it('leaves no runner token alive once the items are over', { timeout: 240_000 }, async () => {
    await ns.stopOperator();
    operator.restart();
    const names = ['crash-a', 'crash-b', 'crash-c'];
    for (const name of names) {
      await items.create(name, { type: 'agent', prompt: `say ${name}\nwrite ${name}.md: ${name}` });
      await new Promise((r) => setTimeout(r, 700));
      operator.restart();
    }
    for (const name of names) await succeeded(name);
    operator.restart();
    const identity = await projectIdentity(client, ns.name, 'shop');
    await eventually(
      async () => {
        const alive = (await identityTokens(identity)).filter((t) => t.startsWith('rdev-runner-'));
        const runners = (
          await client.list<Pod>(PODS, ns.name, {
            labelSelector: 'rdev.dev/role=runner,rdev.dev/project=shop',
          })
        ).items;
        // Only the runners that exist (warm ones, waiting for work) hold a token: one each.
        const lent = new Set(runners.map((p) => runnerTokenName(p)));
        return alive.every((t) => lent.has(t)) && alive.length === new Set(alive).size ? true : undefined;
      },
      { timeoutMs: 120_000 },
    );
  });
});
