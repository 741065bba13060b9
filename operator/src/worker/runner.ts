// Runs an attempt's command in the Pod the operator bound it to (a runner of the item's Project,
// or the Project's workspace Pod): waits until the Pod is Ready, then starts the command through
// pods/exec and streams its output. The worker itself starts no process: what the item runs
// (its clone, its agent, its command) runs in that Pod, with that Pod's credentials only.
import type { ExecOptions, ExecResult } from '../shared/pod-exec.ts';
import type { RunnerSteps } from './commands.ts';
import { BRANCH_MOVED_EXIT, type GitResult, type GitStart, parseResult, parseStart } from './git.ts';
import { LineSplitter, type RunningProcess, type RunResult, Tail } from './output.ts';

/** The parts of a Pod the wait looks at. */
export interface PodView {
  metadata: { deletionTimestamp?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** Whether a command can run in the Pod now, must wait for it, or never will (the attempt is lost). */
export type PodState = { state: 'ready' } | { state: 'waiting' } | { state: 'lost'; reason: string };

/** What a Pod, read just now (undefined: it does not exist), means for the attempt bound to it. */
export function podState(pod: PodView | undefined, name: string): PodState {
  if (!pod) return { state: 'lost', reason: `Pod ${name} is gone` };
  if (pod.metadata.deletionTimestamp) return { state: 'lost', reason: `Pod ${name} is being deleted` };
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed')
    return { state: 'lost', reason: `Pod ${name} has ended (${phase})` };
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return phase === 'Running' && ready ? { state: 'ready' } : { state: 'waiting' };
}

export interface RunnerOptions {
  /** `namespace/name` of the Pod, for messages. */
  pod: string;
  steps: RunnerSteps;
  /** Reads the Pod; undefined when it does not exist. */
  getPod: () => Promise<PodView | undefined>;
  /** Runs a command in the Pod's container (execInPod, bound to the Pod). */
  exec: (command: string[], options: ExecOptions) => Promise<ExecResult>;
  /** How long the Pod may take to be Ready before the attempt is lost. */
  waitMs: number;
  pollMs?: number;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  tailBytes: number;
}

/** Why a wait for the Pod ended without it being Ready. */
class NotReady extends Error {}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** Polls the Pod until it is Ready; throws NotReady with the reason when it never will be. */
async function waitForPod(options: RunnerOptions, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + options.waitMs;
  let last = 'it is not Ready';
  for (;;) {
    if (signal.aborted) throw new NotReady('stopped before it started');
    let state: PodState;
    try {
      state = podState(await options.getPod(), options.pod);
    } catch (err) {
      // A failed read is retried until the deadline; it says why the wait failed, if it does.
      state = { state: 'waiting' };
      last = `reading it failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (state.state === 'ready') return;
    if (state.state === 'lost') throw new NotReady(state.reason);
    const left = deadline - Date.now();
    if (left <= 0)
      throw new NotReady(`Pod ${options.pod} was not Ready within ${options.waitMs / 1000}s (${last})`);
    await pause(Math.min(options.pollMs ?? 250, left), signal);
  }
}

/** What the git steps around the command did. */
export interface GitOutcome {
  start: GitStart;
  /** undefined: the item does not commit, or its command did not succeed. */
  result?: GitResult;
}

export type InPodResult = RunResult & { git?: GitOutcome };

export function runInPod(options: RunnerOptions): RunningProcess<InPodResult> {
  const tail = new Tail(options.tailBytes);
  const stopped = new AbortController();
  let stoppedFor: string | undefined;
  const out = new LineSplitter(tail, (line) => options.onLine(line, 'stdout'));
  const err = new LineSplitter(tail, (line) => options.onLine(line, 'stderr'));

  /** A step of the worker's own: its stdout is read back, its stderr shown as the item's output. */
  async function ownStep(command: string[]): Promise<{ code?: number; stdout: string; message?: string }> {
    let stdout = '';
    const result = await options.exec(command, {
      onStdout: (chunk) => {
        stdout += chunk.toString();
      },
      onStderr: (chunk) => err.write(chunk),
      signal: stopped.signal,
    });
    return { code: result.code, stdout, message: result.code === undefined ? result.message : undefined };
  }

  const notRun = (what: string, step: { code?: number; message?: string }) =>
    step.code === undefined
      ? stopped.signal.aborted
        ? 'stopped'
        : `${what} did not run in Pod ${options.pod}: ${step.message}`
      : `${what} failed (exit code ${step.code})`;

  async function run(): Promise<InPodResult> {
    try {
      await waitForPod(options, stopped.signal);
    } catch (e) {
      if (!(e instanceof NotReady)) throw e;
      return { lost: e.message, tail: tail.toString() };
    }
    const { steps } = options;
    let start: GitStart | undefined;
    if (steps.prepare) {
      const prepared = await ownStep(steps.prepare);
      start = prepared.code === 0 ? parseStart(prepared.stdout) : undefined;
      if (!start) return { lost: notRun('preparing the repository', prepared), tail: tail.toString() };
    }
    const result = await options.exec(steps.command, {
      onStdout: (chunk) => out.write(chunk),
      onStderr: (chunk) => err.write(chunk),
      signal: stopped.signal,
    });
    out.end();
    if (result.code === undefined) {
      err.end();
      const why = result.aborted
        ? 'stopped'
        : `the command did not run in Pod ${options.pod}: ${result.message}`;
      return { lost: why, tail: tail.toString() };
    }
    const git = start ? { start } : undefined;
    if (result.code !== 0 || !steps.finish || !start || stopped.signal.aborted) {
      err.end();
      return { exitCode: result.code, tail: tail.toString(), ...(git ? { git } : {}) };
    }
    const finished = await ownStep(steps.finish(start));
    err.end();
    const pushed = finished.code === 0 ? parseResult(finished.stdout) : undefined;
    if (pushed) return { exitCode: 0, tail: tail.toString(), git: { start, result: pushed } };
    if (finished.code === BRANCH_MOVED_EXIT) {
      return {
        failed: `branch ${start.branchAt ? 'moved' : 'was created'} since the item began: its work was committed but not pushed`,
        tail: tail.toString(),
        git: { start },
      };
    }
    return {
      lost: notRun('committing and pushing the work', finished),
      tail: tail.toString(),
      git: { start },
    };
  }

  const result = run().then(
    (r) => (stoppedFor === undefined ? r : { ...r, stoppedFor }),
    (e: unknown): InPodResult => ({
      lost: `exec in Pod ${options.pod} failed: ${e instanceof Error ? e.message : String(e)}`,
      tail: tail.toString(),
      ...(stoppedFor === undefined ? {} : { stoppedFor }),
    }),
  );
  return {
    result,
    tail: () => tail.toString(),
    // Aborting the exec stops the command in the Pod: TERM, then KILL after the grace period.
    stop(reason) {
      if (stoppedFor !== undefined) return;
      stoppedFor = reason;
      stopped.abort(new Error(reason));
    },
  };
}
