// `rdev worker`: the kubelet of WorkItems. It watches the items bound to it (a field selector on
// status.worker), runs each Scheduled one (Running → Succeeded / Failed / Cancelled, or back to Queued for a retry)
// and writes every transition fenced: a write only lands while status still names this worker
// and this attempt, so a worker that lost an item (rebound elsewhere after its Lease expired)
// can never report over the new attempt — it stops its copy instead.
// The worker runs nothing of an item itself: the command runs in the Pod the operator bound the
// item to (status.runner.podName), started through pods/exec; pipelines run in Woodpecker.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { WORKSPACE_CONTAINER } from '../api/constants.ts';
import { PROJECTS, WORK_ITEMS } from '../api/resources.ts';
import { parseProject, parseWorkItem } from '../api/v1alpha1/index.ts';
import { type WoodpeckerClient, woodpeckerClient } from '../providers/ci/woodpecker-client.ts';
import { NotConfiguredError } from '../providers/ports.ts';
import {
  afterAttempt,
  itemKey,
  OUTPUT_TAIL_BYTES,
  type Outcome,
  running,
  type StatusPatch,
  timeoutMs,
} from '../queue/lifecycle.ts';
import { patchStatus } from '../queue/status-patch.ts';
import { isConflict, isNotFound, type KubeClient } from '../runtime/client.ts';
import { Informer } from '../runtime/informer.ts';
import { PODS, type Pod } from '../runtime/resources.ts';
import { errorMessage } from '../shared/fields.ts';
import type { OutputStream } from '../shared/live-output.ts';
import { execInPod } from '../shared/pod-exec.ts';
import type { LiveWorkItem } from '../shared/work-phases.ts';
import { boundTo, WORKER_FIELD_MANAGER } from '../shared/worker-names.ts';
import { type CommandPlan, commandFor, runnerSteps } from './commands.ts';
import type { WorkerConfig } from './config.ts';
import { Heartbeat } from './heartbeat.ts';
import type { AttemptOutput, LiveOutput } from './live-output.ts';
import type { RunningProcess } from './output.ts';
import { runPipeline } from './pipeline.ts';
import { type GitOutcome, type InPodResult, runInPod } from './runner.ts';

/** Reads of the item's Pod while waiting for it: short, since one is made every ~250 ms. */
const POD_READ_TIMEOUT_MS = 5_000;

interface Attempt {
  key: string;
  uid: string;
  number: number;
  /** The latest version this worker wrote or read: the base of its next fenced write. */
  item: LiveWorkItem;
  process?: RunningProcess;
  /** Its lines as they are printed, for the shim to stream live. */
  live?: AttemptOutput;
  /** Why it is being stopped (reported as the outcome). */
  stopping?: Outcome;
  /** Stopped without a report: the item is not ours any more. */
  abandoned?: boolean;
  done?: Promise<void>;
}

export interface WorkerDeps {
  client: KubeClient;
  config: WorkerConfig;
  log: Logger;
  /** Where each output line goes, prefixed with the item's key (default: stdout). */
  output?: (line: string) => void;
  /** Where each attempt's lines are kept for the live output endpoint (unset: not kept). */
  liveOutput?: LiveOutput;
  /** Base URL of that endpoint, published on the heartbeat Lease. */
  outputURL?: string;
}

export class Worker {
  private readonly deps: WorkerDeps;
  private readonly attempts = new Map<string, Attempt>();
  /** uid#attempt of every attempt this process started: late events about them are not a restart. */
  private readonly startedHere = new Set<string>();
  private readonly informer: Informer<LiveWorkItem>;
  private readonly heartbeat: Heartbeat;
  private readonly stopAll = new AbortController();
  private draining = false;

