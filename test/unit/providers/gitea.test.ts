// The Gitea git provider when Gitea cannot answer: unreachable, failing, or too slow. Each is a
// failure the sub-reconciler retries with backoff (not NotConfigured), with a message that says
// which call failed and why, and never the token. The real server is in test/integration.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ExternalResource, reconcileExternal } from '../../../operator/src/providers/external.ts';
import {
  describeRepo,
  type GiteaSettings,
  giteaProvider,
  type RepoIds,
  recordedRepo,
} from '../../../operator/src/providers/git/gitea.ts';
import { GiteaError } from '../../../operator/src/providers/git/gitea-client.ts';
import { NotConfiguredError } from '../../../operator/src/providers/ports.ts';
import { liveProject, signal } from './support.ts';

const TOKEN = 'a5f0c0ffee0123456789abcdef0123456789abcd';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A server answering every request with `answer`; its URL and what it was asked. */
async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    answer(req, res);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  // listening on a TCP port, the address is an AddressInfo (a string only for a pipe)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<string> {
  const { url } = await serve(() => undefined);
  await new Promise((r) => server?.close(r));
  server = undefined;
  return url;
}

const settings = (url: string, timeoutMs = 2_000): GiteaSettings => ({
  organization: 'rdev',
  webhooks: [],
  access: { url, token: TOKEN, timeoutMs },
  render: () => [],
});
const resource = (s: GiteaSettings): ExternalResource<RepoIds> => ({
  name: 'repository',
  condition: 'RepoReady',
  enabled: () => true,
  deletionPolicy: () => 'Delete',
  recorded: recordedRepo,
  rotation: () => ({}),
  describe: describeRepo,
  client: giteaProvider(s),
});
const project = liveProject({ agent: { credentialsSecretRef: { name: 'anthropic' } } });
const ctx = { project, recorded: undefined, signal, rotatePassword: false };

describe('Gitea git provider failures', () => {
  it('is NotConfigured without settings, for every operation', async () => {
    const client = giteaProvider({ ...settings('http://unused'), access: undefined });
    await expect(client.observe(ctx)).rejects.toThrow(NotConfiguredError);
    await expect(client.create(ctx)).rejects.toThrow(/--gitea-url/);
    await expect(client.delete({ fullName: 'rdev/shop' }, ctx)).rejects.toThrow(NotConfiguredError);
    expect(client.ids(project)).toEqual({ fullName: 'rdev/shop' });
  });

  it('reports an unreachable server as a failure to retry, naming the call and the cause', async () => {
    const url = await closedPort();
    const out = await reconcileExternal(resource(settings(url)), project, signal);
    expect(out.condition).toMatchObject({ type: 'RepoReady', status: 'False', reason: 'ProvisioningFailed' });
    expect(out.condition?.message).toMatch(/^Gitea: reading repository rdev\/shop failed: .*ECONNREFUSED/);
    expect(out.condition?.message).not.toContain(TOKEN);
    expect(out.error).toBeInstanceOf(GiteaError);
    expect(out.error).toMatchObject({ status: undefined });
    // The deterministic name is kept, so that a later deletion finds whatever was made.
    expect(out.ids).toEqual({ fullName: 'rdev/shop' });
  });

  it('reports a 5xx with its status and Gitea message, and a proxy page by its status', async () => {
    const json = await serve((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'database is locked', url: 'http://x/api/swagger' }));
    });
    const err = await giteaProvider(settings(json.url))
      .observe(ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GiteaError);
    expect(err).toMatchObject({
      status: 503,
      message: 'Gitea: reading repository rdev/shop failed (HTTP 503): database is locked',
    });
    // The token goes in the Authorization header only, never in a URL.
    expect(json.seen).toEqual([
      { method: 'GET', url: '/api/v1/repos/rdev/shop', authorization: `Bearer ${TOKEN}` },
    ]);

    const html = await serve((_req, res) => {
      res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
    });
    const proxied = await giteaProvider(settings(html.url))
      .observe(ctx)
      .catch((e: unknown) => e);
    expect(proxied).toMatchObject({
      status: 502,
      message: 'Gitea: reading repository rdev/shop failed (HTTP 502): Bad Gateway',
    });
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    const silent = await serve(() => undefined);
    const started = Date.now();
    const err = await giteaProvider(settings(silent.url, 300))
      .create(ctx)
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(GiteaError);
    expect(err).toMatchObject({
      message: expect.stringMatching(/^Gitea: reading repository rdev\/shop failed: .*timeout/i),
    });
    expect(String(err)).not.toContain(TOKEN);
  });

  it('stops when the reconcile is cancelled', async () => {
    const silent = await serve(() => undefined);
    const abort = new AbortController();
    const pending = giteaProvider(settings(silent.url, 60_000)).observe({ ...ctx, signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await expect(pending).rejects.toThrow(GiteaError);
  });
});
