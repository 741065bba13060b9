// GET /work/{id}/logs: a WorkItem's output as server-sent events. While an attempt runs on a
// worker that serves live output (its heartbeat Lease names the address; the protocol is in
// shared/live-output.ts), each line is relayed as it is printed: `output` {data, stream} with
// id `<attempt>:<seq>`, so a client reconnecting with Last-Event-ID resumes after the last line
// it got. Otherwise (no token configured, no address, the worker unreachable, an item already
// finished when asked) the output follows status.outputTail as the worker writes it: `output`
// {data} without an id. `phase` {phase} on each phase change; `end` {phase, exitCode} once the
// item is finished (phase Deleted when it was deleted), then the stream closes.
import type { Logger } from 'pino';
import { errorMessage } from '../../../operator/src/shared/fields.ts';
import {
  FrameReader,
  OUTPUT_CONTENT_TYPE,
  OUTPUT_URL_ANNOTATION,
  type OutputLine,
  outputBaseURL,
  outputEventId,
  outputRequestURL,
  readOutputToken,
} from '../../../operator/src/shared/live-output.ts';
import { isFinished, type LiveWorkItem } from '../../../operator/src/shared/work-phases.ts';
import { workerLeaseName } from '../../../operator/src/shared/worker-names.ts';
import type { EventStream } from '../http/sse.ts';
import type { ShimContext } from './context.ts';
import { appendedText, unsentText } from './output.ts';

/** Until the worker answers. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Without a byte from the worker (it sends a keep-alive every 10 s), the connection is dead. */
const IDLE_TIMEOUT_MS = 30_000;
/** Reconnections in a row without a new line before the live stream is given up. */
const RECONNECTS = 3;
/** How long a finished item's end waits for the last lines still on their way from the worker. */
const FINISH_WAIT_MS = 5_000;
/** The end of what was sent live that is kept, to find the place in the tail if the stream breaks. */
const SENT_KEPT_CHARS = 1024;

type LiveEnd = 'ended' | 'failed';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

interface LiveOptions {
  /** uid#attempt of the attempt read. */
  key: string;
  url: (after: number) => URL;
  tokenFile: string;
  after: number;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  log: Logger;
  onLine: (line: OutputLine) => void;
}

/** One attempt's lines, read from its worker; a broken connection is resumed after the last line. */
class LiveReader {
  readonly key: string;
  /** The last line relayed. */
  lastSeq: number;
  /** The end of the text relayed. */
  sent = '';
  /** Resolves once the attempt ended (every line relayed) or the worker cannot be read. */
  readonly done: Promise<LiveEnd>;
  private readonly stopped = new AbortController();

  constructor(options: LiveOptions) {
    this.key = options.key;
    this.lastSeq = options.after;
    this.done = this.run(options);
  }

  stop(): void {
    this.stopped.abort(new Error('stopped'));
  }

  private async run(options: LiveOptions): Promise<LiveEnd> {
    const signal = AbortSignal.any([options.signal, this.stopped.signal]);
    let failures = 0;
    let connected = false;
    while (!signal.aborted) {
      const before = this.lastSeq;
      const outcome = await this.connect(options, signal, () => {
        connected = true;
      }).catch((err: unknown) => {
        options.log.debug({ err: errorMessage(err) }, 'live output connection broke');
        return 'broken' as const;
      });
      if (outcome !== 'broken') return outcome;
      failures = this.lastSeq > before ? 1 : failures + 1;
      // A worker never reached is given one more try: the tail is the quicker way then.
      if (failures > (connected ? RECONNECTS : 1)) break;
      await sleep(200 * 2 ** failures, signal);
    }
    return 'failed';
  }

  /** One connection: ended at the end frame, failed when the worker refuses, broken when it breaks off. */
  private async connect(
    options: LiveOptions,
    signal: AbortSignal,
    onConnected: () => void,
  ): Promise<LiveEnd | 'broken'> {
    let token: string;
    try {
      token = await readOutputToken(options.tokenFile);
    } catch (err) {
      options.log.warn({ err: errorMessage(err) }, 'the worker output token cannot be read');
      return 'failed';
    }
    const connection = new AbortController();
    const abort = () => connection.abort(new Error('live output connection timed out or stopped'));
    signal.addEventListener('abort', abort, { once: true });
    let timer = setTimeout(abort, CONNECT_TIMEOUT_MS);
    try {
      const response = await fetch(options.url(this.lastSeq), {
        headers: { authorization: `Bearer ${token}`, accept: OUTPUT_CONTENT_TYPE },
        redirect: 'error',
        signal: connection.signal,
      });
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel();
        options.log.debug({ status: response.status }, 'the worker does not serve this output');
        return 'failed';
      }
      onConnected();
      const frames = new FrameReader();
      const reader = response.body.getReader();
      for (;;) {
        clearTimeout(timer);
        timer = setTimeout(abort, IDLE_TIMEOUT_MS);
        const { value, done } = await reader.read();
        if (done) return 'broken';
        for (const frame of frames.push(value)) {
          if (frame.type === 'end') {
            await reader.cancel().catch(() => undefined);
            return 'ended';
          }
          if (frame.type === 'line' && frame.seq > this.lastSeq) {
            this.lastSeq = frame.seq;
            this.sent = `${this.sent}${frame.text}\n`.slice(-SENT_KEPT_CHARS);
            options.onLine(frame);
          }
        }
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    }
  }
}

export interface WorkLogsOptions {
  ctx: ShimContext;
  stream: EventStream;
  namespace: string;
  name: string;
  /** From Last-Event-ID: the line to resume after. */
  resume?: { attempt: number; seq: number };
  log: Logger;
}

/**
 * How each attempt's output is streamed, decided once it runs: live from its worker, done (live,
 * and every line was relayed), or from the output tail.
 */
