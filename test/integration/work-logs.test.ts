// GET /work/{id}/logs relays a running item's output live: a `rdev worker` process serving its
// output on a loopback health address (advertised on its Lease) with a token shared with the
// shim, a shell item printing a line a second with the time it printed it (kwok runs exec'd
// commands on this machine: the same clock), and the shim's SSE stream read here. Each line
// arrives within a second of being printed (status.outputTail, flushed every 5 s, could not do
// that), and a client reconnecting with Last-Event-ID gets the rest without a repeat or a gap.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECTS } from '../../operator/src/api/resources.ts';
import { KubeClient } from '../../operator/src/runtime/client.ts';
import { LEASES } from '../../operator/src/runtime/resources.ts';
import { OUTPUT_URL_ANNOTATION } from '../../operator/src/shared/live-output.ts';
import { workerLeaseName } from '../../operator/src/shared/worker-names.ts';
import { PROJECT_SPEC } from '../support/manifests.ts';
import { createAgentSecret, eventually, kubeConfig } from './support/kube.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { rdevKind } from './support/rdev-objects.ts';
import { readEvents, type SseEvent, useShim } from './support/shim.ts';
import { spawnWorker } from './support/worker.ts';

const tokenFile = join(mkdtempSync(join(tmpdir(), 'rdev-output-token-')), 'token');
writeFileSync(tokenFile, `${Math.random().toString(36).slice(2)}\n`, { mode: 0o600 });

const ns = useOperatorNamespace('rdev-work-logs', (n) => [`--worker-namespace=${n}`]);
const shim = useShim(() => ns.name, { workerOutputTokenFile: tokenFile });
const client = new KubeClient(kubeConfig());
const WORKER = 'logs-worker';

/** Five lines, a second apart, each with the time (ms) it was printed. */
const FIVE_LINES = 'for i in 1 2 3 4 5; do echo "line-$i $(date +%s%3N)"; sleep 1; done';

beforeAll(async () => {
  await createAgentSecret(ns.name);
  spawnWorker(ns.name, WORKER, ['--health-addr=127.0.0.1:0', `--output-token-file=${tokenFile}`]);
  await rdevKind(client, PROJECTS, ns).create('shop', PROJECT_SPEC);
  // The worker advertises its output endpoint on its Lease.
  await eventually(async () => {
    const lease = await client.get(LEASES, ns.name, workerLeaseName(WORKER)).catch(() => undefined);
    return lease?.metadata.annotations?.[OUTPUT_URL_ANNOTATION]?.startsWith('http://127.0.0.1:');
  });
});

async function createItem(): Promise<string> {
  const created = await shim.call<{ name: string }>('POST', '/projects/shop/work', {
    body: { spec: { type: 'shell', command: ['sh', '-c', FIVE_LINES] } },
  });
  expect(created.status).toBe(201);
  return created.body.data?.name as string;
}

/** Opens the item's log stream (once the shim's cache holds the item). */
const openLogs = (name: string, lastEventId?: string) =>
  eventually(async () => {
    const response = await fetch(`${shim.url}/work/${name}/logs`, {
      headers: {
        authorization: `Bearer ${shim.adminKey}`,
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
    });
    if (response.status === 200) return response;
    await response.body?.cancel();
    return undefined;
  });

interface Line {
  n: number;
  printedAt: number;
  receivedAt: number;
  id?: string;
}

/** Reads events, noting when each output line arrived, until `stop` says so or the stream ends. */
async function readLines(response: Response, stop: (lines: Line[]) => boolean = () => false) {
  const lines: Line[] = [];
  let seen = 0;
  const events = await readEvents(response, (events: SseEvent[]) => {
    const now = Date.now();
    for (const e of events.slice(seen)) {
      if (e.event !== 'output') continue;
      for (const text of (e.data as { data: string }).data.split('\n').filter(Boolean)) {
        const match = /^line-(\d) (\d+)$/.exec(text);
        if (!match) throw new Error(`unexpected output: ${text}`);
        lines.push({ n: Number(match[1]), printedAt: Number(match[2]), receivedAt: now, id: e.id });
      }
    }
    seen = events.length;
    return stop(lines);
  });
  return { events, lines };
}

describe('live WorkItem logs', () => {
  it('shows each line over SSE within a second of it being printed', async () => {
    const name = await createItem();
    const { events, lines } = await readLines(await openLogs(name));
    expect(lines.map((l) => l.n)).toEqual([1, 2, 3, 4, 5]);
    expect(lines.map((l) => l.id)).toEqual(['1:1', '1:2', '1:3', '1:4', '1:5']);
    for (const line of lines) {
      const delay = line.receivedAt - line.printedAt;
      expect(delay, `line-${line.n} arrived ${delay} ms after it was printed`).toBeLessThan(1000);
    }
    expect(events.at(-1)).toEqual({ event: 'end', data: { phase: 'Succeeded', exitCode: 0 } });
    expect(
      events.filter((e) => e.event === 'phase').map((e) => (e.data as { phase: string }).phase),
    ).toContain('Running');
  });

  it('resumes after Last-Event-ID without a repeat or a gap', async () => {
    const name = await createItem();
    const first = await readLines(await openLogs(name), (lines) => lines.length >= 2);
    expect(first.lines.map((l) => l.n)).toEqual([1, 2]);
    const lastId = first.lines.at(-1)?.id;
    expect(lastId).toBe('1:2');
    // Reconnect while the command still runs: the rest, live, then the end.
    const rest = await readLines(await openLogs(name, lastId));
    expect(rest.lines.map((l) => l.n)).toEqual([3, 4, 5]);
    expect(rest.lines.map((l) => l.id)).toEqual(['1:3', '1:4', '1:5']);
    expect(rest.events.at(-1)).toEqual({ event: 'end', data: { phase: 'Succeeded', exitCode: 0 } });
    // The status keeps the summary.
    const done = await shim.call<{ status: { outputTail?: string } }>('GET', `/work/${name}`);
    expect(done.body.data?.status.outputTail).toMatch(/line-1 .*line-5 \d+\n$/s);
  });
});
