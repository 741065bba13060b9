// An in-memory Woodpecker server API (v2/v3 shapes), limited to what rdev uses: activating a
// forge repository, looking it up, deactivating or removing it, triggering manual pipelines and
// reading their status and step logs. Pipelines never run by themselves: the test moves them
// through pending → running → success | failure and writes their logs. Errors are plain text, as
// Woodpecker's handlers answer them (c.String / AbortWithStatus).
import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { isFinished } from '../../operator/src/providers/ci/woodpecker-client.ts';
import { bearerToken, type FakeReply, type FakeRequest, FakeService, jsonBody } from './server.ts';
import type {
  FakeLogEntry,
  FakePipeline,
  FakeRepo,
  FakeUser,
  ForgeRepo,
  PipelineStatus,
} from './woodpecker-model.ts';

export * from './woodpecker-model.ts';

export interface FakeWoodpeckerOptions {
  /** A personal access token of an admin user (default "wp-test-token"). */
  token?: string;
  knownForgeRepos?: ForgeRepo[];
  /** Step names of each pipeline's single workflow (default clone, test). */
  steps?: string[];
  /** Where the forge's web pages are (used in forge_url and clone_url). */
  forgeURL?: string;
  /**
   * Asked for a forge id that is not among the known ones, e.g. a lookup in a real Gitea
   * (GET /api/v1/repositories/{id}) when the fake stands in for Woodpecker in integration tests.
   */
  forgeLookup?: (id: number) => Promise<ForgeRepo | undefined>;
}

const unix = () => Math.floor(Date.now() / 1000);
const text = (status: number, message = STATUS_CODES[status] ?? ''): FakeReply => ({ status, body: message });
const json = (body: unknown): FakeReply => ({ status: 200, body });

/** A fake Woodpecker server; its `url` is http://127.0.0.1:<port> (the API is under /api). */
export class FakeWoodpecker extends FakeService {
  readonly token: string;
  readonly #tokens = new Map<string, FakeUser>();
  readonly #forge = new Map<number, ForgeRepo>();
  readonly #repos = new Map<number, FakeRepo>();
  readonly #pipelines = new Map<number, FakePipeline[]>();
  readonly #logs = new Map<number, FakeLogEntry[]>();
  readonly #steps: string[];
  readonly #forgeURL: string;
  readonly #forgeLookup: FakeWoodpeckerOptions['forgeLookup'];
  #nextId = 1;

  private constructor(options: FakeWoodpeckerOptions) {
    super();
    this.token = options.token ?? 'wp-test-token';
    this.#tokens.set(this.token, { id: 1, login: 'rdev-ci', admin: true });
    for (const repo of options.knownForgeRepos ?? []) this.addForgeRepo(repo);
    this.#steps = options.steps ?? ['clone', 'test'];
    this.#forgeURL = (options.forgeURL ?? 'http://gitea.invalid').replace(/\/$/, '');
    this.#forgeLookup = options.forgeLookup;
  }

  static async start(options: FakeWoodpeckerOptions = {}): Promise<FakeWoodpecker> {
    const fake = new FakeWoodpecker(options);
    await fake.listen(
      (req) => fake.#route(req),
      (status, message) => text(status, message),
    );
    return fake;
  }

  /** Makes a forge repository visible to Woodpecker (created on Gitea). */
  addForgeRepo(repo: ForgeRepo): void {
    this.#forge.set(repo.id, { ...repo });
  }

  /** Another user's token; `admin: false` may read and trigger but not activate or remove. */
  addToken(token: string, user: Omit<FakeUser, 'id'>): void {
    this.#tokens.set(token, { id: this.#tokens.size + 1, ...user });
  }

