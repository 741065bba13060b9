// The Checkout reconciler pass by pass, against a fake API server and a fake Gitea: each pass
// writes status once, at its end; the token's name is on record (a pass of its own) before the
// token exists; the token is revoked at checkin, at the TTL and on deletion.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHECKOUTS, PROJECTS } from '../../operator/src/api/resources.ts';
import type { CheckoutStatus } from '../../operator/src/api/v1alpha1/checkout.ts';
import type { LiveCheckout, LiveProject } from '../../operator/src/api/v1alpha1/index.ts';
import { loadConfig } from '../../operator/src/config.ts';
import { tokenRecorded } from '../../operator/src/controllers/checkout/index.ts';
import { FINALIZER, secretNameOf, tokenNameOf } from '../../operator/src/controllers/checkout/names.ts';
import { checkoutReconciler } from '../../operator/src/controllers/checkout/reconcile.ts';
import {
  ApiError,
  type KubeClient,
  type KubeObject,
  type Resource,
} from '../../operator/src/runtime/client.ts';
import type { Reconciler } from '../../operator/src/runtime/controller.ts';
import { EventRecorder } from '../../operator/src/runtime/events.ts';
import { SECRETS } from '../../operator/src/runtime/resources.ts';
import { Store } from '../../operator/src/runtime/store.ts';

const NS = 'team';
/** The Project's git identity. */
const BOT = 'rdev-0123456789abcdef';
const CREATED = '2026-11-24T10:00:00Z';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** What both fakes were asked, in order: `status <phase>` marks a status write. */
let calls: string[] = [];

/** Gitea's branch, token and pull-request endpoints for one repository, acme/shop. */
class FakeGitea {
  readonly tokens = new Set<string>();
  readonly branches = new Set(['main']);
  readonly pulls: {
    number: number;
    html_url: string;
    state: string;
    merged: boolean;
    head: { ref: string };
  }[] = [];
  failTokenCreation = false;
  private readonly server = createServer((req, res) => void this.handle(req, res));

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('not listening on TCP');
    return `http://127.0.0.1:${address.port}`;
  }

  stop = () => this.server.close();

  private async handle(req: IncomingMessage, res: ServerResponse) {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body: Record<string, string> = text ? JSON.parse(text) : {};
    const url = new URL(req.url ?? '/', 'http://gitea');
    const path = decodeURIComponent(url.pathname.replace(/^\/api\/v1/, ''));
    const route = `${req.method} ${path}`;
    calls.push(route.startsWith('GET') ? route : `${route}${body.name ? ` ${body.name}` : ''}`);
    const send = (status: number, json?: unknown) => {
      res.writeHead(status, json === undefined ? {} : { 'content-type': 'application/json' });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    };
    const repo = '/repos/acme/shop';
    /** The rest of the path after `prefix`, when the route starts with it. */
    const after = (prefix: string) => (route.startsWith(prefix) ? route.slice(prefix.length) : undefined);
    const ref = after(`GET ${repo}/git/refs/heads/`);
    const deletedBranch = after(`DELETE ${repo}/branches/`);
    const deletedToken = after(`DELETE /users/${BOT}/tokens/`);
    const pull = after(`GET ${repo}/pulls/`);
    if (route === `POST ${repo}/branches`) {
      if (this.branches.has(body.new_branch_name ?? '')) return send(409, { message: 'exists' });
      if (!this.branches.has(body.old_ref_name ?? '')) return send(404, { message: 'no base' });
      this.branches.add(body.new_branch_name ?? '');
      return send(201, { name: body.new_branch_name });
    }
    if (ref !== undefined)
      return this.branches.has(ref) ? send(200, [{ ref: `refs/heads/${ref}` }]) : send(404, {});
    if (deletedBranch !== undefined) return send(this.branches.delete(deletedBranch) ? 204 : 404);
    if (route === `POST /users/${BOT}/tokens`) {
      if (this.failTokenCreation) return send(500, { message: 'database is locked' });
      if (this.tokens.has(body.name ?? '')) return send(400, { message: 'token name has been used' });
      this.tokens.add(body.name ?? '');
      return send(201, { sha1: `sha-${body.name}` });
    }
    if (deletedToken !== undefined)
      return this.tokens.delete(deletedToken) ? send(204) : send(404, { message: 'no token' });
    if (route === `GET ${repo}/pulls`)
      return send(
        200,
        this.pulls.filter((p) => p.state === 'open'),
      );
    if (route === `POST ${repo}/pulls`) {
      const pr = {
        number: this.pulls.length + 1,
        html_url: `https://git.test/acme/shop/pulls/${this.pulls.length + 1}`,
        state: 'open',
        merged: false,
        head: { ref: body.head ?? '' },
      };
      this.pulls.push(pr);
      return send(201, pr);
    }
    if (pull !== undefined) {
      const pr = this.pulls.find((p) => String(p.number) === pull);
      return pr ? send(200, pr) : send(404, { message: 'no pull request' });
    }
    return send(404, { message: `unexpected ${route}` });
  }
}

