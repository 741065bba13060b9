// A small client of the Woodpecker server API (v2/v3): the calls rdev makes to register a
// repository and, for workers, to run manual pipelines and read their logs. Every request has a
// timeout; answers are parsed with zod, keeping only the fields rdev reads. Retrying is the
// caller's business (the sub-reconciler backs off; a worker polls).
import { z } from 'zod';
import { causeCode } from '../ports.ts';

/** A pipeline's or step's status; the last seven are final. */
export const PIPELINE_STATUSES = [
  'created',
  'pending',
  'running',
  'blocked',
  'success',
  'failure',
  'killed',
  'canceled',
  'error',
  'declined',
  'skipped',
] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

const FINAL: ReadonlySet<string> = new Set(PIPELINE_STATUSES.slice(4));
/** Whether a pipeline in this status has finished (unknown statuses count as unfinished). */
export const isFinished = (status: string) => FINAL.has(status);

export const woodpeckerRepo = z.object({
  id: z.number().int(),
  // a string since Woodpecker 2 (ForgeRemoteID), a number before
  forge_remote_id: z.union([z.string(), z.number()]).transform(String),
  full_name: z.string(),
  owner: z.string(),
  name: z.string(),
  active: z.boolean(),
  default_branch: z.string().optional(),
  clone_url: z.string().optional(),
});
export type WoodpeckerRepo = z.infer<typeof woodpeckerRepo>;

const step = z.object({
  id: z.number().int(),
  name: z.string(),
  state: z.string(),
  exit_code: z.number().int().default(0),
  error: z.string().optional(),
});

const workflow = z.object({
  id: z.number().int(),
  name: z.string(),
  state: z.string(),
  children: z
    .array(step)
    .nullish()
    .transform((c) => c ?? []),
});

export const woodpeckerPipeline = z.object({
  id: z.number().int(),
  number: z.number().int(),
  status: z.string(),
  event: z.string().default(''),
  branch: z.string().default(''),
  commit: z.string().default(''),
  created: z.number().default(0),
  started: z.number().default(0),
  finished: z.number().default(0),
  workflows: z
    .array(workflow)
    .nullish()
    .transform((w) => w ?? []),
});
export type WoodpeckerPipeline = z.infer<typeof woodpeckerPipeline>;

const logEntry = z.object({
  line: z.number().int(),
  time: z.number().default(0),
  // Go's []byte: base64, or null for an empty line
  data: z.string().nullish(),
});

export interface LogLine {
  line: number;
  time: number;
  text: string;
}

export interface WoodpeckerClientOptions {
  /** The server's root URL, e.g. https://ci.example.dev (the API is under /api). */
  url: string;
  /** A personal access token; sent as a Bearer token and never put in messages. */
  token: string;
  timeoutMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** A failed call; `status` is undefined when no answer came (timeout, network error). */
export class WoodpeckerError extends Error {
  readonly status: number | undefined;
  readonly method: string;
  readonly path: string;
  constructor(
    method: string,
    path: string,
    status: number | undefined,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Woodpecker ${method} ${path}: ${status === undefined ? '' : `${status} `}${detail}`, options);
    this.name = 'WoodpeckerError';
    this.status = status;
    this.method = method;
    this.path = path;
  }
}

export const isWoodpeckerStatus = (err: unknown, status: number) =>
  err instanceof WoodpeckerError && err.status === status;

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_DETAIL = 300;

export function woodpeckerClient(options: WoodpeckerClientOptions) {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function call<T>(
    method: string,
    path: string,
    schema: z.ZodType<T>,
    opts: CallOptions & { body?: unknown } = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        signal,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: 'application/json',
          ...(opts.body !== undefined && { 'content-type': 'application/json' }),
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      const code = causeCode(err);
      const detail = timeout.aborted
        ? `no answer within ${timeoutMs} ms`
        : `${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ''}`;
      throw new WoodpeckerError(method, path, undefined, detail, { cause: err });
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const detail = text.trim().slice(0, MAX_DETAIL) || response.statusText;
      throw new WoodpeckerError(method, path, response.status, detail);
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new WoodpeckerError(method, path, response.status, 'the answer is not JSON', { cause: err });
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      const detail = `unexpected answer (${issue?.path.join('.') || 'body'}: ${issue?.message})`;
      throw new WoodpeckerError(method, path, response.status, detail);
    }
    return result.data;
  }

  /** undefined on 404, the value otherwise. */
  const orMissing = <T>(promise: Promise<T>): Promise<T | undefined> =>
    promise.catch((err) => {
      if (isWoodpeckerStatus(err, 404)) return undefined;
      throw err;
    });

  const repoPath = (repoId: number) => `/api/repos/${encodeURIComponent(String(repoId))}`;

  return {
    /** Registers (activates) the forge repository; 409 when it is already active. */
    activateRepo: (forgeRemoteId: number, opts?: CallOptions) =>
      call(
        'POST',
        `/api/repos?forge_remote_id=${encodeURIComponent(String(forgeRemoteId))}`,
        woodpeckerRepo,
        opts,
      ),

    /** The repository registered under owner/name (active or not), or undefined. */
    lookupRepo: (fullName: string, opts?: CallOptions) =>
      orMissing(
        call(
          'GET',
          `/api/repos/lookup/${fullName.split('/').map(encodeURIComponent).join('/')}`,
          woodpeckerRepo,
          opts,
        ),
      ),

    getRepo: (repoId: number, opts?: CallOptions) =>
      orMissing(call('GET', repoPath(repoId), woodpeckerRepo, opts)),

    /** Deactivates the repository (and with `remove`, deletes it with its history); false on 404. */
    async deleteRepo(repoId: number, { remove }: { remove: boolean }, opts?: CallOptions): Promise<boolean> {
      const gone = await orMissing(
        call('DELETE', `${repoPath(repoId)}${remove ? '?remove=true' : ''}`, z.unknown(), opts),
      );
      return gone !== undefined;
    },

    /** Starts a manual pipeline on the head of `branch` (the pipeline must allow the manual event). */
    triggerPipeline: (
      repoId: number,
      branch: string,
      variables: Record<string, string> = {},
      opts?: CallOptions,
    ) =>
      call('POST', `${repoPath(repoId)}/pipelines`, woodpeckerPipeline, {
        ...opts,
        body: { branch, variables },
      }),

    /** A pipeline by number, or the latest of `branch` (the default branch when unset). */
    getPipeline: (repoId: number, number: number | 'latest', opts: CallOptions & { branch?: string } = {}) =>
      call(
        'GET',
        `${repoPath(repoId)}/pipelines/${number}${
          number === 'latest' && opts.branch ? `?branch=${encodeURIComponent(opts.branch)}` : ''
        }`,
        woodpeckerPipeline,
        opts,
      ),

    /** The log lines of one step of a pipeline, decoded. */
    async getLogs(repoId: number, number: number, stepId: number, opts?: CallOptions): Promise<LogLine[]> {
      const entries = await call(
        'GET',
        `${repoPath(repoId)}/logs/${number}/${stepId}`,
        z
          .array(logEntry)
          .nullish()
          .transform((e) => e ?? []),
        opts,
      );
      return entries.map((e) => ({
        line: e.line,
        time: e.time,
        text: e.data ? Buffer.from(e.data, 'base64').toString('utf8') : '',
      }));
    },
  };
}

export type WoodpeckerClient = ReturnType<typeof woodpeckerClient>;
