// The shim's /work/{id}/logs stream without a cluster: states of an item fed by hand, the worker's
// /output endpoint served on a loopback port. Lines are relayed live with resumable ids, the end
// waits for the last lines, and without a usable worker the output tail is followed as before.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStream } from '../../api-shim/src/http/sse.ts';
import type { ShimContext } from '../../api-shim/src/routes/context.ts';
import { WorkLogs } from '../../api-shim/src/routes/work-logs.ts';
import { OUTPUT_URL_ANNOTATION } from '../../operator/src/shared/live-output.ts';
import type { LiveWorkItem } from '../../operator/src/shared/work-phases.ts';
import { workerLeaseName } from '../../operator/src/shared/worker-names.ts';
import { LiveOutput } from '../../operator/src/worker/live-output.ts';
import { serveOutput } from '../../operator/src/worker/output-server.ts';

const NS = 'team';
const WORKER = 'w-0';
const log = pino({ level: 'silent' });
const live = new LiveOutput();
let server: Server;
let url = '';
let tokenFile = '';

beforeAll(async () => {
  tokenFile = join(await mkdtemp(join(tmpdir(), 'rdev-logs-')), 'token');
  await writeFile(tokenFile, 'shared-token');
  server = createServer((req, res) => {
    if (!serveOutput({ live, tokenFile, log }, req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

interface Sent {
  event: string;
  data: Record<string, unknown>;
  id?: string;
}

/** An EventStream that records what is sent. */
function recorder() {
  const events: Sent[] = [];
  const abort = new AbortController();
  let ended = false;
  const stream = {
    signal: abort.signal,
    get closed() {
      return ended || abort.signal.aborted;
    },
    send(event: string, data: Record<string, unknown>, id?: string) {
      if (!ended) events.push(id === undefined ? { event, data } : { event, data, id });
    },
    end() {
      ended = true;
    },
  };
  return { events, abort, stream: stream as unknown as EventStream, isEnded: () => ended };
}

/** A context with the caches the route reads: the item, the worker's Lease, the pool. */
function context(options: { outputURL?: string; token?: boolean } = {}) {
  const items = new Map<string, LiveWorkItem>();
  const leases = new Map([
    [
      `rdev-system/${workerLeaseName(WORKER)}`,
      {
        metadata: {
          name: workerLeaseName(WORKER),
          namespace: 'rdev-system',
          annotations: options.outputURL === '' ? {} : { [OUTPUT_URL_ANNOTATION]: options.outputURL ?? url },
        },
        spec: { holderIdentity: WORKER },
      },
    ],
  ]);
  const ctx = {
    config: {
      namespace: 'rdev-system',
      defaultNamespace: NS,
      workerNamespace: 'rdev-system',
      workerOutputTokenFile: options.token === false ? undefined : tokenFile,
    },
    pool: { isAlive: (name: string) => name === WORKER },
    cache: { leases: { store: leases }, kinds: { WorkItem: { store: items } } },
  } as unknown as ShimContext;
  return { ctx, items };
}

let counter = 0;
function itemState(
  name: string,
  status: Partial<NonNullable<LiveWorkItem['status']>>,
  uid = `uid-${name}`,
): LiveWorkItem {
  return {
    apiVersion: 'rdev.dev/v1alpha1',
    kind: 'WorkItem',
    metadata: { name, namespace: NS, uid },
    spec: { projectRef: { name: 'shop' }, type: 'shell', command: ['true'] },
    status: { worker: WORKER, attempts: 1, ...status },
  } as unknown as LiveWorkItem;
}

const until = async (check: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const outputs = (events: Sent[]) => events.filter((e) => e.event === 'output');
const joined = (events: Sent[]) =>
  outputs(events)
    .map((e) => e.data.data)
    .join('');

describe('GET /work/{id}/logs', () => {
  it('relays lines live as they are printed, with <attempt>:<seq> ids, then the end', async () => {
    const name = `live-${++counter}`;
    const out = live.open(NS, name, 1);
    out.append('one', 'stdout');
    const { ctx, items } = context();
    const rec = recorder();
    const logs = new WorkLogs({ ctx, stream: rec.stream, namespace: NS, name, log });
    const running = itemState(name, { phase: 'Running' });
    items.set(`${NS}/${name}`, running);
    logs.show(running, false);
    await until(() => outputs(rec.events).length === 1);
    out.append('two', 'stderr');
    await until(() => outputs(rec.events).length === 2);
    // The tail, written meanwhile, is not sent again.
    logs.show(itemState(name, { phase: 'Running', outputTail: 'one\ntwo\n' }), false);
    out.append('three', 'stdout');
    out.end();
    logs.show(itemState(name, { phase: 'Succeeded', exitCode: 0, outputTail: 'one\ntwo\nthree\n' }), false);
    await until(rec.isEnded);
    expect(rec.events).toEqual([
      { event: 'phase', data: { phase: 'Running' } },
      { event: 'output', data: { data: 'one\n', stream: 'stdout' }, id: '1:1' },
      { event: 'output', data: { data: 'two\n', stream: 'stderr' }, id: '1:2' },
      { event: 'output', data: { data: 'three\n', stream: 'stdout' }, id: '1:3' },
      { event: 'phase', data: { phase: 'Succeeded' } },
      { event: 'end', data: { phase: 'Succeeded', exitCode: 0 } },
    ]);
  });

  it('holds the end until the last lines arrive from the worker', async () => {
    const name = `late-${++counter}`;
    const out = live.open(NS, name, 1);
    const { ctx } = context();
    const rec = recorder();
    const logs = new WorkLogs({ ctx, stream: rec.stream, namespace: NS, name, log });
    logs.show(itemState(name, { phase: 'Running' }), false);
    // Status says Succeeded before the worker's stream delivered the last line.
    await new Promise((r) => setTimeout(r, 50));
    logs.show(itemState(name, { phase: 'Succeeded', exitCode: 0, outputTail: 'last\n' }), false);
    out.append('last', 'stdout');
    out.end();
    await until(rec.isEnded);
    expect(rec.events.map((e) => e.event)).toEqual(['phase', 'output', 'phase', 'end']);
    expect(joined(rec.events)).toBe('last\n');
  });

  it('resumes after Last-Event-ID: no repeat, no gap', async () => {
    const name = `resume-${++counter}`;
    const out = live.open(NS, name, 2);
    for (const l of ['a', 'b', 'c']) out.append(l, 'stdout');
    const { ctx } = context();
    const rec = recorder();
    const logs = new WorkLogs({
      ctx,
      stream: rec.stream,
      namespace: NS,
      name,
      resume: { attempt: 2, seq: 2 },
      log,
    });
    logs.show(itemState(name, { phase: 'Running', attempts: 2 }), false);
    out.append('d', 'stdout');
    await until(() => outputs(rec.events).length === 2);
    expect(outputs(rec.events).map((e) => [e.id, e.data.data])).toEqual([
      ['2:3', 'c\n'],
      ['2:4', 'd\n'],
    ]);
    rec.abort.abort();
  });

  it('resumes a client reconnecting just after the end from what the worker still holds', async () => {
    const name = `after-end-${++counter}`;
    const out = live.open(NS, name, 1);
    for (const l of ['a', 'b']) out.append(l, 'stdout');
    out.end();
    const { ctx } = context();
    const rec = recorder();
    const logs = new WorkLogs({
      ctx,
      stream: rec.stream,
      namespace: NS,
      name,
      resume: { attempt: 1, seq: 2 },
      log,
    });
    logs.show(itemState(name, { phase: 'Succeeded', exitCode: 0, outputTail: 'a\nb\n' }), false);
    await until(rec.isEnded);
    expect(rec.events).toEqual([
      { event: 'phase', data: { phase: 'Succeeded' } },
      { event: 'end', data: { phase: 'Succeeded', exitCode: 0 } },
    ]);
  });

  it('follows the output tail when the worker serves no live output, as before', async () => {
    for (const ctx of [context({ outputURL: '' }).ctx, context({ token: false }).ctx]) {
      const name = `tail-${++counter}`;
      const rec = recorder();
      const logs = new WorkLogs({ ctx, stream: rec.stream, namespace: NS, name, log });
      logs.show(itemState(name, { phase: 'Scheduled' }), false);
      logs.show(itemState(name, { phase: 'Running', outputTail: 'a\n' }), false);
      logs.show(itemState(name, { phase: 'Running', outputTail: 'a\nb\n' }), false);
      logs.show(itemState(name, { phase: 'Failed', exitCode: 1, outputTail: 'a\nb\nc\n' }), false);
      expect(rec.events).toEqual([
        { event: 'phase', data: { phase: 'Scheduled' } },
        { event: 'output', data: { data: 'a\n' } },
        { event: 'phase', data: { phase: 'Running' } },
        { event: 'output', data: { data: 'b\n' } },
        { event: 'output', data: { data: 'c\n' } },
        { event: 'phase', data: { phase: 'Failed' } },
        { event: 'end', data: { phase: 'Failed', exitCode: 1 } },
      ]);
    }
  });

  it('falls back to the tail when the worker does not hold the attempt, or cannot be reached', async () => {
    // A closed port: connection refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedURL = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    for (const outputURL of [url, closedURL]) {
      const name = `gone-${++counter}`;
      const { ctx, items } = context({ outputURL });
      const rec = recorder();
      const logs = new WorkLogs({ ctx, stream: rec.stream, namespace: NS, name, log });
      const running = itemState(name, { phase: 'Running', outputTail: 'x\n' });
      items.set(`${NS}/${name}`, running);
      logs.show(running, false);
      await until(() => outputs(rec.events).length === 1, 10_000);
      expect(rec.events).toEqual([
        { event: 'phase', data: { phase: 'Running' } },
        { event: 'output', data: { data: 'x\n' } },
      ]);
      logs.show(itemState(name, { phase: 'Succeeded', exitCode: 0, outputTail: 'x\ny\n' }), false);
      expect(joined(rec.events)).toBe('x\ny\n');
      expect(rec.isEnded()).toBe(true);
    }
  }, 20_000);

  it('sends a finished item its tail once, without asking the worker', async () => {
    const name = `done-${++counter}`;
    const { ctx } = context({ outputURL: 'http://192.0.2.1:9' });
    const rec = recorder();
    const logs = new WorkLogs({ ctx, stream: rec.stream, namespace: NS, name, log });
    logs.show(itemState(name, { phase: 'Succeeded', exitCode: 0, outputTail: 'all\n' }), false);
    expect(rec.events).toEqual([
      { event: 'output', data: { data: 'all\n' } },
      { event: 'phase', data: { phase: 'Succeeded' } },
      { event: 'end', data: { phase: 'Succeeded', exitCode: 0 } },
    ]);
  });

  it('starts over for a new attempt', async () => {
    const name = `retry-${++counter}`;
    const first = live.open(NS, name, 1);
    const { ctx } = context();
    const rec = recorder();
    const logs = new WorkLogs({ ctx, stream: rec.stream, namespace: NS, name, log });
    logs.show(itemState(name, { phase: 'Running' }), false);
    first.append('try 1', 'stdout');
    await until(() => outputs(rec.events).length === 1);
    first.end();
    logs.show(itemState(name, { phase: 'Queued', exitCode: 1, outputTail: 'try 1\n' }), false);
    const second = live.open(NS, name, 2);
    logs.show(itemState(name, { phase: 'Scheduled', attempts: 2, outputTail: 'try 1\n' }), false);
    logs.show(itemState(name, { phase: 'Running', attempts: 2 }), false);
    second.append('try 2', 'stdout');
    second.end();
    await until(() => outputs(rec.events).length === 2);
    logs.show(
      itemState(name, { phase: 'Succeeded', attempts: 2, exitCode: 0, outputTail: 'try 2\n' }),
      false,
    );
    await until(rec.isEnded);
    expect(outputs(rec.events).map((e) => [e.id, e.data.data])).toEqual([
      ['1:1', 'try 1\n'],
      ['2:1', 'try 2\n'],
    ]);
    expect(rec.events.filter((e) => e.event === 'phase').map((e) => e.data.phase)).toEqual([
      'Running',
      'Queued',
      'Scheduled',
      'Running',
      'Succeeded',
    ]);
  });
});