/** Any object the fake API server holds: a Checkout, a Project (status.repo) or a Secret. */
type Obj = KubeObject & {
  spec?: Record<string, unknown>;
  status?: CheckoutStatus & {
    repo?: { fullName?: string; cloneURL?: string };
    gitIdentity?: { username: string; secretName: string };
  };
  data?: Record<string, string>;
};

/** The API server: objects by resource/namespace/name, the patches the reconciler sends. */
class FakeKube {
  readonly objects = new Map<string, Obj>();
  private rv = 1;

  put(r: Resource, obj: Obj) {
    obj.metadata.resourceVersion = String(this.rv++);
    this.objects.set(`${r.plural}/${obj.metadata.namespace}/${obj.metadata.name}`, structuredClone(obj));
  }

  object(r: Resource, name: string, namespace = NS): Obj {
    const obj = this.objects.get(`${r.plural}/${namespace}/${name}`);
    if (!obj) throw new ApiError(404, 'NotFound', `${r.plural} ${name} not found`);
    return obj;
  }

  get = async (r: Resource, namespace: string, name: string) =>
    structuredClone(this.object(r, name, namespace));

  create = async (_r: Resource, obj: Obj) => obj; // Events

  patch = async (
    r: Resource,
    namespace: string,
    name: string,
    patch: Obj | { op: string; path: string; value?: unknown }[],
    type: string,
    _query: unknown,
    subresource?: string,
  ) => {
    if (r === SECRETS && type === 'apply' && !Array.isArray(patch)) {
      calls.push(`apply Secret ${name}`);
      this.put(SECRETS, patch);
      return structuredClone(patch);
    }
    const obj = this.object(r, name, namespace);
    if (subresource === 'status' && !Array.isArray(patch)) {
      calls.push(`status ${patch.status?.phase}`);
      obj.status = structuredClone(patch.status);
    } else if (Array.isArray(patch)) {
      for (const op of patch) {
        if (op.op === 'add' && op.path === '/metadata/finalizers') obj.metadata.finalizers = [FINALIZER];
        if (op.op === 'add' && op.path === '/metadata/finalizers/-') obj.metadata.finalizers?.push(FINALIZER);
        if (op.op === 'remove') obj.metadata.finalizers = [];
      }
    }
    this.put(r, obj);
    return structuredClone(obj);
  };
}

const gitea = new FakeGitea();
let giteaURL: string;
beforeAll(async () => {
  giteaURL = await gitea.start();
});
afterAll(() => gitea.stop());

let kube: FakeKube;
let now: Date;
let checkouts: Store<LiveCheckout & KubeObject>;
let projects: Store<LiveProject & KubeObject>;
let secrets: Store<KubeObject>;
let reconcile: Reconciler;

