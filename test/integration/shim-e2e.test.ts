// The shim end to end, for each kind: a request becomes a CR, the operator (and a worker)
// act on it, and the status comes back through the shim's cache. Streams (exec, work logs,
// events) and webhooks, delivered by the operator, close the loop.

import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../operator/src/webhooks/signature.ts';
import { giteaServer, useGiteaOrg } from './support/gitea.ts';
import { createAgentSecret, createSecret, eventually, uniqueName } from './support/kube.ts';
import { useOperatorNamespace } from './support/operator.ts';
import { attemptsBefore, useReceiver } from './support/receiver.ts';
import { readEvents, useShim } from './support/shim.ts';
import { spawnWorker } from './support/worker.ts';

type Obj = { name: string; status: { phase?: string; [k: string]: unknown }; [k: string]: unknown };

const gitea = giteaServer();
const ns = useOperatorNamespace('rdev-shim-e2e', (n) => [
  `--worker-namespace=${n}`,
  `--shim-namespace=${n}`,
  '--webhook-backoff-seconds=0.2',
  // The receiver below listens on loopback, a range webhooks are otherwise refused.
  '--webhook-allow-cidrs=127.0.0.1/32',
  `--gitea-url=${gitea.url}`,
  `--gitea-secret=${n}/gitea`,
  `--gitea-organization=${org.name}`,
  '--checkout-poll-seconds=1',
]);
const org = useGiteaOrg('rdev-shim');
const shim = useShim(() => ns.name, { webhookAllowCIDRs: ['127.0.0.1/32'] });

// A webhook receiver that fails the first two attempts of each delivery (deliveries for items of
// other tests may arrive meanwhile: each delivery counts its own attempts).
const receiver = useReceiver((request, before) => (attemptsBefore(request, before).length < 2 ? 500 : 200));
const received = receiver.received;

const read = async (path: string) => (await shim.call<Obj>('GET', path)).body.data;
const phaseOf = (path: string, phase: string, timeoutMs = 90_000) =>
  eventually(
    async () => {
      const obj = await read(path);
      return obj?.status.phase === phase ? obj : undefined;
    },
    { timeoutMs },
  );

beforeAll(async () => {
  // Through the shim, a Project may name only the Secrets labelled for it.
  await createAgentSecret(ns.name, 'shop');
  await createSecret(ns.name, 'gitea', { GITEA_TOKEN: gitea.adminToken });
  spawnWorker(ns.name, 'shim-worker', ['--capacity=2', '--output-flush-seconds=0.2']);
});