  constructor(deps: WorkerDeps) {
    this.deps = deps;
    const { config, client, log } = deps;
    this.informer = Informer.forResource(client, WORK_ITEMS, {
      parse: parseWorkItem,
      namespaces: config.namespaces,
      fieldSelector: boundTo(config.name),
      log: log.child({ informer: 'workitems' }),
    });
    this.informer.on({
      add: (item) => this.consider(item),
      update: (_, item) => this.consider(item),
      // Deleted, or bound elsewhere (it left our selector): either way nothing to report.
      delete: (item) => this.abandon(itemKey(item)),
    });
    this.heartbeat = new Heartbeat(client, {
      name: config.name,
      namespace: config.namespace,
      leaseDurationMs: config.leaseDurationSeconds * 1000,
      capacity: () => (this.draining ? 0 : config.capacity),
      outputURL: deps.outputURL,
      log,
      onFenced: () => {
        for (const key of this.attempts.keys()) this.abandon(key);
      },
      // Items still bound to us that we stopped while fenced are reported as lost now.
      onRenewed: () => {
        for (const item of this.informer.store.list()) this.consider(item);
      },
    });
  }

  get running(): number {
    return this.attempts.size;
  }

  get ready(): boolean {
    return this.informer.hasSynced && this.heartbeat.healthy;
  }

  async start(): Promise<void> {
    this.informer.run(this.stopAll.signal).catch((err) => this.deps.log.error({ err }, 'informer stopped'));
    await this.informer.waitForSync();
    await this.heartbeat.start(this.stopAll.signal);
    this.deps.log.info(
      { name: this.deps.config.name, capacity: this.deps.config.capacity },
      'worker started',
    );
  }

  /** Takes no new items, stops the running ones (each a failed attempt, retried elsewhere), releases the Lease. */
  async shutdown(): Promise<void> {
    this.draining = true;
    this.heartbeat.renewNow();
    for (const a of this.attempts.values())
      this.stop(a, { kind: 'lost', reason: `worker ${this.deps.config.name} shut down` });
    await Promise.all([...this.attempts.values()].map((a) => a.done));
    this.stopAll.abort(new Error('worker stopped'));
    await this.heartbeat.release();
    await this.deps.client.close();
  }

  private consider(item: LiveWorkItem): void {
    const key = itemKey(item);
    const mine = item.status?.worker === this.deps.config.name;
    const attempt = this.attempts.get(key);
    if (attempt) {
      if (!mine || item.metadata.uid !== attempt.uid || item.status?.attempts !== attempt.number) {
        this.deps.log.warn({ item: key }, 'item was bound elsewhere: stopping this copy');
        this.abandon(key);
      } else if (item.spec.cancel) {
        this.stop(attempt, { kind: 'cancelled', reason: 'cancelled while running' });
      }
      return;
    }
    if (!mine || this.startedHere.has(`${item.metadata.uid}#${item.status?.attempts}`)) return;
    const phase = item.status?.phase;
    if (phase === 'Scheduled' && item.spec.cancel) {
      void this.conclude(item, { kind: 'cancelled', reason: 'cancelled before it started' });
    } else if (phase === 'Scheduled' && !this.draining && this.heartbeat.healthy) {
      this.begin(item);
    } else if (phase === 'Running') {
      // Running here, yet not in this process: the worker restarted (or was fenced) mid-attempt.
      void this.conclude(item, {
        kind: 'lost',
        reason: `worker ${this.deps.config.name} restarted during the attempt`,
      });
    }
  }

  private begin(item: LiveWorkItem): void {
    const attempt: Attempt = {
      key: itemKey(item),
      uid: item.metadata.uid,
      number: item.status?.attempts ?? 1,
      item,
    };
    // Opened before the attempt reads Running: a reader that sees Running finds it.
    attempt.live = this.deps.liveOutput?.open(item.metadata.namespace, item.metadata.name, attempt.number);
    this.attempts.set(attempt.key, attempt);
    this.remember(`${attempt.uid}#${attempt.number}`);
    attempt.done = this.run(attempt)
      .catch((err) => this.deps.log.error({ err, item: attempt.key }, 'attempt failed to run'))
      .finally(() => {
        attempt.live?.end();
        this.attempts.delete(attempt.key);
      });
  }