type Mode = 'live' | 'done' | 'tail';

/** The stream of one /logs request, fed each state of the item. */
export class WorkLogs {
  private readonly options: WorkLogsOptions;
  private readonly modes = new Map<string, Mode>();
  private live?: LiveReader;
  private phase?: string;
  private uid?: string;
  /** The last output tail seen: what the next one is compared with. */
  private tail = '';
  /** After a live stream of attempt `key` broke off: the end of what it relayed. */
  private resync?: { key: string; sent: string };
  /** The item finished; its end waits for the live stream to deliver its last lines. */
  private finishing = false;

  constructor(options: WorkLogsOptions) {
    this.options = options;
  }

  /** Streams what a state of the item adds: output, phase, and the end once it is finished. */
  show(item: LiveWorkItem, deleted: boolean): void {
    if (this.finishing || this.options.stream.closed) return;
    const attempt = item.status?.attempts ?? 0;
    const key = `${item.metadata.uid}#${attempt}`;
    const finished = deleted || isFinished(item);
    // A new attempt (or a new item of the name): its output starts over.
    if (this.live && this.live.key !== key) {
      this.live.stop();
      this.live = undefined;
    }
    let mode = this.modes.get(key);
    if (!mode && (finished || item.status?.phase === 'Running')) {
      this.live = this.openLive(item, key, attempt, finished && !deleted);
      mode = this.live ? 'live' : 'tail';
      this.modes.set(key, mode);
    }
    if (mode === 'tail' || mode === undefined) {
      this.showTail(item, key, finished);
      this.sendPhase(item);
      if (finished) this.end(item, deleted);
      return;
    }
    // Lines come from the worker; the tail is only kept up to date.
    this.uid = item.metadata.uid;
    this.tail = item.status?.outputTail ?? '';
    if (!finished) {
      this.sendPhase(item);
      return;
    }
    const live = this.live;
    if (mode === 'done' || !live) {
      this.end(item, deleted);
      return;
    }
    this.finishing = true;
    void Promise.race([live.done, sleep(FINISH_WAIT_MS)]).then((result) => {
      this.finishing = false;
      if (this.live === live) this.live = undefined;
      if (result === 'ended') {
        this.modes.set(key, 'done');
      } else {
        live.stop();
        this.modes.set(key, 'tail');
        this.resync = { key, sent: live.sent };
      }
      this.show(item, deleted);
    });
  }

  /** A reader of the attempt's lines from its worker, when one can serve them. */
  private openLive(
    item: LiveWorkItem,
    key: string,
    attempt: number,
    finished: boolean,
  ): LiveReader | undefined {
    const { ctx, resume } = this.options;
    const tokenFile = ctx.config.workerOutputTokenFile;
    const worker = item.status?.worker;
    if (!tokenFile || !worker || !ctx.pool.isAlive(worker)) return undefined;
    const resuming = resume?.attempt === attempt;
    // A finished item's output is its tail, unless the client resumes within its last attempt
    // (a client reconnecting after the end): its worker may still hold the lines.
    if (finished && !resuming) return undefined;
    const lease = ctx.cache.leases.store.get(`${ctx.config.workerNamespace}/${workerLeaseName(worker)}`);
    if (lease?.spec?.holderIdentity !== worker) return undefined;
    const base = outputBaseURL(lease.metadata.annotations?.[OUTPUT_URL_ANNOTATION]);
    if (!base) return undefined;
    const target = { namespace: this.options.namespace, name: this.options.name };
    const log = this.options.log.child({ worker, attempt });
    const live = new LiveReader({
      key,
      url: (after) => outputRequestURL(base, target, attempt, after),
      tokenFile,
      after: resuming ? resume.seq : 0,
      signal: this.options.stream.signal,
      log,
      onLine: (line) =>
        this.options.stream.send(
          'output',
          { data: `${line.text}\n`, stream: line.stream },
          outputEventId(attempt, line.seq),
        ),
    });
    void live.done.then((result) => {
      // A finishing stream handles the result itself; a stopped one is of no interest.
      if (this.live !== live || this.finishing) return;
      this.live = undefined;
      if (result === 'ended') {
        this.modes.set(key, 'done');
        return;
      }
      log.info('the live output broke off: following the output tail');
      this.modes.set(key, 'tail');
      this.resync = { key, sent: live.sent };
      const current = ctx.cache.kinds.WorkItem.store.get(`${this.options.namespace}/${this.options.name}`);
      if (current) this.show(current, false);
    });
    return live;
  }

  private showTail(item: LiveWorkItem, key: string, final: boolean): void {
    const next = item.status?.outputTail ?? '';
    let added: string | undefined;
    if (this.resync?.key === key) {
      added = unsentText(this.resync.sent, next, final);
      if (added === undefined) return; // the tail has not caught up with what was sent
      this.resync = undefined;
    } else {
      this.resync = undefined;
      // Another attempt's tail (shorter) or another item's: start over.
      added =
        item.metadata.uid === this.uid && next.length >= this.tail.length
          ? appendedText(this.tail, next)
          : next;
    }
    this.uid = item.metadata.uid;
    this.tail = next;
    if (added) this.options.stream.send('output', { data: added });
  }

  private sendPhase(item: LiveWorkItem): void {
    const now = item.status?.phase;
    if (now && now !== this.phase) this.options.stream.send('phase', { phase: now });
    this.phase = now;
  }

  private end(item: LiveWorkItem, deleted: boolean): void {
    this.sendPhase(item);
    this.live?.stop();
    this.options.stream.send('end', {
      phase: deleted ? 'Deleted' : item.status?.phase,
      exitCode: item.status?.exitCode,
    });
    this.options.stream.end();
  }
}