describe('through the shim', () => {
  it('a Project is created, provisioned by the operator and read back Ready', async () => {
    const created = await shim.call<Obj>('POST', '/projects', {
      body: {
        name: 'shop',
        labels: { team: 'web' },
        spec: { agent: { credentialsSecretRef: { name: 'anthropic' } }, template: { name: 'go-api' } },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      kind: 'Project',
      name: 'shop',
      namespace: ns.name,
      labels: { team: 'web' },
    });
    expect(created.body.data?.annotations).toMatchObject({ 'rdev.dev/created-by-key': 'bootstrap' });
    const ready = await phaseOf('/projects/shop', 'Ready');
    expect(ready.status.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'RepoReady', status: 'True' })]),
    );
    const list = await shim.call<Obj[]>('GET', '/projects');
    expect(list.body.data?.map((p) => p.name)).toEqual(['shop']);
    expect(list.body.meta?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a PATCH changes the Project and is checked first', async () => {
    const patched = await shim.call<Obj>('PATCH', '/projects/shop', {
      body: { spec: { displayName: 'The Shop' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data?.spec).toMatchObject({ displayName: 'The Shop' });
    const bad = await shim.call('PATCH', '/projects/shop', {
      body: { spec: { database: { engine: 'mysql' } } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error?.details)).toContain('body.spec.database.engine');
  });

  it('a WorkItem runs on a worker; its logs stream and the queue and pool show it', async () => {
    const pool = await eventually(async () => {
      const p = (await shim.call<{ workers: number; members: { name: string }[] }>('GET', '/workers/pool'))
        .body.data;
      return p && p.workers >= 1 ? p : undefined;
    });
    expect(pool.members.map((m) => m.name)).toContain('shim-worker');
    const created = await shim.call<Obj>('POST', '/projects/shop/work', {
      body: {
        spec: { type: 'shell', command: ['sh', '-c', 'for i in 1 2 3; do echo step $i; sleep 0.3; done'] },
      },
    });
    expect(created.status).toBe(201);
    const name = created.body.data?.name as string;
    expect(name).toMatch(/^shop-/);
    const logs = await fetch(`${shim.url}/work/${name}/logs`, {
      headers: { authorization: `Bearer ${shim.adminKey}` },
    });
    expect(logs.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(logs);
    const output = events
      .filter((e) => e.event === 'output')
      .map((e) => (e.data as { data: string }).data)
      .join('');
    expect(output).toBe('step 1\nstep 2\nstep 3\n');
    expect(events.at(-1)).toEqual({ event: 'end', data: { phase: 'Succeeded', exitCode: 0 } });
    expect(
      events.filter((e) => e.event === 'phase').map((e) => (e.data as { phase: string }).phase),
    ).toContain('Succeeded');
    const done = await phaseOf(`/work/${name}`, 'Succeeded');
    expect(done.status.exitCode).toBe(0);
    expect((await shim.call<{ waiting: number }>('GET', '/queue')).body.data?.waiting).toBe(0);
  });

  it('a WorkItem waiting for a worker is listed in the queue and can be cancelled', async () => {
    const created = await shim.call<Obj>('POST', '/projects/shop/work', {
      body: { name: 'later', spec: { type: 'shell', command: ['true'], priority: 5 } },
    });
    expect(created.status).toBe(201);
    // It may run at once; either it is in the queue or already bound, and cancelling works until it ends.
    const cancelled = await shim.call<Obj>('POST', '/work/later/cancel');
    expect([200, 409]).toContain(cancelled.status);
    const finished = await eventually(async () => {
      const item = await read('/work/later');
      return ['Cancelled', 'Succeeded'].includes(item?.status.phase ?? '') ? item : undefined;
    });
    if (cancelled.status === 200) expect(finished.spec).toMatchObject({ cancel: true });
    expect((await shim.call('POST', '/work/later/cancel')).status).toBe(409);
  });

  it('a Session becomes Active and runs commands, streaming ordered output and the exit code', async () => {
    const created = await shim.call<Obj>('POST', '/projects/shop/sessions', {
      body: { name: 'dev', spec: { ttl: '1h' } },
    });
    expect(created.status).toBe(201);
    await phaseOf('/sessions/dev', 'Active');
    const exec = async (command: string[], signal?: AbortSignal) =>
      readEvents(
        await fetch(`${shim.url}/sessions/dev/exec`, {
          method: 'POST',
          headers: { authorization: `Bearer ${shim.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ command }),
          signal,
        }),
      );
    const events = await exec([
      'sh',
      '-c',
      'for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done; echo oops >&2; exit 3',
    ]);
    const text = (stream: string) =>
      events
        .filter((e) => e.event === stream)
        .map((e) => (e.data as { data: string }).data)
        .join('');
    expect(text('stdout')).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    expect(text('stderr')).toBe('oops\n');
    expect(events.at(-1)).toEqual({ event: 'exit', data: { exitCode: 3 } });
  });

  it('a client that disconnects stops the command', async () => {
    const marker = join(tmpdir(), `rdev-exec-${uniqueName('m')}`);
    const controller = new AbortController();
    const response = await fetch(`${shim.url}/sessions/dev/exec`, {
      method: 'POST',
      headers: { authorization: `Bearer ${shim.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        command: [
          'sh',
          '-c',
          `i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo $i > ${marker}; echo $i; sleep 0.1; done`,
        ],
      }),
      signal: controller.signal,
    });
    await readEvents(response, (events) => events.filter((e) => e.event === 'stdout').length >= 3);
    controller.abort();
    // The command stops: the counter it writes holds still, well short of the end.
    const settled = await eventually(
      async () => {
        const a = Number(await readFile(marker, 'utf8'));
        await new Promise((r) => setTimeout(r, 1000));
        const b = Number(await readFile(marker, 'utf8'));
        return a === b ? b : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(settled).toBeLessThan(200);
    await rm(marker, { force: true });
  });

  it('exec in a Session that is gone is a 404', async () => {
    await shim.call('POST', '/projects/shop/sessions', {
      body: { name: 'gone', spec: { ttl: '1m', idleTimeout: '1m' } },
    });
    await eventually(() => shim.shim.context.cache.kinds.Session.store.get(`${ns.name}/gone`));
    await shim.call('DELETE', '/sessions/gone');
    await eventually(async () => (await shim.call('GET', '/sessions/gone')).status === 404 || undefined);
    expect((await shim.call('POST', '/sessions/gone/exec', { body: { command: ['true'] } })).status).toBe(
      404,
    );
  });

  it('a Checkout leases the branch, and checkin opens a pull request', async () => {
    const created = await shim.call<Obj>('POST', '/projects/shop/checkouts', {
      body: { name: 'login', spec: { branch: 'feature/login' } },
    });
    expect(created.status).toBe(201);
    const active = await phaseOf('/checkouts/login', 'Active');
    expect(active.status.cloneURL).toContain(gitea.url.replace(/\/$/, '').split('//')[1]);
    const checkin = await shim.call<Obj>('POST', '/checkouts/login/checkin', {
      body: { title: 'Add login' },
    });
    expect(checkin.status).toBe(200);
    const review = await phaseOf('/checkouts/login', 'Review');
    expect(review.status.pullRequest).toMatchObject({ number: expect.any(Number) });
    expect((await shim.call('POST', '/checkouts/login/checkin', { body: { title: 'again' } })).status).toBe(
      409,
    );
  });
});

describe('events', () => {
  it('stream phase transitions, and a reconnect with Last-Event-ID gets what it missed', async () => {
    const controller = new AbortController();
    const stream = await fetch(`${shim.url}/events?kind=WorkItem`, {
      headers: { authorization: `Bearer ${shim.adminKey}` },
      signal: controller.signal,
    });
    const reading = readEvents(stream, (events) => events.some((e) => e.event === 'workitem.succeeded'));
    const created = await shim.call<Obj>('POST', '/projects/shop/work', {
      body: { spec: { type: 'shell', command: ['true'] } },
    });
    const name = created.body.data?.name;
    const events = (await reading).filter((e) => (e.data as { name: string }).name === name);
    const types = events.map((e) => e.event);
    expect(types.at(-1)).toBe('workitem.succeeded');
    expect(types).toContain('workitem.running');
    const ids = events.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    const first = events[0];
    const resumed = await fetch(`${shim.url}/events?kind=WorkItem`, {
      headers: { authorization: `Bearer ${shim.adminKey}`, 'last-event-id': String(first?.id) },
    });
    const replay = await readEvents(resumed, (got) => got.some((e) => e.event === 'workitem.succeeded'));
    expect(replay.filter((e) => (e.data as { name: string }).name === name).map((e) => e.event)).toEqual(
      types.slice(1),
    );

    const stale = await fetch(`${shim.url}/events`, {
      headers: { authorization: `Bearer ${shim.adminKey}`, 'last-event-id': '1' },
    });
    expect((await readEvents(stale, (got) => got.length > 0))[0]?.event).toBe('reset');
  });
});

describe('webhooks', () => {
  it('are delivered by the operator, signed, retried after failures, with the outcome visible', async () => {
    const made = await shim.call<{ id: string; secret: string }>('POST', '/webhooks', {
      body: { url: `${receiver.url}/hook`, events: ['workitem.succeeded'], projects: ['shop'] },
    });
    expect(made.status).toBe(201);
    const { id, secret } = made.body.data as { id: string; secret: string };
    expect(secret.length).toBeGreaterThanOrEqual(16);
    await shim.call('POST', '/projects/shop/work', {
      body: { name: 'hooked', spec: { type: 'shell', command: ['true'] } },
    });
    const hooked = () => received.filter((r) => JSON.parse(r.body).name === 'hooked');
    await eventually(() => hooked().some((r) => r.answered === 200) || undefined);
    const deliveries = hooked();
    expect(deliveries.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(deliveries.map((r) => r.headers['x-rdev-delivery'])).size).toBe(1);
    for (const d of deliveries) {
      expect(
        verifySignature(
          secret,
          d.headers['x-rdev-timestamp'] as string,
          d.body,
          d.headers['x-rdev-signature'] as string,
        ),
      ).toBe(true);
      expect(
        verifySignature(
          'wrong-secret-value',
          d.headers['x-rdev-timestamp'] as string,
          d.body,
          d.headers['x-rdev-signature'] as string,
        ),
      ).toBe(false);
    }
    expect(JSON.parse(deliveries[0]?.body ?? '{}')).toMatchObject({
      type: 'workitem.succeeded',
      project: 'shop',
      phase: 'Succeeded',
    });
    const shown = await eventually(async () => {
      const hook = (
        await shim.call<{ deliveries: { outcome: string; attempts: number }[] }>('GET', `/webhooks/${id}`)
      ).body.data;
      return hook?.deliveries[0]?.outcome === 'delivered' ? hook : undefined;
    });
    expect(shown.deliveries[0]).toMatchObject({ outcome: 'delivered', attempts: 3 });
    expect(JSON.stringify(shown)).not.toContain(secret);
    expect((await shim.call('DELETE', `/webhooks/${id}`)).status).toBe(202);
  });
});
