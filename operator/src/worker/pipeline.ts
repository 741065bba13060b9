// Runs a build, test or deploy item as the Project's CI pipeline: a manual Woodpecker pipeline
// on the branch, followed until it finishes, its step logs streamed line by line as a command's
// output would be. Same shape as a command run in a Pod (RunningProcess), so the worker treats both alike.
import type { LogLine, WoodpeckerClient, WoodpeckerPipeline } from '../providers/ci/woodpecker-client.ts';
import { isFinished } from '../providers/ci/woodpecker-client.ts';
import { realClock, sleep } from '../runtime/clock.ts';
import { type Exited, type RunningProcess, Tail } from './output.ts';

export interface PipelineOptions {
  client: WoodpeckerClient;
  repoId: number;
  branch: string;
  /** Pipeline variables: the item's name, type and attempt, for `when: evaluate` conditions. */
  variables: Record<string, string>;
  onLine: (line: string) => void;
  tailBytes: number;
  pollMs?: number;
}

/** The exit code an item gets from a finished pipeline: 0 on success, else the failed step's. */
export function pipelineExitCode(pipeline: WoodpeckerPipeline): number {
  if (pipeline.status === 'success') return 0;
  const failed = pipeline.workflows.flatMap((w) => w.children).find((s) => s.state === 'failure');
  return failed?.exit_code || 1;
}

export function runPipeline(options: PipelineOptions): RunningProcess<Exited> {
  const { client, repoId } = options;
  const tail = new Tail(options.tailBytes);
  const stopped = new AbortController();
  const emit = (text: string) => {
    tail.push(`${text}\n`);
    options.onLine(text);
  };

  async function follow(): Promise<number> {
    const signal = stopped.signal;
    const started = await client.triggerPipeline(repoId, options.branch, options.variables, { signal });
    emit(`pipeline #${started.number} started on ${options.branch}`);
    const seen = new Map<number, number>(); // step id → log lines already emitted
    for (;;) {
      const pipeline = await client.getPipeline(repoId, started.number, { signal });
      for (const step of pipeline.workflows.flatMap((w) => w.children)) {
        if (step.state === 'pending' || step.state === 'created') continue;
        const lines: LogLine[] = await client.getLogs(repoId, started.number, step.id, { signal });
        for (const line of lines.slice(seen.get(step.id) ?? 0)) emit(`${step.name}: ${line.text}`);
        seen.set(step.id, lines.length);
      }
      if (isFinished(pipeline.status)) {
        emit(`pipeline #${pipeline.number} ${pipeline.status}`);
        return pipelineExitCode(pipeline);
      }
      await sleep(realClock, options.pollMs ?? 2000, signal); // rejects when stopped
    }
  }

  let stoppedFor: string | undefined;
  const result = follow().then(
    (exitCode) => ({ exitCode, tail: tail.toString(), ...(stoppedFor ? { stoppedFor } : {}) }),
    (err: unknown) => {
      if (stoppedFor) return { exitCode: 1, stoppedFor, tail: tail.toString() };
      emit(`CI pipeline failed to run: ${err instanceof Error ? err.message : String(err)}`);
      return { exitCode: 1, tail: tail.toString() };
    },
  );
  return {
    result,
    // Stops following; the pipeline in Woodpecker runs on (the API client has no cancel yet).
    stop(reason) {
      stoppedFor ??= reason;
      stopped.abort(new Error(reason));
    },
    tail: () => tail.toString(),
  };
}