  private async run(attempt: Attempt): Promise<void> {
    const log = this.deps.log.child({ item: attempt.key, attempt: attempt.number });
    if (!(await this.write(attempt, (item) => running(item, new Date())))) return;
    log.info('attempt started');
    let outcome: Outcome = { kind: 'lost', reason: 'the attempt did not start' };
    let tail = '';
    let git: GitStatus | undefined;
    try {
      ({ outcome, tail, git } = await this.execute(attempt));
    } catch (err) {
      outcome = { kind: 'lost', reason: `worker error: ${errorMessage(err)}` };
    }
    attempt.live?.end(); // every line is out: live readers need not wait for the report
    if (attempt.abandoned) return;
    const reported = await this.write(attempt, (item) => ({
      ...afterAttempt(item, outcome, new Date(), { outputTail: tail }),
      ...(git ? { git } : {}),
    }));
    log.info({ outcome, reported }, 'attempt finished');
  }

  private async execute(attempt: Attempt): Promise<{ outcome: Outcome; tail: string; git?: GitStatus }> {
    const { client, config } = this.deps;
    const item = attempt.item;
    const project = await client
      .get(PROJECTS, item.metadata.namespace, item.spec.projectRef.name)
      .then(parseProject, (err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
    const plan = commandFor(item, project, config);
    if (!plan.runnable) return { outcome: { kind: 'unrunnable', reason: plan.reason }, tail: '' };
    if (attempt.stopping || attempt.abandoned)
      return { outcome: attempt.stopping ?? { kind: 'lost', reason: 'stopped' }, tail: '' };

    const prefix = `[${attempt.key}#${attempt.number}]`;
    const output = this.deps.output ?? ((line: string) => process.stdout.write(`${line}\n`));
    const print = (line: string, stream: OutputStream = 'stdout') => {
      attempt.live?.append(line, stream);
      output(`${prefix}${stream === 'stderr' ? ' stderr:' : ''} ${line}`);
    };
    let proc: RunningProcess<InPodResult>;
    if ('pipeline' in plan) {
      proc = runPipeline({
        ...plan.pipeline,
        client: await this.woodpecker(),
        tailBytes: OUTPUT_TAIL_BYTES,
        pollMs: config.ci.pollSeconds * 1000,
        onLine: print,
      });
    } else {
      const podName = item.status?.runner?.podName;
      // The operator names a Pod for every item it does not leave to CI. Without one (an operator
      // that disagrees about CI) there is nowhere to run: another attempt may be bound to one.
      if (!podName)
        return { outcome: { kind: 'lost', reason: 'the item is bound to no Pod to run in' }, tail: '' };
      proc = this.inPod(item, podName, plan, print);
    }
    attempt.process = proc;
    const timer = setTimeout(() => this.stop(attempt, { kind: 'timedOut' }), timeoutMs(item.spec));
    let flushed = '';
    const flush =
      config.outputFlushSeconds > 0
        ? setInterval(() => {
            const tail = proc.tail();
            if (tail === flushed || attempt.stopping || attempt.abandoned) return;
            flushed = tail;
            void this.write(attempt, () => ({ outputTail: tail }), 1);
          }, config.outputFlushSeconds * 1000)
        : undefined;
    try {
      const result = await proc.result;
      const ended: Outcome =
        'lost' in result
          ? { kind: 'lost', reason: result.lost }
          : 'failed' in result
            ? { kind: 'unrunnable', reason: result.failed }
            : { kind: 'exited', exitCode: result.exitCode };
      const git =
        'git' in plan && plan.git && result.git ? gitStatus(plan.git.branch, result.git) : undefined;
      return { outcome: attempt.stopping ?? ended, tail: result.tail, ...(git ? { git } : {}) };
    } finally {
      clearTimeout(timer);
      clearInterval(flush);
    }
  }

  /** Stops an attempt; its outcome is reported. */
  private stop(attempt: Attempt, outcome: Outcome): void {
    if (attempt.stopping || attempt.abandoned) return;
    attempt.stopping = outcome;
    attempt.process?.stop(outcome.kind);
  }

  /** Stops an attempt without reporting it: the item is not this worker's any more. */
  private abandon(key: string): void {
    const attempt = this.attempts.get(key);
    if (!attempt || attempt.abandoned) return;
    attempt.abandoned = true;
    // A fenced worker that renews again must be able to report the item as lost.
    this.startedHere.delete(`${attempt.uid}#${attempt.number}`);
    attempt.process?.stop('abandoned');
  }

  /** Reports an outcome for an item this process is not running. */
  private async conclude(item: LiveWorkItem, outcome: Outcome): Promise<void> {
    const attempt: Attempt = {
      key: itemKey(item),
      uid: item.metadata.uid,
      number: item.status?.attempts ?? 0,
      item,
    };
    this.remember(`${attempt.uid}#${attempt.number}`);
    await this.write(attempt, (current) => afterAttempt(current, outcome, new Date())).catch((err) =>
      this.deps.log.error({ err, item: attempt.key }, 'could not report the item'),
    );
  }

  /**
   * A fenced status write: lands only while the item names this worker and this attempt.
   * Conflicts re-read and retry; other errors retry with backoff while the heartbeat holds.
   */
  private async write(
    attempt: Attempt,
    make: (item: LiveWorkItem) => StatusPatch,
    tries = 30,
  ): Promise<boolean> {
    let item = attempt.item;
    let delay = 200;
    for (let i = 0; i < tries; i++) {
      const holds =
        item.metadata.uid === attempt.uid &&
        item.status?.worker === this.deps.config.name &&
        (item.status?.attempts ?? 0) === attempt.number;
      if (!holds) {
        this.abandon(attempt.key);
        return false;
      }
      try {
        attempt.item = await patchStatus(this.deps.client, item, make(item), WORKER_FIELD_MANAGER);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        if (!isConflict(err)) {
          if (!this.heartbeat.healthy) return false; // the operator will count the attempt as lost
          this.deps.log.warn({ err: String(err), item: attempt.key }, 'status write failed; retrying');
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5000);
        }
        const fresh = await this.deps.client
          .get(WORK_ITEMS, item.metadata.namespace, item.metadata.name)
          .then(parseWorkItem, (e) => (isNotFound(e) ? undefined : item));
        if (!fresh) return false;
        item = fresh;
      }
    }
    return false;
  }

  /** The plan's command, run in the item's Pod once that is Ready. */
  private inPod(
    item: LiveWorkItem,
    podName: string,
    plan: CommandPlan,
    onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  ): RunningProcess<InPodResult> {
    const { client, config } = this.deps;
    const namespace = item.metadata.namespace;
    const reader = client.withTimeout(POD_READ_TIMEOUT_MS);
    const target = { namespace, pod: podName, container: WORKSPACE_CONTAINER };
    return runInPod({
      pod: `${namespace}/${podName}`,
      // `_` cannot be in a name: namespace_pod is unique.
      steps: runnerSteps(plan, `${namespace}_${podName}`),
      getPod: () =>
        reader.get<Pod>(PODS, namespace, podName).catch((err) => {
          if (isNotFound(err)) return undefined;
          throw err;
        }),
      exec: (command, options) =>
        execInPod(client.config, target, command, { ...options, graceSeconds: config.killGraceSeconds }),
      waitMs: config.runnerWaitSeconds * 1000,
      tailBytes: OUTPUT_TAIL_BYTES,
      onLine,
    });
  }

  /** A Woodpecker client with the token read now (a rotated token is picked up). */
  private async woodpecker(): Promise<WoodpeckerClient> {
    const { url, tokenFile } = this.deps.config.ci;
    if (!url) throw new NotConfiguredError('the worker has no --woodpecker-url');
    if (!tokenFile) throw new NotConfiguredError('the worker has no --woodpecker-token-file');
    const token = (await readFile(tokenFile, 'utf8')).trim();
    if (!token) throw new Error(`the Woodpecker token file ${tokenFile} is empty`);
    return woodpeckerClient({ url, token });
  }

  private remember(id: string): void {
    this.startedHere.add(id);
    const oldest = this.startedHere.size > 10_000 ? this.startedHere.values().next().value : undefined;
    if (oldest !== undefined) this.startedHere.delete(oldest);
  }
}

type GitStatus = NonNullable<StatusPatch['git']>;

/** What status says of the repository after an attempt (the pull request is the operator's to add). */
function gitStatus(branch: string, git: GitOutcome): GitStatus {
  return {
    baseBranch: git.start.baseBranch,
    branch,
    ...(git.result ? { changed: git.result.changed } : {}),
    ...(git.result?.changed ? { commit: git.result.commit } : {}),
  };
}