beforeEach(() => {
  kube = new FakeKube();
  calls = [];
  now = new Date('2026-11-24T10:00:05Z');
  gitea.tokens.clear();
  gitea.pulls.length = 0;
  gitea.branches.clear();
  gitea.branches.add('main');
  gitea.failTokenCreation = false;
  kube.put(SECRETS, { metadata: { name: 'gitea', namespace: 'rdev' }, data: { GITEA_TOKEN: b64('admin') } });
  kube.put(SECRETS, {
    metadata: { name: 'shop-git-identity', namespace: NS },
    data: {
      username: b64(BOT),
      password: b64('pw'),
      email: b64(`${BOT}@users.rdev.invalid`),
      name: b64('rdev team/shop'),
    },
  });
  kube.put(PROJECTS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: 'shop', namespace: NS, uid: 'p-1' },
    spec: {},
    status: {
      repo: { fullName: 'acme/shop', cloneURL: 'https://git.test/acme/shop.git' },
      gitIdentity: { username: BOT, secretName: 'shop-git-identity' },
    },
  });
  kube.put(CHECKOUTS, {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'Checkout',
    metadata: { name: 'login', namespace: NS, uid: 'uid-1', generation: 1, creationTimestamp: CREATED },
    spec: { projectRef: { name: 'shop' }, baseBranch: 'main', ttl: '4h', keepBranch: false },
  });
  checkouts = new Store();
  projects = new Store();
  secrets = new Store();
  // A structural fake: KubeClient is a class with private members, which no fake can have.
  const client = kube as unknown as KubeClient;
  reconcile = checkoutReconciler({
    client,
    events: new EventRecorder(client, { controller: 'rdev-checkout', instance: 'test' }),
    config: loadConfig(
      [`--gitea-url=${giteaURL}`, '--gitea-secret=rdev/gitea', '--checkout-poll-seconds=7'],
      {},
    ),
    checkouts,
    projects,
    secrets,
    now: () => now,
  });
});

/** The informer's part: `store` holds what the API server has of `r`. */
function fill<T extends KubeObject>(store: Store<T>, r: Resource) {
  for (const key of store.keys()) store.remove(key);
  for (const [key, obj] of kube.objects) {
    // The fake keeps every kind as an Obj; what it holds under r.plural is of r's kind.
    if (key.startsWith(`${r.plural}/`)) store.upsert(structuredClone(obj) as T);
  }
}

const ctx = { signal: new AbortController().signal, log: pino({ level: 'silent' }) };

/** One pass over the Checkout, on stores in sync with the API server: its result and calls. */
async function pass() {
  fill(checkouts, CHECKOUTS);
  fill(projects, PROJECTS);
  fill(secrets, SECRETS);
  calls = [];
  const result = await reconcile(`${NS}/login`, ctx);
  return { result, calls: [...calls], writes: calls.filter((c) => c.startsWith('status')) };
}

const current = () => kube.object(CHECKOUTS, 'login');
const live = () => checkouts.get(`${NS}/login`) ?? expect.unreachable('the Checkout is cached');
const tokenName = () => tokenNameOf(live());

/** Edits the Checkout's spec as a user would (a new generation). */
function editSpec(spec: Record<string, unknown>) {
  const obj = current();
  kube.put(CHECKOUTS, {
    ...obj,
    metadata: { ...obj.metadata, generation: (obj.metadata.generation ?? 1) + 1 },
    spec: { ...obj.spec, ...spec },
  });
}

/** Two passes: the name on record, then the token and its Secret. */
async function leased() {
  await pass();
  await pass();
  expect(current().status?.phase).toBe('Active');
}