  /** Copies of the repositories Woodpecker knows (active or not). */
  repos(): FakeRepo[] {
    return [...this.#repos.values()].map((r) => structuredClone(r));
  }

  pipelines(repoId: number): FakePipeline[] {
    return (this.#pipelines.get(repoId) ?? []).map((p) => structuredClone(p));
  }

  /**
   * Moves a pipeline to `status`: its workflow and steps follow (on failure, the step named
   * `failedStep`, by default the last, fails with `exitCode`, default 1).
   */
  setPipelineStatus(
    repoId: number,
    number: number,
    status: PipelineStatus,
    options: { exitCode?: number; failedStep?: string } = {},
  ): void {
    const pipeline = this.#pipeline(repoId, number);
    const now = unix();
    pipeline.status = status;
    pipeline.updated = now;
    if (status !== 'pending' && status !== 'created' && !pipeline.started) pipeline.started = now;
    if (isFinished(status)) pipeline.finished = now;
    for (const workflow of pipeline.workflows) {
      workflow.state = status;
      workflow.started = pipeline.started || undefined;
      workflow.finished = pipeline.finished || undefined;
      const failed = options.failedStep ?? workflow.children.at(-1)?.name;
      workflow.children.forEach((step, i) => {
        if (status === 'running') step.state = i === 0 ? 'running' : 'pending';
        else if (status === 'failure') step.state = step.name === failed ? 'failure' : 'success';
        else step.state = status;
        step.exit_code = step.state === 'failure' ? (options.exitCode ?? 1) : 0;
        if (step.state !== 'pending' && step.state !== 'created') step.start_time ??= now;
        if (isFinished(step.state)) step.end_time = now;
      });
    }
  }

  /** Appends lines to the log of a pipeline's step, by step name. */
  appendLog(repoId: number, number: number, stepName: string, lines: string | string[]): void {
    const pipeline = this.#pipeline(repoId, number);
    const step = pipeline.workflows.flatMap((w) => w.children).find((s) => s.name === stepName);
    if (!step) throw new Error(`pipeline ${number} has no step ${stepName}`);
    const log = this.#logs.get(step.id) ?? [];
    for (const line of Array.isArray(lines) ? lines : lines.split('\n')) {
      log.push({
        id: this.#nextId++,
        step_id: step.id,
        time: log.length,
        line: log.length,
        data: Buffer.from(line).toString('base64'),
        type: 0,
      });
    }
    this.#logs.set(step.id, log);
  }

  #pipeline(repoId: number, number: number): FakePipeline {
    const pipeline = this.#pipelines.get(repoId)?.find((p) => p.number === number);
    if (!pipeline) throw new Error(`repo ${repoId} has no pipeline ${number}`);
    return pipeline;
  }

  async #route(req: FakeRequest): Promise<FakeReply> {
    const user = this.#tokens.get(bearerToken(req) ?? '');
    if (!user) return text(401, 'User not authorized');
    const path = req.path;
    if (path === '/api/repos' && req.method === 'POST') {
      // the forge is asked first (maybe elsewhere); the rest of the request is handled at once
      const forgeId = req.query.get('forge_remote_id') ?? '';
      if (/^\d+$/.test(forgeId) && !this.#forge.has(Number(forgeId)) && this.#forgeLookup) {
        const found = await this.#forgeLookup(Number(forgeId));
        if (found) this.addForgeRepo(found);
      }
      return this.#activate(user, req.query);
    }
    return this.#routeSync(user, req);
  }

  #routeSync(user: FakeUser, req: FakeRequest): FakeReply {
    const path = req.path;
    if (path === '/api/user' && req.method === 'GET')
      return json({ id: user.id, login: user.login, admin: user.admin });
    const lookup = /^\/api\/repos\/lookup\/(.+)$/.exec(path);
    if (lookup && req.method === 'GET') {
      const repo = [...this.#repos.values()].find((r) => r.full_name === lookup[1]);
      return repo ? json(repo) : text(404, '');
    }
    const m = /^\/api\/repos\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) return text(404, '404 page not found');
    const [, rawId, rest = ''] = m;
    if (!/^\d+$/.test(rawId ?? '')) return text(400, '');
    const repo = this.#repos.get(Number(rawId));
    if (!repo) return text(404, '');

