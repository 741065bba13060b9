import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, KubeClient } from '../../operator/src/runtime/client.ts';

const configMaps = { group: '', version: 'v1', plural: 'configmaps', namespaced: true, kind: 'ConfigMap' };

/** An API server that throttles the first `throttled` requests, then answers with a ConfigMap. */
async function apiServer(throttled: number, retryAfter = '0') {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    if (seen.length <= throttled) {
      res.writeHead(429, { 'retry-after': retryAfter });
      res.end(
        JSON.stringify({
          kind: 'Status',
          code: 429,
          reason: 'TooManyRequests',
          message: 'storage is (re)initializing',
          details: { retryAfterSeconds: 1 },
        }),
      );
      return;
    }
    res.end(JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { server, kc, seen };
}

describe('KubeClient', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('sends a throttled (429) request again after its Retry-After', async () => {
    const api = await apiServer(2);
    server = api.server;
    const obj = await new KubeClient(api.kc).get(configMaps, 'n', 'c');
    expect(obj.metadata?.name).toBe('c');
    expect(api.seen).toEqual(Array(3).fill('GET /api/v1/namespaces/n/configmaps/c'));
  });

  it('gives up with the 429 when throttling outlasts the request budget', async () => {
    const api = await apiServer(100, '1');
    server = api.server;
    const err = await new KubeClient(api.kc, { timeoutMs: 500 }).get(configMaps, 'n', 'c').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 429, reason: 'TooManyRequests' });
    expect(api.seen).toHaveLength(1);
  });

  it('stops after ten throttled attempts', async () => {
    const api = await apiServer(100);
    server = api.server;
    const err = await new KubeClient(api.kc).list(configMaps, 'n').catch((e) => e);
    expect(err).toMatchObject({ code: 429 });
    expect(api.seen).toHaveLength(10);
  });
});