describe('a Checkout reconcile pass', () => {
  it("records the token's name in a pass of its own, and creates the token in the next", async () => {
    const first = await pass();
    expect(first.writes).toEqual(['status Pending']);
    expect(first.calls.filter((c) => c.includes('/tokens'))).toEqual([]);
    expect(current().status).toMatchObject({ phase: 'Pending', token: { name: tokenName() } });
    expect(current().metadata.finalizers).toEqual([FINALIZER]);
    expect(first.result?.requeueAfter).toBeGreaterThan(0);

    // The status update that records the name is what wakes the next pass.
    const recorded = current();
    const before = { ...recorded, status: {} };
    expect(tokenRecorded({ type: 'update', old: before, obj: recorded })).toBe(true);
    expect(tokenRecorded({ type: 'update', old: recorded, obj: recorded })).toBe(false);

    const second = await pass();
    const name = tokenName();
    // A stale token of that name (an interrupted attempt) is replaced; status comes last, once.
    expect(second.calls.slice(-4)).toEqual([
      `DELETE /users/${BOT}/tokens/${name}`,
      `POST /users/${BOT}/tokens ${name}`,
      `apply Secret ${secretNameOf(live())}`,
      'status Active',
    ]);
    expect(second.writes).toEqual(['status Active']);
    expect([...gitea.tokens]).toEqual([name]);
    const secret = kube.object(SECRETS, secretNameOf(live()));
    expect(Buffer.from(secret.data?.token ?? '', 'base64').toString()).toBe(`sha-${name}`);
    expect(secret.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Checkout',
      uid: 'uid-1',
      controller: true,
    });
    expect(second.result?.requeueAfter).toBe(4 * 3_600_000 - 5_000);

    // Leased: a later pass makes nothing new, and writes status once.
    const third = await pass();
    expect(third.calls.filter((c) => c.includes('/tokens') || c.startsWith('apply'))).toEqual([]);
    expect(third.writes).toEqual(['status Active']);
  });

  it('writes a failure once, keeping the name on record, and the next pass creates that token', async () => {
    await pass();
    gitea.failTokenCreation = true;
    const failing = pass();
    await expect(failing).rejects.toThrow(/database is locked/);
    expect(calls.filter((c) => c.startsWith('status'))).toEqual(['status Pending']);
    const recorded = current().status?.token?.name;
    expect(recorded).toBe(tokenName());
    expect(current().status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('GitError');

    gitea.failTokenCreation = false;
    const retry = await pass();
    expect(retry.writes).toEqual(['status Active']);
    expect([...gitea.tokens]).toEqual([recorded]);
  });

  it('checks in: revokes the token, opens the pull request, and ends when it is merged', async () => {
    await leased();
    editSpec({ checkin: { title: 'Add a login page', body: '' } });
    const review = await pass();
    expect(review.calls[review.calls.findIndex((c) => c.startsWith('DELETE /users'))]).toBe(
      `DELETE /users/${BOT}/tokens/${tokenName()}`,
    );
    expect(review.writes).toEqual(['status Review']);
    expect(gitea.tokens.size).toBe(0);
    expect(current().status).toMatchObject({
      phase: 'Review',
      token: { revoked: true },
      pullRequest: { number: 1 },
    });
    expect(review.result).toEqual({ requeueAfter: 7000 });

    const polled = await pass();
    expect(polled.writes).toEqual(['status Review']);
    expect(polled.calls.filter((c) => c.includes('/tokens'))).toEqual([]);

    const pr = gitea.pulls[0] ?? expect.unreachable('a pull request');
    pr.merged = true;
    pr.state = 'closed';
    const merged = await pass();
    expect(merged.writes).toEqual(['status Merged']);
    expect(merged.calls).toContain('DELETE /repos/acme/shop/branches/checkout/login');
    expect(merged.result).toBeUndefined();

    // Final: nothing more to do, nothing written.
    expect((await pass()).writes).toEqual([]);
  });

  it('revokes the token at the TTL', async () => {
    await leased();
    now = new Date('2026-11-24T14:00:00Z');
    const expired = await pass();
    expect(expired.calls).toContain(`DELETE /users/${BOT}/tokens/${tokenName()}`);
    expect(expired.writes).toEqual(['status Expired']);
    expect(current().status).toMatchObject({ phase: 'Expired', token: { revoked: true } });
    expect(gitea.tokens.size).toBe(0);
  });

  it('revokes the token on deletion and lets the Checkout go, writing no status', async () => {
    await leased();
    const obj = current();
    kube.put(CHECKOUTS, { ...obj, metadata: { ...obj.metadata, deletionTimestamp: '2026-11-24T10:01:00Z' } });
    const deleted = await pass();
    expect(deleted.calls).toContain(`DELETE /users/${BOT}/tokens/${tokenName()}`);
    expect(deleted.writes).toEqual([]);
    expect(current().metadata.finalizers).toEqual([]);
    expect(gitea.tokens.size).toBe(0);
  });

  it('waits for the repository, and for a base branch that exists', async () => {
    const project = kube.object(PROJECTS, 'shop');
    kube.put(PROJECTS, { ...project, status: {} });
    const waiting = await pass();
    expect(waiting.writes).toEqual(['status Pending']);
    expect(waiting.result).toEqual({ requeueAfter: 5000 });

    kube.put(PROJECTS, project);
    editSpec({ baseBranch: 'develop' });
    const nowhere = await pass();
    expect(nowhere.writes).toEqual(['status Pending']);
    expect(current().status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('BaseBranchNotFound');
    expect(current().status?.token).toBeUndefined();
  });
});
