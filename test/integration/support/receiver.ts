// A webhook receiver for a test file: a local HTTP server that records every request and
// answers it with the status the test picks, listening on a free loopback port while the file runs.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it was answered with. */
  answered: number;
}

/** What `answer` sees of a request: its path, headers and body. */
export type Request = Omit<Received, 'answered'>;

/** The requests before `request` that carry the same webhook delivery id: its earlier attempts. */
export const attemptsBefore = (request: Request, before: readonly Received[]) =>
  before.filter((r) => r.headers['x-rdev-delivery'] === request.headers['x-rdev-delivery']);

/** `answer` picks the status of a request, given every request received before it. */
export function useReceiver(answer: (request: Request, before: readonly Received[]) => number) {
  const received: Received[] = [];
  const to = (path: string) => received.filter((r) => r.path === path);
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const request = { path: req.url ?? '/', headers: req.headers, body };
      const answered = answer(request, received);
      received.push({ ...request, answered });
      res.writeHead(answered, { 'content-type': 'text/plain' });
      res.end(String(answered));
    });
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    /** Every request so far, in order. */
    received,
    /** The requests to `path` so far. */
    to,
    /** http://127.0.0.1:<port>, once listening. */
    get url() {
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
  };
}
