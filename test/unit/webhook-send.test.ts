// One attempt against a local HTTP server: the headers and signature a receiver checks, URL
// credentials sent as Basic authentication, and how answers and failures are judged.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSED_BLOCKED, WebhookTargets } from '../../operator/src/shared/webhook-targets.ts';
import { type SendOptions, sendOnce as send } from '../../operator/src/webhooks/send.ts';
import { verifySignature } from '../../operator/src/webhooks/signature.ts';

let server: Server;
let base = '';
const received: { url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
let answer = 200;
let hang = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ url: req.url, headers: req.headers, body });
      if (hang) return; // never answers: the attempt's timeout must end it
      res.writeHead(answer, answer === 302 ? { location: 'http://elsewhere.test/' } : {});
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

// The receiver listens on loopback: these tests allow it, as an installation would with
// --webhook-allow-cidrs.
const loopback = new WebhookTargets(['127.0.0.1/32']);
const sendOnce = (url: string, secret: string, o: typeof outgoing, options: SendOptions = {}) =>
  send(url, secret, o, { targets: loopback, ...options });

const outgoing = { id: 'd-1', type: 'workitem.succeeded', body: '{"id":"d-1","type":"workitem.succeeded"}' };

describe('sendOnce', () => {
  it('POSTs the body with the event, delivery, timestamp and a signature that verifies', async () => {
    answer = 204;
    expect(await sendOnce(`${base}/hook?x=1`, 'hmac', outgoing, { now: () => 1_800_000_000 })).toEqual({
      verdict: 'delivered',
      status: 204,
    });
    const got = received.at(-1);
    expect(got?.url).toBe('/hook?x=1');
    expect(got?.body).toBe(outgoing.body);
    expect(got?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-rdev-event': 'workitem.succeeded',
      'x-rdev-delivery': 'd-1',
      'x-rdev-timestamp': '1800000000',
    });
    const signature = got?.headers['x-rdev-signature'] as string;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature('hmac', '1800000000', got?.body ?? '', signature, { now: 1_800_000_010 })).toBe(
      true,
    );
    expect(got?.headers.authorization).toBeUndefined();
  });

  it('sends URL credentials as Basic authentication, not in the URL', async () => {
    answer = 200;
    await sendOnce(`${base.replace('//', '//us%40er:p%3Ass@')}/hook`, 'hmac', outgoing);
    const got = received.at(-1);
    expect(got?.headers.authorization).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
    expect(got?.url).toBe('/hook');
  });

  it('judges answers: 5xx and 429 retry, 4xx and redirects fail', async () => {
    for (const [status, verdict] of [
      [500, 'retry'],
      [429, 'retry'],
      [400, 'failed'],
      [302, 'failed'],
    ] as const) {
      answer = status;
      expect(await sendOnce(`${base}/hook`, 'hmac', outgoing)).toEqual({
        verdict,
        status,
        error: `HTTP ${status}`,
      });
    }
  });

  it('retries network errors and timeouts, without the URL in the error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await sendOnce(`http://user:pw@127.0.0.1:${port}/hook`, 'hmac', outgoing);
    expect(refused.verdict).toBe('retry');
    expect(refused.error).toBe('ECONNREFUSED');
    hang = true;
    try {
      expect(await sendOnce(`${base}/slow`, 'hmac', outgoing, { timeoutMs: 200 })).toEqual({
        verdict: 'retry',
        error: 'timed out after 0.2s',
      });
    } finally {
      hang = false;
    }
  });

  it('refuses blocked addresses before connecting, recording nothing about them', async () => {
    const before = received.length;
    for (const url of [
      `${base}/hook`, // loopback, not allowed here
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1:6443/api',
      'http://[::1]:9/hook',
      'http://localhost:9/hook',
    ]) {
      expect(await send(url, 'hmac', outgoing)).toEqual({ verdict: 'failed', error: REFUSED_BLOCKED });
    }
    // A name that resolves to a blocked address (or to several, one of them blocked).
    const resolve = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    expect(await send('http://mixed.example/hook', 'hmac', outgoing, { resolve })).toEqual({
      verdict: 'failed',
      error: REFUSED_BLOCKED,
    });
    expect(received.length).toBe(before);
  });

  it('connects to the address it checked, keeping the host name (no second lookup)', async () => {
    answer = 200;
    const port = new URL(base).port;
    const lookups: string[] = [];
    const resolve = async (host: string) => {
      lookups.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    // hook.invalid resolves nowhere but through `resolve`: reaching the receiver proves the pin.
    expect(await sendOnce(`http://hook.invalid:${port}/pinned`, 'hmac', outgoing, { resolve })).toEqual({
      verdict: 'delivered',
      status: 200,
    });
    expect(lookups).toEqual(['hook.invalid']);
    expect(received.at(-1)).toMatchObject({ url: '/pinned', headers: { host: `hook.invalid:${port}` } });
  });

  it('does not follow redirects', async () => {
    answer = 302;
    const before = received.length;
    expect(await sendOnce(`${base}/moved`, 'hmac', outgoing)).toEqual({
      verdict: 'failed',
      status: 302,
      error: 'HTTP 302',
    });
    expect(received.length).toBe(before + 1);
  });
});