    if (rest === '' && req.method === 'GET') return json(repo);
    if (rest === '' && req.method === 'DELETE') {
      if (!user.admin) return text(403, 'User not authorized');
      repo.active = false;
      if (/^(1|t|true)$/i.test(req.query.get('remove') ?? '')) this.#remove(repo.id);
      return json(repo);
    }
    if (rest === '/pipelines' && req.method === 'POST') return this.#trigger(user, repo, req);
    if (rest === '/pipelines' && req.method === 'GET') {
      const page = Number(req.query.get('page') ?? 1) || 1;
      const perPage = Number(req.query.get('perPage') ?? 50) || 50;
      const all = [...(this.#pipelines.get(repo.id) ?? [])].reverse();
      return json(all.slice((page - 1) * perPage, page * perPage).map(({ workflows: _, ...p }) => p));
    }
    const pipelineMatch = /^\/pipelines\/([^/]+)$/.exec(rest);
    if (pipelineMatch && req.method === 'GET')
      return this.#getPipeline(repo, pipelineMatch[1] ?? '', req.query);
    const logsMatch = /^\/logs\/([^/]+)\/([^/]+)$/.exec(rest);
    if (logsMatch && req.method === 'GET') return this.#getLogs(repo, logsMatch[1] ?? '', logsMatch[2] ?? '');
    return text(404, '404 page not found');
  }

  /** PostRepo: activate by forge_remote_id, re-activating a repository deactivated before. */
  #activate(user: FakeUser, query: URLSearchParams): FakeReply {
    const forgeId = query.get('forge_remote_id') ?? '';
    if (forgeId === '' || forgeId === '0') return text(400, 'No forge_remote_id provided');
    const existing = [...this.#repos.values()].find((r) => r.forge_remote_id === forgeId);
    if (existing?.active) return text(409, 'Repository is already active.');
    const from = /^\d+$/.test(forgeId) ? this.#forge.get(Number(forgeId)) : undefined;
    if (!from) return text(500, 'Could not fetch repository from forge.');
    if (!user.admin) return text(403, 'User has to be a admin of this repository');
    const fullName = `${from.owner}/${from.name}`;
    const clash = [...this.#repos.values()].find((r) => r.full_name === fullName && r !== existing);
    if (clash) return text(500, 'could not create/update repo in store.');
    const repo: FakeRepo = {
      ...(existing ?? this.#newRepo(from)),
      owner: from.owner,
      name: from.name,
      full_name: fullName,
      forge_url: `${this.#forgeURL}/${fullName}`,
      clone_url: `${this.#forgeURL}/${fullName}.git`,
      default_branch: from.defaultBranch ?? 'main',
      private: from.private ?? false,
      active: true,
    };
    this.#repos.set(repo.id, repo);
    return json(repo);
  }

  #newRepo(from: ForgeRepo): FakeRepo {
    return {
      id: this.#nextId++,
      forge_id: 1,
      forge_remote_id: String(from.id),
      org_id: 1,
      owner: from.owner,
      name: from.name,
      full_name: `${from.owner}/${from.name}`,
      avatar_url: '',
      forge_url: '',
      clone_url: '',
      clone_url_ssh: '',
      default_branch: 'main',
      scm: 'git',
      pr_enabled: true,
      timeout: 60,
      visibility: from.private ? 'private' : 'public',
      private: from.private ?? false,
      trusted: false,
      gated: false,
      active: false,
      allow_pr: true,
      allow_deploy: false,
      config_file: '',
      cancel_previous_pipeline_events: [],
      netrc_only_trusted: true,
    };
  }

  #remove(repoId: number): void {
    for (const pipeline of this.#pipelines.get(repoId) ?? []) {
      for (const step of pipeline.workflows.flatMap((w) => w.children)) this.#logs.delete(step.id);
    }
    this.#pipelines.delete(repoId);
    this.#repos.delete(repoId);
  }

  /** CreatePipeline: a manual pipeline on the head of `branch`, pending until the test moves it. */
  #trigger(user: FakeUser, repo: FakeRepo, req: FakeRequest): FakeReply {
    const body = jsonBody(req);
    if (body instanceof Error || typeof body !== 'object' || body === null) return text(400, 'invalid body');
    const { branch, variables } = body as { branch?: unknown; variables?: unknown };
    const forge = this.#forge.get(Number(repo.forge_remote_id));
    if (
      typeof branch !== 'string' ||
      branch === '' ||
      (forge?.branches && !forge.branches.includes(branch))
    ) {
      return text(500, `could not fetch branch head: branch '${String(branch)}' not found`);
    }
    if (variables !== undefined && (typeof variables !== 'object' || variables === null)) {
      return text(400, 'variables must be an object');
    }
    const list = this.#pipelines.get(repo.id) ?? [];
    const now = unix();
    const pipelineId = this.#nextId++;
    const workflowId = this.#nextId++;
    const pipeline: FakePipeline = {
      id: pipelineId,
      number: (list.at(-1)?.number ?? 0) + 1,
      author: user.login,
      parent: 0,
      event: 'manual',
      status: 'pending',
      errors: null,
      created: now,
      updated: now,
      started: 0,
      finished: 0,
      deploy_to: '',
      commit: randomBytes(20).toString('hex'),
      branch,
      ref: `refs/heads/${branch}`,
      refspec: '',
      message: `MANUAL PIPELINE @ ${branch}`,
      timestamp: now,
      sender: user.login,
      author_avatar: '',
      author_email: '',
      forge_url: repo.forge_url,
      reviewed_by: '',
      reviewed: 0,
      variables: (variables as Record<string, string> | undefined) ?? {},
      workflows: [
        {
          id: workflowId,
          pipeline_id: pipelineId,
          pid: 1,
          name: 'woodpecker',
          state: 'pending',
          children: this.#steps.map((name, i) => ({
            id: this.#nextId++,
            pipeline_id: pipelineId,
            pid: i + 2,
            ppid: 1,
            name,
            state: 'pending',
            exit_code: 0,
          })),
        },
      ],
    };
    list.push(pipeline);
    this.#pipelines.set(repo.id, list);
    return json(pipeline);
  }

  #getPipeline(repo: FakeRepo, number: string, query: URLSearchParams): FakeReply {
    const list = this.#pipelines.get(repo.id) ?? [];
    if (number === 'latest') {
      const branch = query.get('branch') ?? repo.default_branch;
      const latest = list.filter((p) => p.branch === branch).at(-1);
      return latest ? json(latest) : text(404, '');
    }
    if (!/^\d+$/.test(number)) return text(400, '');
    const pipeline = list.find((p) => p.number === Number(number));
    return pipeline ? json(pipeline) : text(404, '');
  }

  #getLogs(repo: FakeRepo, number: string, stepId: string): FakeReply {
    if (!/^\d+$/.test(number)) return text(400, '');
    const pipeline = (this.#pipelines.get(repo.id) ?? []).find((p) => p.number === Number(number));
    if (!pipeline) return text(404, '');
    if (!/^\d+$/.test(stepId)) return text(400, '');
    const steps = [...this.#pipelines.values()].flat().flatMap((p) => p.workflows.flatMap((w) => w.children));
    const step = steps.find((s) => s.id === Number(stepId));
    if (!step) return text(404, '');
    if (step.pipeline_id !== pipeline.id) {
      return text(400, `step with id ${stepId} is not part of repo ${repo.full_name}`);
    }
    return json(this.#logs.get(step.id) ?? []);
  }
}
